/*
 * The devices of docs/devsim-spec.md: styles (section 5) and behaviours
 * (section 6) as per-connection scripts.
 *
 * A connection holds a queue of timed output operations (send these bytes
 * N ms after the previous operation finished, switch state, close). This
 * file only fills the queue: on accept (dsim_conn_start), when the device
 * reads a line or a state's deadline passes (dsim_conn_advance, called by
 * main.c whenever the queue has drained). main.c carries the operations
 * out on the socket, so every delay of the spec is a timer in the epoll
 * loop and no thread ever sleeps.
 *
 * Input is read as a terminal line discipline behind a telnet server
 * would (section 2): telnet commands are consumed (and checked against
 * what the prober may send: anything else counts as a violation), `ff ff`
 * is one data byte, a line ends at CR LF, CR NUL, CR or LF. The device
 * reads a line only when its output queue is empty and it waits for one,
 * as login reads its terminal only after printing the prompt; lines typed
 * ahead wait (up to four).
 *
 * Strings are the spec's bytes exactly; where the spec's transcripts give
 * a timing, that timing is used; where they do not, 10 ms stands for
 * "at once" (section 3's envelope is respected either way).
 */
#include <string.h>

#include "devsim.h"

/* Bytes with an explicit length: several strings hold NUL (CR NUL). */
struct txt {
	const char *p;
	uint16_t n;
};
#define T(s)                                                                                       \
	{                                                                                          \
		(s), (uint16_t)(sizeof(s) - 1)                                                     \
	}
#define NOTXT                                                                                      \
	{                                                                                          \
		NULL, 0                                                                            \
	}

struct style {
	struct txt opening;
	struct txt first_prompt; /* username prompt after the opening; none: password-only */
	struct txt again_prompt; /* username prompt after a failure */
	struct txt pass_prompt;
	struct txt fail_text;
	struct txt final_text; /* after the last failure, before the close */
	struct txt shell;
	uint16_t first_ms, pass_ms, fail_ms, shell_ms;
	bool no_pass_newline; /* S13 prints nothing between the password and the result */
};

#define BB_OPEN_OLD "\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03"
#define BB_OPEN_NEW "\xff\xfb\x01\xff\xfb\x03\xff\xfd\x1f"
#define WILL_EG     "\xff\xfb\x01\xff\xfb\x03"
#define S14_DOS     "\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27"
#define S02_SHELL   "\r\n\r\nBusyBox v1.36.1 () built-in shell (ash)\r\n\r\nroot@OpenWrt:~# "

