/*
 * mp_store - the SQLCipher database: opened with the instance's raw key,
 * migrated from schema/, every query behind this small typed API.  One
 * writing connection and a few reading ones, each serialised by a mutex
 * inside; every call is safe from any thread.  Functions return 0,
 * MP_STORE_NOTFOUND, MP_STORE_CONFLICT, MP_STORE_LIMIT, MP_STORE_STALE, or -1 (MP_STORE_FULL when the disk
 * is full).
 *
 * Every function that changes something returns once the change is durable
 * (or refused).  Changes that threads make at the same time share one
 * transaction and one wait for the disk, each in a savepoint of its own
 * (group commit, docs/STORE.md): one change's refusal leaves the others be;
 * a failed COMMIT fails them all.  Reads outside a change see committed
 * changes only.
 */
#ifndef MP_STORE_H
#define MP_STORE_H

#include <stddef.h>
#include <stdint.h>

#define MP_STORE_NOTFOUND 1
#define MP_STORE_CONFLICT 2
#define MP_STORE_LIMIT 3 /* a cap on what a case takes in a day is reached */
#define MP_STORE_STALE 4 /* sealed to other keys than the active recipients */
#define MP_STORE_FULL (-2)

#define MP_ID_BYTES 16
#define MP_ID_LEN 22  /* b64u of 16 bytes */
#define MP_DAY_LEN 10 /* YYYY-MM-DD */
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
	char ref[24]; /* YYYY-NNNN, more digits past 9999 */
	char received[MP_DAY_LEN + 1];
	char updated[MP_DAY_LEN + 1];
	char status[MP_CODE_LEN + 1];
	char closure[MP_CODE_LEN + 1]; /* "" when none */
	char channel[MP_CODE_LEN + 1];
	char language[MP_CODE_LEN + 1];
	int anonymous;
	int has_reporter; /* reporter_pk is set */
	uint8_t reporter_pk[32];
	char *classification;        /* JSON text or NULL; freed by mp_case_clear */
	char *collective;            /* id or NULL */
	char closed[MP_DAY_LEN + 1]; /* "" while open */
	char purged[MP_DAY_LEN + 1]; /* "" until purged */
};

/* Which cases a list shows; NULL or 0 fields do not filter. */
struct mp_case_filter {
	const char *status;
	const char *received_before; /* overdue: open and received before this day */
	const char *collective;
	const char *ground;
	int ref_year, ref_seq; /* both > 0: the one case with this reference */
};

struct mp_event {
	char day[MP_DAY_LEN + 1];
	const char *type;
	const char *data; /* compact JSON object of codes */
};

struct mp_collective {
	char id[MP_ID_LEN + 1];
	char ref[24]; /* CYYYY-NNNN */
	char name[401];
	char created[MP_DAY_LEN + 1];
	int cases;
};

struct mp_member {
	char id[MP_ID_LEN + 1];
	char ref[24];
	char status[MP_CODE_LEN + 1];
	int has_reporter;
	uint8_t reporter_pk[32];
};

struct mp_item {
	char id[MP_ID_LEN + 1];
	char kind[8];    /* report | message | note */
	char sender[12]; /* reporter | caseworker */
	char day[MP_DAY_LEN + 1];
	const char *envelope; /* JSON text, valid during the callback */
};

/* A new case with its first sealed item (the report). */
struct mp_case_new {
	const char *id;
	const char *day;
	const char *channel;
	const char *language;
	int anonymous;
	const uint8_t *token_tag;   /* 32 bytes, or NULL */
	const uint8_t *reporter_pk; /* 32 bytes, or NULL */
	const char *item_id;
	const char *envelope; /* the report envelope, JSON text */
	/*
	 * The keys the envelope was sealed to (besides the reporter), or NULL:
	 * when given, the case is created only if they are exactly the active
	 * recipients (mp_store_recipients) when it commits, else MP_STORE_STALE.
	 */
	const uint8_t *sealed_to; /* nsealed keys of 32 bytes */
	size_t nsealed;
};

/*
 * Transactions: everything between begin and end is one atomic change,
 * durable when the outermost end(…, 1) returns 0, which it does only after
 * the COMMIT that holds the change.  They nest; an inner end with ok = 0
 * undoes only its own part.  The writer is held between the two, so other
 * threads' changes wait; an outermost change joins the batch of changes
 * that commit together (docs/STORE.md), and an outermost end with ok = 0
 * leaves nothing of it there.
 */
int mp_store_begin(struct mp_store *st) __attribute__((warn_unused_result));
int mp_store_end(struct mp_store *st, int ok);
/* Transactions committed since open, and the changes they held. */
void mp_store_figures(struct mp_store *st, uint64_t *commits, uint64_t *changes);

/* The schema version this program makes and migrates databases to (schema/NNN_*.sql). */
int mp_store_schema_version(void);

/* Create the database file at path (it must not exist) and migrate it. */
int mp_store_create(const char *path, const uint8_t key[32]) __attribute__((warn_unused_result));
/* Open and migrate an existing database. */
int mp_store_open(struct mp_store **out, const char *path, const uint8_t key[32])
    __attribute__((warn_unused_result));
void mp_store_close(struct mp_store *st);
/*
 * From now on, refuse an event that names a code not in the policy's
 * statistics layout (a status, ground, channel, ... the fold could not
 * count, which would stop every fold of its case's year for good).  For
 * the process that serves a worker's calls; 0, or -1.
 */
