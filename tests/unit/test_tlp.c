/*
 * TLP 2.0 labels: names, the IntelMQ mapping that is never looser, the STIX
 * marking ids (REFERENCE.md), parsing as people write labels and as record
 * fields must hold them, and "most restrictive of two".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tlp.h"

static void test_tlp_names_and_mapping(void **state)
{
	(void)state;
	assert_string_equal(kz_tlp_name(KZ_TLP_CLEAR), "CLEAR");
	assert_string_equal(kz_tlp_name(KZ_TLP_AMBER_STRICT), "AMBER+STRICT");
	assert_string_equal(kz_tlp_name(KZ_TLP_UNSET), "");
	assert_string_equal(kz_tlp_name((enum kz_tlp)42), "");
	/* Never looser: CLEAR -> WHITE, AMBER+STRICT -> RED. */
	assert_string_equal(kz_tlp_intelmq(KZ_TLP_CLEAR), "WHITE");
	assert_string_equal(kz_tlp_intelmq(KZ_TLP_GREEN), "GREEN");
	assert_string_equal(kz_tlp_intelmq(KZ_TLP_AMBER), "AMBER");
	assert_string_equal(kz_tlp_intelmq(KZ_TLP_AMBER_STRICT), "RED");
	assert_string_equal(kz_tlp_intelmq(KZ_TLP_RED), "RED");
	/* The OASIS TLP 2.0 marking definitions (REFERENCE.md). */
	assert_string_equal(kz_tlp_stix_marking(KZ_TLP_CLEAR),
	                    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487");
	assert_string_equal(kz_tlp_stix_marking(KZ_TLP_AMBER_STRICT),
	                    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003");
	assert_string_equal(kz_tlp_stix_marking(KZ_TLP_RED),
	                    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1");
}

static void test_tlp_parse(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		enum kz_tlp want;
	} ok[] = {
		{ "CLEAR", KZ_TLP_CLEAR },
		{ "clear", KZ_TLP_CLEAR },
		{ "TLP:CLEAR", KZ_TLP_CLEAR },
		{ "tlp:white", KZ_TLP_CLEAR },
		{ "WHITE", KZ_TLP_CLEAR },
		{ "Green", KZ_TLP_GREEN },
		{ "AMBER", KZ_TLP_AMBER },
		{ "TLP:AMBER+STRICT", KZ_TLP_AMBER_STRICT },
		{ "amber+strict", KZ_TLP_AMBER_STRICT },
		{ "RED", KZ_TLP_RED },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		enum kz_tlp t = KZ_TLP_UNSET;
		assert_int_equal(kz_tlp_parse(ok[i].in, &t), 0);
		assert_int_equal(t, ok[i].want);
	}
	static const char *const bad[] = { "",       "TLP:", "AMBER STRICT", "AMBER+",
		                           "YELLOW", "REDD", " RED",         "TLP: RED" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum kz_tlp t;
		assert_int_equal(kz_tlp_parse(bad[i], &t), -EINVAL);
	}
	/* The record fields are exact. */
	enum kz_tlp t;
	assert_int_equal(kz_tlp_parse_intelmq("WHITE", &t), 0);
	assert_int_equal(t, KZ_TLP_CLEAR);
	assert_int_equal(kz_tlp_parse_intelmq("white", &t), -EINVAL);
	assert_int_equal(kz_tlp_parse_intelmq("CLEAR", &t), -EINVAL);
	assert_int_equal(kz_tlp_parse_intelmq("AMBER+STRICT", &t), -EINVAL);
	assert_int_equal(kz_tlp_parse_canonical("AMBER+STRICT", &t), 0);
	assert_int_equal(t, KZ_TLP_AMBER_STRICT);
	assert_int_equal(kz_tlp_parse_canonical("WHITE", &t), -EINVAL);
	assert_int_equal(kz_tlp_parse_canonical("TLP:RED", &t), -EINVAL);
	assert_int_equal(kz_tlp_parse_canonical("", &t), -EINVAL);
}

static void test_tlp_most_restrictive(void **state)
{
	(void)state;
	static const enum kz_tlp order[] = { KZ_TLP_UNSET, KZ_TLP_CLEAR,        KZ_TLP_GREEN,
		                             KZ_TLP_AMBER, KZ_TLP_AMBER_STRICT, KZ_TLP_RED };
	for (size_t i = 0; i < 6; i++)
		for (size_t j = 0; j < 6; j++)
			assert_int_equal(kz_tlp_most_restrictive(order[i], order[j]),
			                 order[i > j ? i : j]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlp_names_and_mapping),
		cmocka_unit_test(test_tlp_parse),
		cmocka_unit_test(test_tlp_most_restrictive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