static const struct style styles[DSIM_NSTYLES] = {
	[1] = { T(BB_OPEN_OLD), T("\r\n(none) login: "), T("(none) login: "), T("Password: "),
	        T("Login incorrect\r\n"), NOTXT,
	        T("\r\n\r\nBusyBox v1.19.4 (2014-03-12 10:30:17 CST) built-in shell (ash)\r\n"
	          "Enter 'help' for a list of built-in commands.\r\n\r\n~ # "),
	        10, 50, 3000, 200, false },
	[2] = { T(BB_OPEN_NEW), T("\r\nOpenWrt login: "), T("\r\nOpenWrt login: "), T("Password: "),
	        T("Login incorrect\r\n"), NOTXT, T(S02_SHELL), 10, 50, 3000, 200, false },
	[3] = { T(BB_OPEN_OLD), T("\r\ndvrdvs login: "), T("dvrdvs login: "), T("Password: "),
	        T("Login incorrect\r\n"), NOTXT,
	        T("\r\n\r\nBusyBox v1.19.3 (2015-06-11 15:49:58 CST) built-in shell (ash)\r\n"
	          "Enter 'help' for a list of built-in commands.\r\n\r\n[root@dvrdvs /] # "),
	        10, 50, 3000, 200, false },
	[4] = { T(BB_OPEN_OLD), T("\r\nLogin: "), T("\r\n(none) login: "), T("Password: "),
	        T("\r\nLogin incorrect\r\n"), NOTXT, T("\r\n~ # "), 10, 50, 1000, 200, false },
	[5] = { T(WILL_EG), T("\r\nLogin: "), T("\r\nLogin: "), T("\r\nPassword: "),
	        T("\r\nLogin incorrect\r\n"), NOTXT, T("\r\n/ # "), 10, 10, 2000, 200, false },
	[6] = { T(WILL_EG), T("\r\nLogin:"), T("\r\nLogin:"), T("\r\nPassword:"),
	        T("\r\nUsername or password error!\r\n"), NOTXT, T("\r\nWAP>"), 10, 10, 1000, 200,
	        false },
	[7] = { T(WILL_EG), T("\r\n\r\nLogin authentication\r\n\r\n\r\nUsername:"),
	        T("\r\nUsername:"), T("\r\nPassword:"),
	        T("\r\nError: Local authentication is rejected.\r\n"), NOTXT,
	        T("\r\n\r\nInfo: The max number of VTY users is 5, and the number\r\n"
	          "      of current VTY users on line is 1.\r\n<HUAWEI>"),
	        10, 10, 1000, 200, false },
	[8] = { T(WILL_EG "\xff\xfd\x18\xff\xfd\x1f"),
	        T("\r\n\r\nUser Access Verification\r\n\r\nUsername: "), T("Username: "),
	        T("Password: "), T("\r\n% Login invalid\r\n\r\n"), T("% Bad passwords\r\n"),
	        T("\r\nRouter>"), 20, 10, 2000, 100, false },
	[9] = { T("\xff\xfd\x18\xff\xfd\x1f" WILL_EG), T("Login: "), T("Login: "), T("Password: "),
	        T("\r\nLogin failed, incorrect username or password\r\n\r\n"), NOTXT,
	        T("\r\n\r\n  MMM      MMM       KKK                          TTTTTTTTTTT      "
	          "KKK\r\n"
	          "  MMMM    MMMM       KKK                          TTTTTTTTTTT      KKK\r\n\r\n"
	          "  MikroTik RouterOS 6.49 (c) 1999-2021       http://www.mikrotik.com/\r\n\r\n"
	          "[admin@MikroTik] > "),
	        10, 10, 1000, 200, false },
	[10] = { T(WILL_EG), T("login as: "), T("login as: "), T("Password: "),
	         T("Access denied\r\n"), NOTXT, T("\r\n$ "), 10, 10, 1000, 200, false },
	[11] = { T(WILL_EG), T("\r\nUser Name:"), T("\r\nUser Name:"), T("\r\nPassword:"),
	         T("\r\n\r\n% Authentication failed\r\n"), NOTXT, T("\r\n\r\nswitch# "), 10, 10,
	         1000, 200, false },
	[12] = { T(WILL_EG), T("\r\n\r\nUserName:"), T("\r\n\r\nUserName:"), T("PassWord:"),
	         T("\r\n Fail!\r\n"), NOTXT, T("\r\n\r\nDES-3028:admin#"), 10, 10, 1000, 100,
	         false },
	[13] = { NOTXT, NOTXT, NOTXT, T("\r\nPassword: "), NOTXT, NOTXT, T("\r\n\r\nras> "), 0, 0,
	         1000, 300, true },
	[14] = { T(S14_DOS), T("Debian GNU/Linux 12\r\nhost login: "), T("host login: "),
	         T("Password: "), T("\r\nLogin incorrect\r\n"), NOTXT,
	         T("\r\nLast login: Tue Nov 26 10:01:02 UTC 2024 from 198.51.100.7 on pts/0\r\n"
	           "[admin@host ~]$ "),
	         10, 10, 3000, 200, false },
	[15] = { T(WILL_EG), T("\r\nUser: "), T("\r\nUser: "), T("Password: "),
	         T("\r\nBad password\r\n"), NOTXT, T("\r\nRouterOS> "), 10, 10, 1000, 200, false },
	[16] = { T(BB_OPEN_NEW), NOTXT, NOTXT, NOTXT, NOTXT, NOTXT, T(S02_SHELL "\r\n"), 50, 0, 0,
	         0, false },
};

/* B18's banner: S16 prints its shell banner and prompt at once. */
static const char b18_text[] = "\r\n\r\nBusyBox v1.36.1 () built-in shell (ash)\r\n\r\n"
                               "  _______                     ________        __\r\n"
                               " |       |.-----.-----.-----.|  |  |  |.----.|  |_\r\n"
                               " |   -   ||  _  |  -__|     ||  |  |  ||   _||   _|\r\n"
                               " |_______||   __|_____|__|__||________||__|  |____|\r\n"
                               "          |__| W I R E L E S S   F R E E D O M\r\n"
                               " -----------------------------------------------------\r\n"
                               "root@OpenWrt:/# ";

static const char b09_banner[] = "\r\n##########################################\r\n"
                                 "#  Welcome to the device management port  #\r\n"
                                 "#  Unauthorized access is prohibited!     #\r\n"
                                 "##########################################\r\n"
                                 "% Authorized users only >\r\n"
                                 "Type 'help' at the # prompt or use the $ menu\r\n"
                                 "-->\r\n"
                                 "admin@device# \r\n"
                                 "#";

static const char b07_banner[] = "\r\n\xff\xff\xff\xff Gr\xe4t \xff\xff v2\r\n";
static const char b07_prompt[] = "\xff\xff(none) login: ";
static const char press_return[] = "\r\n\r\nPress RETURN to get started.\r\n";
static const char welcome[] = "\r\nWelcome\r\n";

static const char b05_batch2[] = "\xff\xfb\x01\xff\xfb\x03\xff\xfd\x1f\xff\xfd\x22\xff\xfb\x05"
                                 "\xff\xfd\x21\xff\xfb\x01\xff\xfd\x1f";

static const uint8_t b23_frame[] = { 0x00, 0x00, 0x00, 0x1c, 0x01, 0x02, 0x00, 0x00, 0xa5, 0x5a,
	                             0x10, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
	                             0x00, 0x00, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x01 };
