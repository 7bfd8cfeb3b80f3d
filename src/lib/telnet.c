/*
 * Telnet protocol layer: a byte-at-a-time state machine over the server's
 * stream.
 *
 * Written by hand (STYLE.md: "the telnet state machine") because the
 * libraries that exist (libtelnet and the like) are callback-driven,
 * allocate for subnegotiations and negotiate more than CONTRACT.md allows;
 * the prober needs a fixed, auditable reply policy and a parser it can feed
 * from a fuzzer.
 *
 * Invariants:
 * - every input byte is looked at once, and the state between calls is the
 *   whole parser state, so chunking never changes the output;
 * - a reply is only ever one of: DO ECHO, DO SGA, WILL NAWS + SB NAWS 80×24,
 *   DONT x, WONT x (and only in answer to a server command);
 * - at most KZ_TELNET_MAX_REPLIES replies per connection; a refusal is not
 *   repeated for a request repeated with nothing in between (RFC 1143's aim:
 *   no negotiation loops), and a request that changes nothing (WILL for an
 *   option already on) is not answered at all.
 */
#include "telnet.h"

#include <errno.h>
#include <string.h>

enum parse_state {
	ST_DATA = 0,
	ST_IAC,    /* after IAC */
	ST_OPT,    /* after IAC WILL/WONT/DO/DONT */
	ST_SB_OPT, /* after IAC SB */
	ST_SB,     /* inside a subnegotiation */
	ST_SB_IAC, /* IAC inside a subnegotiation */
};

/* NAWS 80 columns × 24 rows (RFC 1073); neither byte is 0xff, so no
 * doubling is needed. */
static const uint8_t naws_reply[KZ_TELNET_REPLY_MAX] = {
	KZ_TELNET_IAC,
	KZ_TELNET_WILL,
	KZ_TELOPT_NAWS,
	KZ_TELNET_IAC,
	KZ_TELNET_SB,
	KZ_TELOPT_NAWS,
	0,
	80,
	0,
	24,
	KZ_TELNET_IAC,
	KZ_TELNET_SE,
};

static bool bit_get(const uint8_t *set, uint8_t opt)
{
	return set[opt >> 3] & (1u << (opt & 7));
}

static void bit_set(uint8_t *set, uint8_t opt, bool on)
{
	if (on)
		set[opt >> 3] = (uint8_t)(set[opt >> 3] | (1u << (opt & 7)));
	else
		set[opt >> 3] = (uint8_t)(set[opt >> 3] & ~(1u << (opt & 7)));
}

void kz_telnet_init(struct kz_telnet *t)
{
	memset(t, 0, sizeof *t);
	t->state = ST_DATA;
}

bool kz_telnet_server_has(const struct kz_telnet *t, uint8_t opt)
{
	return bit_get(t->him, opt);
}

bool kz_telnet_client_has(const struct kz_telnet *t, uint8_t opt)
{
	return bit_get(t->us, opt);
}

/* Room for KZ_TELNET_REPLY_MAX bytes is guaranteed by kz_telnet_feed(). */
static void reply3(struct kz_telnet_out *out, uint8_t verb, uint8_t opt)
{
	out->reply[out->reply_len++] = KZ_TELNET_IAC;
	out->reply[out->reply_len++] = verb;
	out->reply[out->reply_len++] = opt;
}

/* One of the server's WILL/WONT/DO/DONT. The answer depends only on the
 * option's state, so the same stream always gets the same answers. */
