/*
 * The telnet plug-in of the stage-2 engine: login_proto.h's contract over
 * the socket-free machine of telnet_login.h, with the credential list's
 * vendor-first order (creds.h).
 *
 * The order is decided once per device, when the machine has the banner:
 * when no vendor regex matches (almost always) the list's shared base order
 * is used as is; otherwise an order array is allocated for this service and
 * freed in release. So a service costs the machine's ~7 KiB and nothing
 * more, and no device pays for the vendor regexes of another.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "login_proto.h"
#include "telnet_login.h"

struct telnet_state {
	struct kz_telnet_login m;
	const struct kz_login_service *svc;
	uint32_t *order; /* this device's order, when a vendor regex matched */
};

static size_t order_cb(void *ctx, const uint8_t *banner, size_t len, const uint32_t **order)
{
	struct telnet_state *st = ctx;
	const struct kz_creds *c = st->svc->creds;
	if (kz_creds_vendor_match(c, KZ_LOGIN_APP_TELNET, banner, len)) {
		st->order = calloc(kz_creds_count(c), sizeof *st->order);
		if (st->order) {
			*order = st->order;
			return kz_creds_order(c, KZ_LOGIN_APP_TELNET, banner, len, st->order);
		}
		/* Out of memory: the file order still tries every pair. */
	}
	return kz_creds_base_order(c, KZ_LOGIN_APP_TELNET, order);
}

static int telnet_init(void *state, const struct kz_login_service *svc)
{
	struct telnet_state *st = state;
	st->svc = svc;
	struct kz_telnet_login_params p;
	if (svc->config)
		p = *(const struct kz_telnet_login_params *)svc->config;
	else
		kz_telnet_login_defaults(&p);
	p.creds = kz_creds_pairs(svc->creds);
	p.ncreds = kz_creds_count(svc->creds);
	p.order = order_cb;
	p.order_ctx = st;
	p.max_attempts = svc->max_attempts;
	p.control_seed = svc->seed;
	/* One byte under the engine's cap, so that the machine, not the
	 * engine, judges a device that sends too much (as a timeout: the
	 * check could not finish). */
	if (svc->max_conn_bytes > 1 &&
	    (!p.max_conn_bytes || p.max_conn_bytes >= svc->max_conn_bytes))
		p.max_conn_bytes = svc->max_conn_bytes - 1;
	return kz_telnet_login_init(&st->m, &p);
}

static struct kz_login_step telnet_start(void *state, uint64_t now)
{
	return kz_telnet_login_start(&((struct telnet_state *)state)->m, now);
}

static struct kz_login_step telnet_connected(void *state, int fd, uint64_t now)
{
	(void)fd;
	return kz_telnet_login_connected(&((struct telnet_state *)state)->m, now);
}

static struct kz_login_step telnet_connect_failed(void *state, int err, uint64_t now)
{
	return kz_telnet_login_connect_failed(&((struct telnet_state *)state)->m, err, now);
}

static struct kz_login_step telnet_tick(void *state, uint64_t now)
{
	return kz_telnet_login_tick(&((struct telnet_state *)state)->m, now);
}

static struct kz_login_step telnet_input(void *state, const uint8_t *data, size_t len, uint64_t now)
{
	return kz_telnet_login_input(&((struct telnet_state *)state)->m, data, len, now);
}

static struct kz_login_step telnet_closed(void *state, uint64_t now)
{
	return kz_telnet_login_closed(&((struct telnet_state *)state)->m, now);
}

static const uint8_t *telnet_output(const void *state, size_t *len)
{
	return kz_telnet_login_output(&((const struct telnet_state *)state)->m, len);
}

static void telnet_consume(void *state, size_t n)
{
	kz_telnet_login_consume(&((struct telnet_state *)state)->m, n);
}

static void telnet_result(const void *state, struct kz_login_outcome *out)
{
	const struct kz_telnet_login_result *r =
	        kz_telnet_login_result(&((const struct telnet_state *)state)->m);
	*out = (struct kz_login_outcome){
		.status = r->status,
		.pair = r->pair,
		.password_asked = r->password_asked,
		.attempts = r->attempts,
		.connections = r->connections,
		.reason = r->reason,
		.banner = r->banner,
		.banner_len = r->banner_len,
		.banner_seen = r->banner_seen,
		.evidence = r->evidence,
		.evidence_len = r->evidence_len,
		.detail = r->password_only ? "password-only" : NULL,
	};
}

static void telnet_release(void *state)
{
	struct telnet_state *st = state;
	kz_telnet_login_wipe(&st->m);
	free(st->order);
	st->order = NULL;
}

const struct kz_login_proto kz_login_proto_telnet = {
	.name = "telnet",
	.app = KZ_LOGIN_APP_TELNET,
	.io = KZ_LOGIN_IO_BYTES,
	.state_size = sizeof(struct telnet_state),
	.init = telnet_init,
	.start = telnet_start,
	.connected = telnet_connected,
	.connect_failed = telnet_connect_failed,
	.tick = telnet_tick,
	.input = telnet_input,
	.closed = telnet_closed,
	.output = telnet_output,
	.consume = telnet_consume,
	.result = telnet_result,
	.release = telnet_release,
};