static const uint8_t tls_alert[] = { 0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x32 };
static const char http_400[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n"
                               "Connection: close\r\n\r\n<html><body>400 Bad Request</body></html>";
static const char ssh_banner[] = "SSH-2.0-dropbear_2020.81\r\n";
static const char drip_text[] = "Please wait...";
static const char timed_out[] = "\r\nLogin timed out after 60 seconds\r\n";

enum {
	IDLE_MS = 60000, /* busybox login's TIMEOUT */
	NEG1_MS = 5000,  /* S14: wait for the answers to its first DOs */
	NEG2_MS = 1000,  /* B05: the second batch */
	DRIP_MS = 2000,  /* B20 */
	FRAME_MS = 1000, /* B23a */
	SSH_CLOSE_MS = 10000,
	BANNER_100K = 100 * 1024,
	BANNER_1M = 1024 * 1024,
	FLOOD_CMDS = 5000, /* B06 */
};

/* Telnet bytes and options. */
enum {
	IAC = 255,
	DONT = 254,
	DO = 253,
	WONT = 252,
	WILL = 251,
	SB = 250,
	SE = 240,
	O_ECHO = 1,
	O_SGA = 3,
	O_STATUS = 5,
	O_TTYPE = 24,
	O_NAWS = 31,
	O_TSPEED = 32,
	O_LFLOW = 33,
	O_LINEMODE = 34,
	O_XDISPLOC = 35,
	O_ENVIRON = 39,
};
enum { TN_DATA = 0, TN_IAC, TN_VERB, TN_SB, TN_SB_IAC };

static bool bit(const uint8_t *set, unsigned o)
{
	return set[o >> 3] & (1u << (o & 7));
}

static void set_bit(uint8_t *set, unsigned o)
{
	set[o >> 3] = (uint8_t)(set[o >> 3] | (1u << (o & 7)));
}

uint32_t dsim_conn_rand(struct dsim_conn *c, uint32_t bound)
{
	c->rng = dsim_mix(c->rng);
	return bound ? (uint32_t)(c->rng % bound) : 0;
}

static void note_offers(struct dsim_conn *c, const uint8_t *p, size_t n);

/* --- the output queue -------------------------------------------------- */

static struct dsim_op *push(struct dsim_conn *c, uint8_t kind, uint32_t delay)
{
	if (c->qlen == DSIM_QCAP)
		return NULL; /* cannot happen with the scripts below; dropping beats overflowing */
	struct dsim_op *op = &c->q[(c->qhead + c->qlen) % DSIM_QCAP];
	memset(op, 0, sizeof *op);
	op->kind = kind;
	op->delay = delay;
	c->qlen++;
	return op;
}

/* Queue borrowed bytes (static text). */
static void say(struct dsim_conn *c, uint32_t delay, const void *p, size_t n)
{
	if (n == 0)
		return;
	struct dsim_op *op = push(c, DSIM_OP_BYTES, delay);
	if (op) {
		op->p = p;
		op->len = (uint32_t)n;
	}
}

static void say_txt(struct dsim_conn *c, uint32_t delay, struct txt t)
{
	say(c, delay, t.p, t.n);
}

/* Queue a copy of bytes (they live in the connection's arena until the
 * queue drains). */
static void say_copy(struct dsim_conn *c, uint32_t delay, const void *p, size_t n, uint8_t step)
{
	if (n == 0 || c->arena_used + n > sizeof c->arena)
		return;
	uint8_t *dst = c->arena + c->arena_used;
	memcpy(dst, p, n);
	c->arena_used = (uint16_t)(c->arena_used + n);
	struct dsim_op *op = push(c, DSIM_OP_BYTES, delay);
	if (op) {
		op->p = dst;
		op->len = (uint32_t)n;
		op->step_ms = step;
	}
}

static void gen(struct dsim_conn *c, uint32_t delay, unsigned g, uint32_t len)
{
	struct dsim_op *op = push(c, DSIM_OP_GEN, delay);
	if (op) {
		op->gen = (uint8_t)g;
		op->gen_end = len;
	}
}

static void to_state(struct dsim_conn *c, uint32_t delay, unsigned st)
{
	struct dsim_op *op = push(c, DSIM_OP_STATE, delay);
	if (op)
		op->state = (uint8_t)st;
}

static void hang_up(struct dsim_conn *c, uint32_t delay)
{
	push(c, DSIM_OP_CLOSE, delay);
}

void dsim_queue_bytes(struct dsim_conn *c, uint32_t delay, const void *p, size_t n)
{
	say(c, delay, p, n);
}

void dsim_queue_copy(struct dsim_conn *c, uint32_t delay, const void *p, size_t n)
{
	say_copy(c, delay, p, n, 0);
}

void dsim_queue_close(struct dsim_conn *c, uint32_t delay)
{
	hang_up(c, delay);
}

/* --- generated streams --------------------------------------------------- */

/* B06: 24 blocks of 208 three-byte negotiation commands followed by one
 * two-byte IAC NOP or IAC GA (alternating), then the last 8 commands:
 * 5,000 commands and 12 NOPs and 12 GAs. */
enum { FLOOD_BLOCK_CMDS = 208, FLOOD_BLOCK = FLOOD_BLOCK_CMDS * 3 + 2, FLOOD_BLOCKS = 24 };
#define FLOOD_LEN (FLOOD_BLOCKS * FLOOD_BLOCK + (FLOOD_CMDS - FLOOD_BLOCKS * FLOOD_BLOCK_CMDS) * 3)

static uint8_t flood_byte(const struct dsim_conn *c, uint32_t pos)
{
	uint32_t block = pos / FLOOD_BLOCK, off = pos % FLOOD_BLOCK, cmd;
	if (block < FLOOD_BLOCKS && off >= FLOOD_BLOCK_CMDS * 3) {
		if (off == FLOOD_BLOCK_CMDS * 3)
			return IAC;
		return block % 2 ? 0xf9 : 0xf1; /* GA : NOP */
	}
	if (block >= FLOOD_BLOCKS) {
		block = FLOOD_BLOCKS;
		off = pos - FLOOD_BLOCKS * FLOOD_BLOCK;
	}
	cmd = block * FLOOD_BLOCK_CMDS + off / 3;
	uint64_t h = dsim_mix(c->dev->seed ^ 0xf100dULL ^ cmd);
	switch (off % 3) {
	case 0:
		return IAC;
	case 1:
		return (uint8_t)(WILL + (h & 3)); /* WILL, WONT, DO or DONT */
	default:
		return (uint8_t)(h >> 8);
	}
}

size_t dsim_gen_bytes(const struct dsim_conn *c, unsigned g, uint32_t pos, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t p = pos + (uint32_t)i;
		if (g == DSIM_GEN_FLOOD) {
			out[i] = flood_byte(c, p);
		} else {
			/* 78 printable bytes, then CR LF: a text that changes per line. */
			uint32_t line = p / 80, col = p % 80;
			if (col == 78)
				out[i] = '\r';
			else if (col == 79)
				out[i] = '\n';
			else
				out[i] = (uint8_t)(' ' + 1 + (line * 7 + col) % 94);
		}
	}
	return n;
}