struct mp_policy;
int mp_store_check_codes(struct mp_store *st, const struct mp_policy *p)
    __attribute__((warn_unused_result));

int mp_store_key_add(struct mp_store *st, const struct mp_key *k);
/* The key with this signing key (active or not). */
int mp_store_key_by_sign(struct mp_store *st, const uint8_t sign_pk[32], struct mp_key *out);
/* Every key (active ones first when active_only is 0). */
int mp_store_keys(
    struct mp_store *st, int active_only, int (*cb)(void *arg, const struct mp_key *k), void *arg);
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
int mp_store_cases(struct mp_store *st, const struct mp_case_filter *f, int limit,
    const char *after, int (*cb)(void *arg, const struct mp_case *c), void *arg, int *more);

/* A case's events, oldest first. */
int mp_store_history(struct mp_store *st, const char *case_id,
    int (*cb)(void *arg, const struct mp_event *ev), void *arg);
/*
 * Record an event of a case (inside the caller's change); every type but
 * `shared` is also appended to the transparency log.
 */
int mp_store_event(
    struct mp_store *st, const char *case_id, const char *day, const char *type, const char *data);

/* Set a case's classification (JSON text) and its grounds; a `classified` event. */
int mp_store_case_classify(struct mp_store *st, const char *id, const char *classification,
    const char *const *grounds, size_t ngrounds, const char *day);

/* An item's case and envelope (malloc'ed JSON text). */
int mp_store_item_get(
    struct mp_store *st, const char *item_id, char case_id[MP_ID_LEN + 1], char **envelope);
/* Replace an item's envelope after recipients were added; one `shared` event per kid. */
int mp_store_item_share(struct mp_store *st, const char *item_id, const char *case_id,
    const char *envelope, const char *const *kids, size_t nkids, const char *day);
/* Items whose envelope has no recipient kid, oldest first, after item `after`. */
int mp_store_items_missing(struct mp_store *st, const char *kid, int limit, const char *after,
    int (*cb)(void *arg, const char *item_id, const char *case_id, const char *envelope), void *arg,
    int *more);

/* The active key with this kid. */
int mp_store_key_by_kid(struct mp_store *st, const char *kid, struct mp_key *out);

int mp_store_collective_create(
    struct mp_store *st, const char *name, const char *day, struct mp_collective *out);
int mp_store_collective_get(struct mp_store *st, const char *id, struct mp_collective *out);
int mp_store_collectives(
    struct mp_store *st, int (*cb)(void *arg, const struct mp_collective *c), void *arg);
int mp_store_collective_members(struct mp_store *st, const char *id,
    int (*cb)(void *arg, const struct mp_member *m), void *arg);
/* Link a case (MP_STORE_CONFLICT if it is in another collective; 0 if already here). */
int mp_store_collective_link(
    struct mp_store *st, const char *id, const char *case_id, const char *day);

/*
 * Retention: remove the items of cases closed on or before closed_cutoff and
 * of open cases last updated on or before inactive_cutoff; keep their rows;
 * a `purged` event each.  Then checkpoint the WAL and vacuum, so no page
 * keeps the removed envelopes.  *n is the number of cases purged.
 */
int mp_store_purge(struct mp_store *st, const char *today, const char *closed_cutoff,
    const char *inactive_cutoff, int *n);
/* The cases mp_store_purge would remove with these cut-offs, oldest first; changes nothing. */
int mp_store_purge_due(struct mp_store *st, const char *closed_cutoff, const char *inactive_cutoff,
    int (*cb)(void *arg, const struct mp_case *c), void *arg);

/* Items of a case, oldest first. */
int mp_store_items(struct mp_store *st, const char *case_id,
    int (*cb)(void *arg, const struct mp_item *it), void *arg);
/*
 * Add a sealed item and mark the case as updated on day.  With day_cap > 0,
 * MP_STORE_LIMIT (and nothing changed) when the case already holds day_cap
 * items of this kind from this sender on that day.
 */
int mp_store_item_add(struct mp_store *st, const char *case_id, const char *item_id,
    const char *kind, const char *sender, const char *day, const char *envelope, unsigned day_cap);
/* Move a case: checks that it is still in `from` (else MP_STORE_CONFLICT). */
int mp_store_case_move(struct mp_store *st, const char *id, const char *from, const char *to,
    const char *closure, const char *day);

/*
 * The transparency log (PROTOCOL.md section 5).  Every created, classified,
 * status, collective and purged event is appended in the same change as
 * what it records.  The tree only grows, so the hashes of a tree of a given
 * size never change and may be read without holding a change open.
 */
struct mp_log_entry {
	uint64_t index;
	uint8_t salt[32];
	const uint8_t *event; /* valid during the callback */
	size_t len;
	uint8_t leaf[32]; /* the commitment C */
};
/* The number of leaves. */
int mp_store_log_size(struct mp_store *st, uint64_t *n);
/* The hash of the complete subtree (level, index), as mp_merkle_get_fn with arg = the store. */
int mp_store_log_node(void *st, unsigned level, uint64_t index, uint8_t out[32]);
/* Entries [start, end) in order. */
int mp_store_log_entries(struct mp_store *st, uint64_t start, uint64_t end,
    int (*cb)(void *arg, const struct mp_log_entry *e), void *arg);
/* The index of the case's `created` event. */
int mp_store_log_created(struct mp_store *st, const char *case_id, uint64_t *index);

/* Free a random id: 16 random bytes, b64u. */
void mp_new_id(char out[MP_ID_LEN + 1]);

#endif
