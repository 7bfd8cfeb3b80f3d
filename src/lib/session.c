/*
 * Sessions: a fixed table under a mutex. Lookups compare every live id in
 * constant time, so the time a request takes says nothing about how close
 * a guessed cookie came.
 */
#include "session.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "random.h"

struct slot {
	char id[KZ_SESSION_STRLEN];
	char csrf[KZ_SESSION_STRLEN];
	uint8_t hash[32];
	int64_t created;
	bool used;
};

struct kz_sessions {
	pthread_mutex_t lock;
	struct slot v[KZ_SESSIONS_MAX];
};

int kz_sessions_new(struct kz_sessions **out)
{
	struct kz_sessions *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

void kz_sessions_free(struct kz_sessions *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	explicit_bzero(s->v, sizeof s->v);
	free(s);
}

int kz_sessions_create(struct kz_sessions *s, const uint8_t token_hash[32], int64_t now,
                       char id[KZ_SESSION_STRLEN], char csrf[KZ_SESSION_STRLEN])
{
	int rc;
	if ((rc = kz_random_token(id)) || (rc = kz_random_token(csrf)))
		return rc;
	pthread_mutex_lock(&s->lock);
	size_t pick = 0;
	int64_t oldest = INT64_MAX;
	for (size_t i = 0; i < KZ_SESSIONS_MAX; i++) {
		struct slot *sl = &s->v[i];
		if (!sl->used || now - sl->created > KZ_SESSION_TTL) {
			pick = i;
			break;
		}
		if (sl->created < oldest) {
			oldest = sl->created;
			pick = i;
		}
	}
	struct slot *sl = &s->v[pick];
	memcpy(sl->id, id, KZ_SESSION_STRLEN);
	memcpy(sl->csrf, csrf, KZ_SESSION_STRLEN);
	memcpy(sl->hash, token_hash, 32);
	sl->created = now;
	sl->used = true;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* Compares a stored id with a presented one in constant time (the
 * presented one is copied into a fixed-size buffer first). */
static bool same_id(const char *a, const char *b)
{
	char x[KZ_SESSION_STRLEN] = { 0 };
	size_t n = strnlen(b, KZ_SESSION_STRLEN);
	if (n >= KZ_SESSION_STRLEN)
		return false;
	memcpy(x, b, n);
	return CRYPTO_memcmp(a, x, KZ_SESSION_STRLEN) == 0;
}

bool kz_sessions_lookup(struct kz_sessions *s, const char *id, int64_t now, uint8_t token_hash[32],
                        char csrf[KZ_SESSION_STRLEN])
{
	bool found = false;
	if (!id || strlen(id) != KZ_SESSION_STRLEN - 1)
		return false;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < KZ_SESSIONS_MAX; i++) {
		struct slot *sl = &s->v[i];
		bool live = sl->used && now - sl->created <= KZ_SESSION_TTL;
		if (same_id(sl->id, id) && live && !found) {
			memcpy(token_hash, sl->hash, 32);
			memcpy(csrf, sl->csrf, KZ_SESSION_STRLEN);
			found = true;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return found;
}

void kz_sessions_delete(struct kz_sessions *s, const char *id)
{
	if (!id || strlen(id) != KZ_SESSION_STRLEN - 1)
		return;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < KZ_SESSIONS_MAX; i++)
		if (s->v[i].used && same_id(s->v[i].id, id))
			memset(&s->v[i], 0, sizeof s->v[i]);
	pthread_mutex_unlock(&s->lock);
}