/* --- the scripts ----------------------------------------------------------- */

static const struct style *sty(const struct dsim_conn *c)
{
	return &styles[c->dev->style];
}

static unsigned beh(const struct dsim_conn *c)
{
	return c->dev->behaviour;
}

static bool password_only(const struct dsim_conn *c)
{
	return c->dev->style == 13;
}

/* B08 variants of S01 and S13: every line end CR NUL (or CR NUL LF). */
static const struct style b08_s01 = { T(BB_OPEN_OLD),
	                              T("\r\0(none) login: "),
	                              T("\r\0(none) login: "),
	                              T("\r\0Password: "),
	                              T("Login incorrect\r\0\n"),
	                              NOTXT,
	                              T("\r\0\n~ # "),
	                              10,
	                              50,
	                              3000,
	                              200,
	                              false };
static const struct style b08_s13 = {
	NOTXT, NOTXT, NOTXT, T("\r\0Password: "), NOTXT, NOTXT, T("\r\0\r\0ras> "), 0, 0,
	1000,  300,   true
};

/* The style as this behaviour shows it. */
static struct style effective(const struct dsim_conn *c)
{
	struct style s = *sty(c);
	switch (beh(c)) {
	case 2: /* slow */
		s.pass_ms = 1500;
		s.fail_ms = 3000;
		s.shell_ms = 2000;
		if (c->dev->style == 1)
			s.shell = (struct txt)T("\r\n~ # ");
		break;
	case 3: /* char-at-a-time, S02 */
		s.first_prompt = (struct txt)T("Router\r\0\r\0OpenWrt login: ");
		break;
	case 8:
		s = c->dev->style == 13 ? b08_s13 : b08_s01;
		break;
	case 11:
	case 27:
		s.fail_ms = 1000;
		break;
	case 13:
		s.fail_ms = 1000;
		s.fail_text = (struct txt)NOTXT;
		break;
	case 14:
		s.shell_ms = 5000;
		s.shell = c->dev->style == 1 ? (struct txt)T("\r\n~ # ") : s.shell;
		break;
	case 15:
		s.shell = c->dev->style == 1 ? (struct txt)T("\r\n~ # ")
		                             : (struct txt)T("\r\n[admin@host ~]$ ");
		break;
	case 16:
		s.shell = c->dev->style == 1 ? (struct txt)T("\r\n~ # ") : s.shell;
		break;
	case 25:
		s.fail_ms = 1000;
		break;
	case 29:
		s.first_prompt = (struct txt)T("\r\n\x1b[1;32m(none) login:\x1b[0m ");
		s.again_prompt = s.first_prompt;
		s.shell = (struct txt)T("\r\n\r\nBusyBox v1.36.1 () built-in shell (ash)\r\n\r\n"
		                        "\x1b[1;32mroot@OpenWrt\x1b[0m:\x1b[1;34m~\x1b[0m# ");
		break;
	default:
		break;
	}
	return s;
}

/* What comes before the shell prompt on a login, if anything. */
static struct txt motd(const struct dsim_conn *c)
{
	if (beh(c) == 14)
		return (struct txt)T("\r\nWelcome to DVR\r\nStorage: OK\r\n");
	if (beh(c) == 15)
		return (struct txt)T(
		        "\r\nWarning: 3 incorrect login attempts since your last login.\r\n"
		        "Last failed login: Tue Nov 26 09:58:11 UTC 2024, access denied\r\n");
	return (struct txt)NOTXT;
}

/* The username prompt (first: after the opening; else after a failure),
 * with B09's banner before it. */
