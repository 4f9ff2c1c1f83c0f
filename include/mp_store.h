/*
 * mp_store - the SQLCipher database: opened with the instance's raw key,
 * migrated from schema/, every query behind this small typed API.  One
 * connection, serialised by a mutex inside; every call is safe from any
 * thread.  Functions return 0, MP_STORE_NOTFOUND, MP_STORE_CONFLICT, or -1
 * (MP_STORE_FULL when the disk is full).
 */
#ifndef MP_STORE_H
#define MP_STORE_H

#include <stddef.h>
#include <stdint.h>

#define MP_STORE_NOTFOUND 1
#define MP_STORE_CONFLICT 2
#define MP_STORE_FULL (-2)

#define MP_ID_BYTES 16
#define MP_ID_LEN 22     /* b64u of 16 bytes */
#define MP_DAY_LEN 10    /* YYYY-MM-DD */
#define MP_CODE_LEN 40

struct mp_store;

struct mp_key {
	char kid[MP_ID_LEN + 1];
	char name[401];
	char role[16];
	uint8_t sign_pk[32];
	uint8_t box_pk[32];
	int has_sign;
	int active;
	char added[MP_DAY_LEN + 1];
};

struct mp_case {
	char id[MP_ID_LEN + 1];
	char ref[24];                    /* YYYY-NNNN, more digits past 9999 */
	char received[MP_DAY_LEN + 1];
	char updated[MP_DAY_LEN + 1];
	char status[MP_CODE_LEN + 1];
	char closure[MP_CODE_LEN + 1];   /* "" when none */
	char channel[MP_CODE_LEN + 1];
	char language[MP_CODE_LEN + 1];
	int anonymous;
	int has_reporter;                /* reporter_pk is set */
	uint8_t reporter_pk[32];
	char *classification;            /* JSON text or NULL; freed by mp_case_clear */
	char *collective;                /* id or NULL */
};

struct mp_item {
	char id[MP_ID_LEN + 1];
	char kind[8];                    /* report | message | note */
	char sender[12];                 /* reporter | caseworker */
	char day[MP_DAY_LEN + 1];
	const char *envelope;            /* JSON text, valid during the callback */
};

/* A new case with its first sealed item (the report). */
struct mp_case_new {
	const char *id;
	const char *day;
	const char *channel;
	const char *language;
	int anonymous;
	const uint8_t *token_tag;        /* 32 bytes, or NULL */
	const uint8_t *reporter_pk;      /* 32 bytes, or NULL */
	const char *item_id;
	const char *envelope;            /* the report envelope, JSON text */
};

/* Create the database file at path (it must not exist) and migrate it. */
int mp_store_create(const char *path, const uint8_t key[32]) __attribute__((warn_unused_result));
/* Open and migrate an existing database. */
int mp_store_open(struct mp_store **out, const char *path, const uint8_t key[32])
    __attribute__((warn_unused_result));
void mp_store_close(struct mp_store *st);

int mp_store_key_add(struct mp_store *st, const struct mp_key *k);
/* The key with this signing key (active or not). */
int mp_store_key_by_sign(struct mp_store *st, const uint8_t sign_pk[32], struct mp_key *out);
/* Every key (active ones first when active_only is 0). */
int mp_store_keys(struct mp_store *st, int active_only,
    int (*cb)(void *arg, const struct mp_key *k), void *arg);
int mp_store_key_revoke(struct mp_store *st, const char *kid, const char *day);
/* Active caseworker and recovery box keys: the recipients of every envelope. */
int mp_store_recipients(struct mp_store *st, uint8_t (**pks)[32], size_t *n);

int mp_store_case_create(struct mp_store *st, const struct mp_case_new *c, char ref[24]);
int mp_store_case_get(struct mp_store *st, const char *id, struct mp_case *out);
int mp_store_case_by_tag(struct mp_store *st, const uint8_t tag[32], struct mp_case *out);
void mp_case_clear(struct mp_case *c);
/*
 * Cases newest first: status filter (NULL for all), at most limit, after the
 * case with id `after` (NULL from the start).  *more is set when more follow.
 */
int mp_store_cases(struct mp_store *st, const char *status, int limit, const char *after,
    int (*cb)(void *arg, const struct mp_case *c), void *arg, int *more);

/* Items of a case, oldest first. */
int mp_store_items(struct mp_store *st, const char *case_id,
    int (*cb)(void *arg, const struct mp_item *it), void *arg);
/* Add a sealed item and mark the case as updated on day. */
int mp_store_item_add(struct mp_store *st, const char *case_id, const char *item_id,
    const char *kind, const char *sender, const char *day, const char *envelope);
/* Move a case: checks that it is still in `from` (else MP_STORE_CONFLICT). */
int mp_store_case_move(struct mp_store *st, const char *id, const char *from, const char *to,
    const char *closure, const char *day);

/* Free a random id: 16 random bytes, b64u. */
void mp_new_id(char out[MP_ID_LEN + 1]);

#endif