static void negotiate(struct kz_telnet *t, uint8_t verb, uint8_t opt, struct kz_telnet_out *out)
{
	t->commands++;
	if (t->replies >= KZ_TELNET_MAX_REPLIES) {
		/* State is left alone too, so that what we believe stays what we
		 * told the server. */
		t->replies_dropped++;
		return;
	}
	size_t before = out->reply_len;
	switch (verb) {
	case KZ_TELNET_WILL:
		if (bit_get(t->him, opt))
			break;
		if (opt == KZ_TELOPT_ECHO || opt == KZ_TELOPT_SGA) {
			bit_set(t->him, opt, true);
			bit_set(t->him_refused, opt, false);
			reply3(out, KZ_TELNET_DO, opt);
		} else if (!bit_get(t->him_refused, opt)) {
			bit_set(t->him_refused, opt, true);
			reply3(out, KZ_TELNET_DONT, opt);
		}
		break;
	case KZ_TELNET_WONT:
		if (bit_get(t->him, opt)) {
			/* RFC 854: a switch-off is acknowledged. */
			bit_set(t->him, opt, false);
			reply3(out, KZ_TELNET_DONT, opt);
		}
		/* The server has closed this exchange, so a later WILL is a new
		 * request that deserves an answer. */
		bit_set(t->him_refused, opt, false);
		break;
	case KZ_TELNET_DO:
		if (bit_get(t->us, opt))
			break;
		if (opt == KZ_TELOPT_NAWS) {
			bit_set(t->us, opt, true);
			bit_set(t->us_refused, opt, false);
			memcpy(out->reply + out->reply_len, naws_reply, sizeof naws_reply);
			out->reply_len += sizeof naws_reply;
		} else if (!bit_get(t->us_refused, opt)) {
			bit_set(t->us_refused, opt, true);
			reply3(out, KZ_TELNET_WONT, opt);
		}
		break;
	case KZ_TELNET_DONT:
		if (bit_get(t->us, opt)) {
			bit_set(t->us, opt, false);
			reply3(out, KZ_TELNET_WONT, opt);
		}
		bit_set(t->us_refused, opt, false);
		break;
	default:
		break;
	}
	if (out->reply_len != before)
		t->replies++;
}

static void emit(struct kz_telnet *t, struct kz_telnet_out *out, uint8_t b)
{
	out->data[out->data_len++] = b;
	t->cr = (b == '\r');
}

size_t kz_telnet_feed(struct kz_telnet *t, const uint8_t *in, size_t len, struct kz_telnet_out *out)
{
	size_t i = 0;
	while (i < len) {
		if (out->data_len >= out->data_cap ||
		    out->reply_cap - out->reply_len < KZ_TELNET_REPLY_MAX)
			break;
		uint8_t b = in[i++];
		switch (t->state) {
		case ST_DATA:
			if (b == KZ_TELNET_IAC) {
				t->state = ST_IAC;
			} else if (b == 0 && t->cr) {
				/* CR NUL is a bare carriage return (RFC 854). */
				t->cr = false;
			} else {
				emit(t, out, b);
			}
			break;
		case ST_IAC:
			t->state = ST_DATA;
			if (b == KZ_TELNET_IAC) {
				emit(t, out, b);
			} else if (b >= KZ_TELNET_WILL) {
				t->verb = b;
				t->state = ST_OPT;
			} else if (b == KZ_TELNET_SB) {
				t->state = ST_SB_OPT;
			} else if (b >= KZ_TELNET_EOF) {
				/* NOP, GA, DM, AYT, a stray SE...: nothing for us to do. */
				t->commands++;
			} else {
				/* Not a command: both bytes are dropped. Counted, because
				 * a stream full of these is not telnet. */
				t->bad_commands++;
			}
			break;
		case ST_OPT:
			negotiate(t, t->verb, b, out);
			t->state = ST_DATA;
			break;
		case ST_SB_OPT:
			t->sb_opt = b;
			t->sb_len = 0;
			t->state = ST_SB;
			break;
		case ST_SB:
			if (b == KZ_TELNET_IAC) {
				t->state = ST_SB_IAC;
			} else if (++t->sb_len > KZ_TELNET_SB_MAX) {
				t->sb_overflows++;
				t->state = ST_DATA;
			}
			break;
		case ST_SB_IAC:
			if (b == KZ_TELNET_SE) {
				t->commands++;
				t->state = ST_DATA;
			} else if (b == KZ_TELNET_IAC) {
				t->state = ST_SB;
				if (++t->sb_len > KZ_TELNET_SB_MAX) {
					t->sb_overflows++;
					t->state = ST_DATA;
				}
			} else {
				/* IAC <command> inside a subnegotiation: the server never
				 * sent SE. End the subnegotiation and read this byte as
				 * the command it is, as BSD telnet does. */
				t->commands++;
				t->state = ST_IAC;
				i--;
			}
			break;
		default:
			t->state = ST_DATA;
			break;
		}
	}
	return i;
}

int kz_telnet_escape(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		size_t need = (in[i] == KZ_TELNET_IAC || in[i] == '\r') ? 2 : 1;
		if (cap - n < need)
			return -ENOSPC;
		out[n++] = in[i];
		if (in[i] == KZ_TELNET_IAC)
			out[n++] = KZ_TELNET_IAC;
		else if (in[i] == '\r')
			out[n++] = 0;
	}
	*out_len = n;
	return 0;
}