static void prompt_user(struct dsim_conn *c, uint32_t delay, bool first)
{
	struct style s = effective(c);
	if (beh(c) == 9) {
		say(c, delay, b09_banner, sizeof b09_banner - 1);
		say_txt(c, 1000, s.first_prompt);
	} else if (first && beh(c) == 7) {
		say(c, delay, b07_banner, sizeof b07_banner - 1);
		say(c, 0, b07_prompt, sizeof b07_prompt - 1);
	} else if (first && beh(c) == 10) {
		gen(c, delay, DSIM_GEN_BANNER, c->dev->variant ? BANNER_1M : BANNER_100K);
		say_txt(c, 0, s.first_prompt);
	} else if (first && beh(c) == 2) {
		say(c, delay, welcome, sizeof welcome - 1);
		say_txt(c, 200, s.first_prompt);
	} else {
		say_txt(c, delay, first ? s.first_prompt : s.again_prompt);
	}
	to_state(c, 0, DSIM_ST_USER);
}

/* The first prompt of a connection, after the opening. */
static void first_prompt(struct dsim_conn *c, uint32_t delay)
{
	struct style s = effective(c);
	if (beh(c) == 24) {
		say(c, delay, press_return, sizeof press_return - 1);
		to_state(c, 0, DSIM_ST_RETURN);
	} else if (password_only(c)) {
		say_txt(c, delay, s.pass_prompt);
		to_state(c, 0, DSIM_ST_PASS);
	} else {
		prompt_user(c, beh(c) == 2 ? 200 : delay, true);
	}
}

void dsim_conn_start(struct dsim_conn *c, uint64_t now)
{
	const struct dsim_dev *d = c->dev;
	struct style s = effective(c);
	c->accepted_ms = c->last_in_ms = c->state_since = now;
	c->rng = dsim_mix(d->seed ^ ((uint64_t)d->connections << 32) ^ c->id);
	switch (d->behaviour) {
	case 18:
		say(c, 0, styles[16].opening.p, styles[16].opening.n);
		say(c, 50, b18_text, sizeof b18_text - 1);
		to_state(c, 0, DSIM_ST_SHELL);
		return;
	case 19:
		c->state = DSIM_ST_TARPIT;
		return;
	case 20:
		c->state = DSIM_ST_DRIP;
		return;
	case 21:
		say(c, 0, ssh_banner, sizeof ssh_banner - 1);
		to_state(c, 0, DSIM_ST_SSH);
		return;
	case 22:
		c->state = DSIM_ST_HTTP;
		return;
	case 23:
		c->state = d->variant ? DSIM_ST_TLS : DSIM_ST_BINFRAME;
		return;
	default:
		break;
	}
	uint32_t d0 = d->behaviour == 2 ? 2000 : 0;
	if (d->behaviour == 4) {
		first_prompt(c, 0);
		return;
	}
	if (d->behaviour == 6) {
		/* The flood offers options too: note them all up front (a
		 * command may straddle two generated chunks). */
		for (uint32_t k = 0; k < FLOOD_LEN; k++)
			if (flood_byte(c, k) == IAC && k + 2 < FLOOD_LEN &&
			    (flood_byte(c, k + 1) == WILL || flood_byte(c, k + 1) == DO)) {
				uint8_t cmd[3] = { IAC, flood_byte(c, k + 1),
					           flood_byte(c, k + 2) };
				note_offers(c, cmd, 3);
				k += 2;
			}
		gen(c, d0, DSIM_GEN_FLOOD, FLOOD_LEN);
	}
	if (d->style == 14) {
		/* netkit-style: the terminal-type DOs first, the rest after the
		 * answers (S14; B05 adds a second round). */
		say_txt(c, d0, s.opening);
		to_state(c, 0, DSIM_ST_NEG1);
		return;
	}
	say_txt(c, d0, s.opening);
	first_prompt(c, s.first_ms);
}

/* --- reading lines ------------------------------------------------------------ */

static bool control_user(const uint8_t *l, size_t n)
{
	if (n != 10)
		return false;
	for (size_t i = 0; i < n; i++)
		if (l[i] < 'a' || l[i] > 'z')
			return false;
	return true;
}

static bool control_pass(const uint8_t *l, size_t n)
{
	if (n != 14)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((l[i] >= 'a' && l[i] <= 'z') || (l[i] >= 'A' && l[i] <= 'Z') ||
		      (l[i] >= '0' && l[i] <= '9')))
			return false;
	return true;
}

static bool eq(const uint8_t *l, size_t n, const char *s, size_t sn)
{
	return n == sn && memcmp(l, s, n) == 0;
}

/* Is the line a user (or password) of the list? */
static bool listed(const struct dsim_creds *cr, const uint8_t *l, size_t n, bool pass)
{
	for (size_t i = 0; cr && i < cr->n; i++) {
		const char *s = pass ? cr->v[i].pass : cr->v[i].user;
		if (cr->v[i].telnet && eq(l, n, s, strlen(s)))
			return true;
	}
	return false;
}

/* The section 9 rule: a credential is a listed one or the control pair's. */
static void check_credential(struct dsim_conn *c, const uint8_t *l, size_t n, bool pass)
{
	if (!c->creds)
		return;
	if (listed(c->creds, l, n, pass))
		return;
	if (pass ? control_pass(l, n) : control_user(l, n)) {
		c->control = true;
		return;
	}
	c->dev->violations++;
}

/* The echo of a line the device read (a pty in cooked mode echoes the
 * characters and CR LF; B03's character mode echoes byte by byte). */
