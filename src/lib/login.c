/*
 * Names of the login statuses, exactly as CONTRACT.md's survey table
 * writes them in extra.status: users' scripts match these strings.
 */
#include "login.h"

const char *kz_login_status_name(enum kz_login_status status, enum kz_login_app app)
{
	static const char *const other[] = {
		[KZ_LOGIN_APP_TELNET] = "not-telnet",
		[KZ_LOGIN_APP_SSH] = "not-ssh",
		[KZ_LOGIN_APP_HTTP] = "not-http",
	};
	switch (status) {
	case KZ_LOGIN_PENDING:
		return "pending";
	case KZ_LOGIN_POSSIBLE:
		return "login-possible";
	case KZ_LOGIN_NO_AUTH:
		return "no-auth";
	case KZ_LOGIN_FAILED:
		return "login-failed";
	case KZ_LOGIN_ACCEPTS_ANY:
		return "accepts-any";
	case KZ_LOGIN_NO_PROMPT:
		return "no-login-prompt";
	case KZ_LOGIN_OTHER_PROTOCOL:
		return (unsigned)app < sizeof other / sizeof other[0] ? other[app] : "not-telnet";
	case KZ_LOGIN_TIMEOUT:
		return "timeout";
	case KZ_LOGIN_ERROR:
		return "error";
	}
	return "error";
}
