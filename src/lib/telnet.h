/*
 * The telnet protocol layer (RFC 854/855) of the survey's login prober.
 *
 * It turns a server's byte stream into the data a terminal would show
 * (commands removed, IAC IAC → one 0xff byte, CR NUL → CR) and produces the
 * negotiation replies CONTRACT.md allows: DO for the server's WILL ECHO and
 * WILL SGA, WILL NAWS plus an 80×24 window size when the server says DO
 * NAWS, and a refusal (DONT / WONT) for every other option. It never starts
 * a negotiation.
 *
 * Incremental, allocation-free and socket-free: the caller feeds any chunk
 * of bytes and gets data and replies in buffers it owns, so the parser can
 * be unit-tested with recorded streams and fuzzed in arbitrary chunkings
 * with the same result.
 */
#ifndef KZ_TELNET_H
#define KZ_TELNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Commands (RFC 854; EOF, SUSP, ABORT from RFC 1184; EOR from RFC 885). */
enum kz_telnet_cmd {
	KZ_TELNET_EOF = 236,
	KZ_TELNET_EOR = 239,
	KZ_TELNET_SE = 240,
	KZ_TELNET_NOP = 241,
	KZ_TELNET_DM = 242,
	KZ_TELNET_GA = 249,
	KZ_TELNET_SB = 250,
	KZ_TELNET_WILL = 251,
	KZ_TELNET_WONT = 252,
	KZ_TELNET_DO = 253,
	KZ_TELNET_DONT = 254,
	KZ_TELNET_IAC = 255,
};

/* The options this layer names; every other option is refused. */
enum kz_telnet_opt {
	KZ_TELOPT_BINARY = 0,
	KZ_TELOPT_ECHO = 1,
	KZ_TELOPT_SGA = 3,
	KZ_TELOPT_STATUS = 5,
	KZ_TELOPT_TTYPE = 24,
	KZ_TELOPT_NAWS = 31,
	KZ_TELOPT_TSPEED = 32,
	KZ_TELOPT_LFLOW = 33,
	KZ_TELOPT_LINEMODE = 34,
	KZ_TELOPT_XDISPLOC = 35,
	KZ_TELOPT_NEW_ENVIRON = 39,
};

/* The longest reply one server command can cause: WILL NAWS (3 bytes) and
 * IAC SB NAWS 0 80 0 24 IAC SE (9 bytes). */
#define KZ_TELNET_REPLY_MAX 12

/* Replies per connection; past this a server's negotiation is ignored (and
 * counted), so an option flood cannot make us talk without end. */
#define KZ_TELNET_MAX_REPLIES 64

/* Longest subnegotiation we follow; a longer one is abandoned (counted) and
 * the bytes after the cap are read as data again. We never need the
 * content of a server's subnegotiation: we agree to no option that has one. */
#define KZ_TELNET_SB_MAX 256

/* Parser and option state of one connection. Caller-allocated; the fields
 * are read-only for the caller (the counters are there for diagnostics and
 * for telling telnet from other protocols). */
struct kz_telnet {
	uint8_t state;
	uint8_t verb;    /* WILL/WONT/DO/DONT awaiting its option byte */
	uint8_t sb_opt;  /* option of the subnegotiation being skipped */
	bool cr;         /* the last data byte was CR: a NUL after it is dropped */
	uint16_t sb_len; /* bytes of the current subnegotiation so far */
	uint16_t replies;
	/* RFC 1143 option state, one bit per option: enabled on the server's
	 * side (we said DO), enabled on ours (we said WILL), and "our last
	 * answer to this request was a refusal", so that a request repeated
	 * with nothing in between is not refused twice in a row. */
	uint8_t him[32], us[32], him_refused[32], us_refused[32];
	uint32_t commands;        /* well-formed commands and subnegotiations */
	uint32_t bad_commands;    /* IAC followed by a byte that is no command */
	uint32_t sb_overflows;    /* subnegotiations longer than KZ_TELNET_SB_MAX */
	uint32_t replies_dropped; /* requests ignored past KZ_TELNET_MAX_REPLIES */
};

/* Where kz_telnet_feed() puts its output: data for the terminal and replies
 * for the server. Caller-owned buffers; *_len grow, *_cap never change. */
struct kz_telnet_out {
	uint8_t *data;
	size_t data_cap;
	size_t data_len;
	uint8_t *reply;
	size_t reply_cap;
	size_t reply_len;
};

/* Starts a connection: every option off, parser in data state. */
void kz_telnet_init(struct kz_telnet *t);

/* Parses up to len bytes from the server and returns how many it consumed.
 * It stops early only when out->data is full or out->reply has less than
 * KZ_TELNET_REPLY_MAX bytes free; the caller then makes room and feeds the
 * rest. Any split of a stream into chunks gives the same output. */
size_t kz_telnet_feed(struct kz_telnet *t, const uint8_t *in, size_t len,
                      struct kz_telnet_out *out);

/* Escapes bytes for sending as telnet data: 0xff is doubled and CR becomes
 * CR NUL (RFC 854), so a credential reaches the server's line as it is.
 * Writes into out (cap bytes); returns 0 and the length, or -ENOSPC. */
int kz_telnet_escape(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
        __attribute__((warn_unused_result));

/* True when the server has an option enabled (we agreed with DO). */
bool kz_telnet_server_has(const struct kz_telnet *t, uint8_t opt);

/* True when we have an option enabled (we agreed with WILL). */
bool kz_telnet_client_has(const struct kz_telnet *t, uint8_t opt);

#endif