static void echo_line(struct dsim_conn *c, const uint8_t *l, size_t n, bool secret)
{
	if (beh(c) == 3) {
		uint8_t buf[DSIM_LINE_MAX + 2];
		for (size_t i = 0; i < n; i++)
			buf[i] = secret ? '*' : l[i];
		buf[n] = '\r';
		buf[n + 1] = '\n';
		say_copy(c, 5, buf, n + 2, 5);
		return;
	}
	if (secret) {
		if (!effective(c).no_pass_newline)
			say(c, 10, beh(c) == 8 ? "\r\0\n" : "\r\n", beh(c) == 8 ? 3 : 2);
		return;
	}
	uint8_t buf[DSIM_LINE_MAX + 3];
	memcpy(buf, l, n);
	size_t m = n;
	if (beh(c) == 8)
		buf[m++] = '\r', buf[m++] = '\0', buf[m++] = '\n';
	else
		buf[m++] = '\r', buf[m++] = '\n';
	say_copy(c, 10, buf, m, 0);
}

/* A login: the MOTD if any, then the shell prompt; from then on any data
 * byte from the client is a violation. */
static void login_ok(struct dsim_conn *c)
{
	struct style s = effective(c);
	struct txt m = motd(c);
	c->dev->logins++;
	if (m.n) {
		say_txt(c, s.shell_ms, m);
		say_txt(c, 0, s.shell);
	} else {
		say_txt(c, s.shell_ms, s.shell);
	}
	to_state(c, 0, DSIM_ST_SHELL);
}

/* A wrong pair: the style's failure, then a re-prompt or the close. */
static void login_failed(struct dsim_conn *c)
{
	struct style s = effective(c);
	unsigned b = beh(c);
	c->fails++;
	if (b == 12) {
		to_state(c, 0, DSIM_ST_SILENT);
		return;
	}
	if (b == 11 || b == 27) {
		say_txt(c, s.fail_ms, s.fail_text);
		hang_up(c, s.fail_text.n ? 0 : s.fail_ms);
		return;
	}
	uint32_t delay = s.fail_ms;
	if (s.fail_text.n) {
		say_txt(c, delay, s.fail_text);
		delay = 10;
	}
	if (c->fails >= 3) {
		say_txt(c, 0, s.final_text);
		hang_up(c, s.fail_text.n ? 0 : delay);
		return;
	}
	if (b == 25) {
		/* Same-user re-prompt: the password again, for the same user. */
		say_txt(c, 0, s.pass_prompt);
		to_state(c, 0, DSIM_ST_PASS);
	} else if (password_only(c)) {
		say_txt(c, delay, s.pass_prompt);
		to_state(c, 0, DSIM_ST_PASS);
	} else {
		prompt_user(c, delay, false);
	}
}

static bool accepts(const struct dsim_conn *c, const uint8_t *pass, size_t n)
{
	const struct dsim_dev *d = c->dev;
	switch (d->accept) {
	case DSIM_ACCEPT_ANY:
		return true;
	case DSIM_ACCEPT_PASS:
		return eq(pass, n, d->pass, d->pass_len);
	case DSIM_ACCEPT_USER_PASS:
		return eq((const uint8_t *)c->user, c->user_len, d->user, d->user_len) &&
		       eq(pass, n, d->pass, d->pass_len);
	default:
		return false;
	}
}

static void read_line(struct dsim_conn *c, const uint8_t *l, size_t n, bool too_long, uint64_t now)
{
	struct style s = effective(c);
	switch (c->state) {
	case DSIM_ST_RETURN:
		/* B24: any line (the nudge) brings the login prompt. */
		prompt_user(c, 10, true);
		return;
	case DSIM_ST_HTTP:
		say(c, 0, http_400, sizeof http_400 - 1);
		hang_up(c, 0);
		c->state = DSIM_ST_NONE;
		return;
	case DSIM_ST_USER:
		c->state = DSIM_ST_NONE;
		if (n == 0) {
			/* busybox login re-prints the prompt, ten times at most. */
			echo_line(c, l, 0, false);
			if (++c->empties >= 10) {
				hang_up(c, 0);
				return;
			}
			say_txt(c, 10, s.again_prompt.n ? s.again_prompt : s.first_prompt);
			to_state(c, 0, DSIM_ST_USER);
			return;
		}
		check_credential(c, l, n, false);
		memcpy(c->user, l, n);
		c->user_len = (uint8_t)(too_long ? 0 : n);
		c->asked_user = true;
		echo_line(c, l, n, false);
		if (c->dev->accept == DSIM_ACCEPT_USER && !too_long &&
		    eq(l, n, c->dev->user, c->dev->user_len)) {
			/* B26: an empty password field: no password asked. */
			c->dev->attempts++;
			login_ok(c);
			return;
		}
		say_txt(c, s.pass_ms, s.pass_prompt);
		to_state(c, 0, DSIM_ST_PASS);
		return;
	case DSIM_ST_PASS:
		c->state = DSIM_ST_NONE;
		check_credential(c, l, n, true);
		c->dev->attempts++;
		if (c->control)
			c->dev->control_attempts++;
		echo_line(c, l, n, true);
		if (!too_long && accepts(c, l, n))
			login_ok(c);
		else
			login_failed(c);
		c->control = false;
		return;
	default:
		(void)now;
		return;
	}
}

