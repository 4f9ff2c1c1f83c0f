/* store/remote.c: the store's calls made over channels (store.c and log.c forward to these). */
#ifndef MP_STORE_REMOTE_H
#define MP_STORE_REMOTE_H

#include "mp_store.h"

struct store_remote;
struct mp_wbuf;

/* The calls, as their codes on the wire. */
enum op {
	OP_BEGIN = 1,
	OP_END,
	OP_KEY_BY_SIGN,
	OP_KEY_BY_KID,
	OP_KEYS,
	OP_RECIPIENTS,
	OP_CASE_CREATE,
	OP_CASE_GET,
	OP_CASE_BY_TAG,
	OP_CASES,
	OP_HISTORY,
	OP_CASE_CLASSIFY,
	OP_ITEM_GET,
	OP_ITEM_SHARE,
	OP_ITEMS_MISSING,
	OP_COLL_CREATE,
	OP_COLL_GET,
	OP_COLLS,
	OP_COLL_MEMBERS,
	OP_COLL_LINK,
	OP_ITEMS,
	OP_ITEM_ADD,
	OP_CASE_MOVE,
	OP_LOG_SIZE,
	OP_LOG_NODE,
	OP_LOG_ENTRIES,
	OP_LOG_CREATED,
};

/* Records as the answers carry them (remote.c). */
void put_key(struct mp_wbuf *w, const struct mp_key *k);
void put_collective(struct mp_wbuf *w, const struct mp_collective *c);

void remote_close(struct store_remote *rm);
int remote_begin(struct store_remote *rm);
int remote_end(struct store_remote *rm, int ok);
int remote_key_by_sign(struct store_remote *rm, const uint8_t pk[32], struct mp_key *out);
int remote_key_by_kid(struct store_remote *rm, const char *kid, struct mp_key *out);
int remote_keys(
    struct store_remote *rm, int active_only, int (*cb)(void *, const struct mp_key *), void *arg);
int remote_recipients(struct store_remote *rm, uint8_t (**pks)[32], size_t *n);
int remote_case_create(struct store_remote *rm, const struct mp_case_new *c, char ref[24]);
int remote_case_get(struct store_remote *rm, int by_tag, const void *key, struct mp_case *out);
int remote_cases(struct store_remote *rm, const struct mp_case_filter *f, int limit,
    const char *after, int (*cb)(void *, const struct mp_case *), void *arg, int *more);
int remote_history(struct store_remote *rm, const char *case_id,
    int (*cb)(void *, const struct mp_event *), void *arg);
int remote_case_classify(struct store_remote *rm, const char *id, const char *classification,
    const char *const *grounds, size_t ngrounds, const char *day);
int remote_item_get(
    struct store_remote *rm, const char *item_id, char case_id[MP_ID_LEN + 1], char **envelope);
int remote_item_share(struct store_remote *rm, const char *item_id, const char *case_id,
    const char *envelope, const char *const *kids, size_t nkids, const char *day);
int remote_items_missing(struct store_remote *rm, const char *kid, int limit, const char *after,
    int (*cb)(void *, const char *, const char *, const char *), void *arg, int *more);
int remote_collective_create(
    struct store_remote *rm, const char *name, const char *day, struct mp_collective *out);
int remote_collective_get(struct store_remote *rm, const char *id, struct mp_collective *out);
int remote_collectives(
    struct store_remote *rm, int (*cb)(void *, const struct mp_collective *), void *arg);
int remote_collective_members(struct store_remote *rm, const char *id,
    int (*cb)(void *, const struct mp_member *), void *arg);
int remote_collective_link(
    struct store_remote *rm, const char *id, const char *case_id, const char *day);
int remote_items(struct store_remote *rm, const char *case_id,
    int (*cb)(void *, const struct mp_item *), void *arg);
int remote_item_add(struct store_remote *rm, const char *case_id, const char *item_id,
    const char *kind, const char *sender, const char *day, const char *envelope, unsigned day_cap);
int remote_case_move(struct store_remote *rm, const char *id, const char *from, const char *to,
    const char *closure, const char *day);
int remote_log_size(struct store_remote *rm, uint64_t *n);
int remote_log_node(struct store_remote *rm, unsigned level, uint64_t index, uint8_t out[32]);
int remote_log_entries(struct store_remote *rm, uint64_t start, uint64_t end,
    int (*cb)(void *, const struct mp_log_entry *), void *arg);
int remote_log_created(struct store_remote *rm, const char *case_id, uint64_t *index);

#endif