/* A complete line from the client. */
static void line_done(struct dsim_conn *c)
{
	if (c->state == DSIM_ST_SHELL || c->state == DSIM_ST_SILENT || c->state == DSIM_ST_TARPIT ||
	    c->state == DSIM_ST_DRIP || c->state == DSIM_ST_BINFRAME || c->state == DSIM_ST_SSH ||
	    c->state == DSIM_ST_TLS)
		goto out;
	if (c->npending < DSIM_PENDING_LINES) {
		uint8_t i = c->npending++;
		/* A line past 255 bytes is kept as a marker: it fails. */
		c->pend_len[i] = c->line_long ? DSIM_LINE_MAX + 1 : c->line_len;
		memcpy(c->pend[i], c->line, c->line_len);
	}
out:
	c->line_len = 0;
	c->line_long = false;
}

static void data_byte(struct dsim_conn *c, uint8_t ch)
{
	if (c->tn.cr) {
		c->tn.cr = false;
		if (ch == '\n' || ch == '\0')
			return; /* CR LF and CR NUL end one line */
	}
	if (ch == '\r' || ch == '\n') {
		c->tn.cr = ch == '\r';
		line_done(c);
		return;
	}
	if (c->line_len < DSIM_LINE_MAX)
		c->line[c->line_len++] = ch;
	else
		c->line_long = true;
}

/* A negotiation command from the client: record the answer and check it
 * against section 2 (DO ECHO / DO SGA only to the device's WILL, WILL NAWS
 * only to its DO, refusals always). */
static void client_verb(struct dsim_conn *c, uint8_t verb, uint8_t opt)
{
	struct dsim_telnet *t = &c->tn;
	bool ok = true;
	if (verb == DO || verb == DONT) {
		set_bit(t->answered_d, opt);
		if (opt == O_ECHO)
			c->echo_answers++;
		if (verb == DO)
			ok = (opt == O_ECHO || opt == O_SGA) && bit(t->offered_will, opt);
	} else {
		set_bit(t->answered_w, opt);
		if (verb == WILL) {
			ok = opt == O_NAWS && bit(t->offered_do, O_NAWS);
			t->naws_agreed |= ok;
		}
	}
	if (!ok)
		c->dev->violations++;
}

static void client_sb(struct dsim_conn *c)
{
	static const uint8_t naws[] = { O_NAWS, 0, 80, 0, 24 };
	struct dsim_telnet *t = &c->tn;
	if (!t->naws_agreed || t->sb_len != sizeof naws || memcmp(t->sb, naws, sizeof naws) != 0)
		c->dev->violations++;
}

static bool telnet_device(const struct dsim_conn *c)
{
	return c->dev->style != 0;
}

void dsim_conn_input(struct dsim_conn *c, const uint8_t *b, size_t n, uint64_t now)
{
	struct dsim_telnet *t = &c->tn;
	bool data = false;
	c->last_in_ms = now;
	if (n)
		c->got_bytes = true;
	if (!telnet_device(c)) {
		/* Raw services: B22 reads a line; B21 expects no byte at all. */
		if (c->state == DSIM_ST_SSH && n)
			c->dev->violations++;
		for (size_t i = 0; i < n && c->state == DSIM_ST_HTTP; i++)
			data_byte(c, b[i]);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = b[i];
		switch (t->st) {
		case TN_DATA:
			if (ch == IAC) {
				t->st = TN_IAC;
				break;
			}
			data = true;
			data_byte(c, ch);
			break;
		case TN_IAC:
			if (ch == IAC) {
				t->st = TN_DATA;
				data = true;
				data_byte(c, ch);
			} else if (ch >= WILL) {
				t->verb = ch;
				t->st = TN_VERB;
			} else if (ch == SB) {
				t->sb_len = 0;
				t->st = TN_SB;
			} else {
				/* NOP, GA, AYT...: the prober sends none of these. */
				c->dev->violations++;
				t->st = TN_DATA;
			}
			break;
		case TN_VERB:
			client_verb(c, t->verb, ch);
			t->st = TN_DATA;
			break;
		case TN_SB:
			if (ch == IAC)
				t->st = TN_SB_IAC;
			else if (t->sb_len < sizeof t->sb)
				t->sb[t->sb_len++] = ch;
			else
				t->sb_len = sizeof t->sb; /* too long: fails the NAWS check */
			break;
		case TN_SB_IAC:
			if (ch == IAC) {
				if (t->sb_len < sizeof t->sb)
					t->sb[t->sb_len++] = ch;
				t->st = TN_SB;
			} else {
				client_sb(c);
				t->st = TN_DATA;
			}
			break;
		default:
			t->st = TN_DATA;
			break;
		}
	}
	/* Section 2: after the shell prompt no data byte may come. */
	if (data && c->state == DSIM_ST_SHELL)
		c->dev->violations++;
}

/* Note what the device itself offered, for the answer checks. */
static void note_offers(struct dsim_conn *c, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++) {
		if (p[i] != IAC)
			continue;
		if (p[i + 1] == IAC) {
			i++;
			continue;
		}
		if (p[i + 1] == WILL)
			set_bit(c->tn.offered_will, p[i + 2]);
		else if (p[i + 1] == DO)
			set_bit(c->tn.offered_do, p[i + 2]);
	}
}

void dsim_conn_enter(struct dsim_conn *c, unsigned state, uint64_t now)
{
	c->state = (uint8_t)state;
	c->state_since = now;
	if (state == DSIM_ST_NEG3)
		c->echo_mark = c->echo_answers;
}

static bool answered_w(const struct dsim_conn *c, const uint8_t *opts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!bit(c->tn.answered_w, opts[i]))
			return false;
	return true;
}

static bool answered_d(const struct dsim_conn *c, const uint8_t *opts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!bit(c->tn.answered_d, opts[i]))
			return false;
	return true;
}

uint64_t dsim_conn_advance(struct dsim_conn *c, uint64_t now)
{
	static const uint8_t neg1[] = { O_TTYPE, O_TSPEED, O_XDISPLOC, O_ENVIRON };
	static const uint8_t neg2w[] = { O_NAWS, O_LINEMODE, O_LFLOW };
	static const uint8_t neg2d[] = { O_ECHO, O_SGA, O_STATUS };
	uint64_t due;
	/* The queue has drained: its copies are no longer referenced. */
	c->arena_used = 0;
	switch (c->state) {
	case DSIM_ST_NEG1:
		due = c->state_since + NEG1_MS;
		if (!answered_w(c, neg1, sizeof neg1) && now < due)
			return due;
		c->state = DSIM_ST_NONE;
		if (beh(c) == 5) {
			say(c, 10, b05_batch2, sizeof b05_batch2 - 1);
			to_state(c, 0, DSIM_ST_NEG2);
		} else {
			say(c, 10, BB_OPEN_NEW, sizeof BB_OPEN_NEW - 1);
			first_prompt(c, 10);
		}
		return 0;
	case DSIM_ST_NEG2:
		due = c->state_since + NEG2_MS;
		if ((!answered_w(c, neg2w, sizeof neg2w) || !answered_d(c, neg2d, sizeof neg2d)) &&
		    now < due)
			return due;
		c->state = DSIM_ST_NONE;
		say(c, 10, "\xff\xfa\x18\x01\xff\xf0", 6);
		say(c, 10, "\xff\xfc\x01\xff\xfb\x01", 6);
		to_state(c, 0, DSIM_ST_NEG3);
		return 0;
	case DSIM_ST_NEG3:
		due = c->state_since + NEG2_MS;
		if ((uint8_t)(c->echo_answers - c->echo_mark) < 2 && now < due)
			return due;
		c->state = DSIM_ST_NONE;
		first_prompt(c, 10);
		return 0;
	case DSIM_ST_RETURN:
	case DSIM_ST_USER:
	case DSIM_ST_PASS:
	case DSIM_ST_HTTP:
		if (c->npending) {
			size_t len = c->pend_len[0];
			bool too_long = len > DSIM_LINE_MAX;
			uint8_t line[DSIM_LINE_MAX + 1];
			memcpy(line, c->pend[0], too_long ? DSIM_LINE_MAX : len);
			c->npending--;
			memmove(c->pend_len, c->pend_len + 1, c->npending * sizeof c->pend_len[0]);
			memmove(c->pend, c->pend + 1, c->npending * sizeof c->pend[0]);
			read_line(c, line, too_long ? DSIM_LINE_MAX : len, too_long, now);
			return 0;
		}
		due = c->last_in_ms + IDLE_MS;
		if (now < due)
			return due;
		if (c->state != DSIM_ST_HTTP)
			say(c, 0, timed_out, sizeof timed_out - 1);
		hang_up(c, 0);
		c->state = DSIM_ST_NONE;
		return 0;
	case DSIM_ST_SILENT:
		due = c->state_since + IDLE_MS;
		if (now < due)
			return due;
		say(c, 0, timed_out, sizeof timed_out - 1);
		hang_up(c, 0);
		c->state = DSIM_ST_NONE;
		return 0;
	case DSIM_ST_TLS:
		if (c->got_bytes) {
			say(c, 0, tls_alert, sizeof tls_alert);
			hang_up(c, 0);
			c->state = DSIM_ST_NONE;
			return 0;
		}
		due = c->last_in_ms + IDLE_MS;
		if (now < due)
			return due;
		hang_up(c, 0);
		c->state = DSIM_ST_NONE;
		return 0;
	case DSIM_ST_SSH:
		due = c->accepted_ms + SSH_CLOSE_MS;
		if (now < due)
			return due;
		hang_up(c, 0);
		c->state = DSIM_ST_NONE;
		return 0;
	case DSIM_ST_DRIP:
		due = c->accepted_ms + c->drip_n * DRIP_MS;
		if (now < due)
			return due;
		if (c->dev->variant)
			say(c, 0, "\xff\xf1", 2);
		else
			say(c, 0, drip_text + c->drip_n % (sizeof drip_text - 1), 1);
		c->drip_n++;
		return 0;
	case DSIM_ST_BINFRAME:
		due = c->accepted_ms + c->drip_n * FRAME_MS;
		if (now < due)
			return due;
		say(c, 0, b23_frame, sizeof b23_frame);
		c->drip_n++;
		return 0;
	case DSIM_ST_SHELL:
	case DSIM_ST_TARPIT:
	default:
		return UINT64_MAX;
	}
}

void dsim_conn_note_output(struct dsim_conn *c, const uint8_t *p, size_t n)
{
	note_offers(c, p, n);
}
