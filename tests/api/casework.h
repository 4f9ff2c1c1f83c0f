/*
 * Helpers shared by the case-work tests (docs/CASEWORK.md): cases made from
 * web reports, status walks, the instance's policy as written on disk,
 * sealing to the active keys, days.
 */
#ifndef API_CASEWORK_H
#define API_CASEWORK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "mp_envelope.h"
#include "mp_token.h"

/* A case made by a web report through the public API, with its reporter's keys. */
struct cw {
	char id[64];
	char ref[32];
	char token[MP_TOKEN_TEXT_LEN + 1]; /* "" when the case has none */
	char lang[8];
	uint8_t rpk[32], rsk[32]; /* the reporter's box keys (from the token) */
};

/*
 * POST /api/v1/reports {"language": lang, "description": desc}, then find
 * the case: the newest of Anna's list whose reporter_box is the key derived
 * from the token.  0, or -1 (with a diagnostic).
 */
int cw_report(struct cw *c, const char *lang, const char *desc);

/* GET /api/v1/cases/{id} as who (NULL: Anna).  0 when the answer is 200. */
int cw_get_as(struct resp *r, const struct mp_identity *who, const char *id);
#define cw_get(r, id) cw_get_as((r), NULL, (id))

/* POST /api/v1/cases/{id}/<what> signed by Anna. */
int cw_post(struct resp *r, const char *id, const char *what, const char *body);

/* POST .../status {"status", ["closure"]}; the HTTP status (0 when no answer). */
long cw_move(const char *id, const char *status, const char *closure);

/* Walk a case along the policy's moves from its status to `to`; 0 or -1. */
int cw_walk_to(const char *id, const char *to);

/* The case's status (static buffer; "" when unknown). */
const char *cw_status(const char *id);

/* The case's history (a new reference), or NULL. */
json_t *cw_history(const char *id);

/* The summary of case id in Anna's list filtered by query (e.g. "ref=..."), or NULL. */
json_t *cw_list_find(const char *query, const char *id);

/*
 * Every field of a case summary with the right type (docs/CASEWORK.md):
 * id, ref, received, updated, status, closure, channel, anonymous,
 * classification, collective, due, overdue, purged.  1, or 0 with why set.
 */
int summary_ok(const json_t *s, char *why, size_t whylen);

/* Follow-up of a token: the answer in r; 0 when 200. */
int cw_followup(struct resp *r, const char *token);

/* The box keys of the active caseworker and recovery keys (GET /api/v1/keys). */
size_t active_keys(struct mp_box_pk *out, size_t max);

/*
 * A message or note {"text", "from": "caseworker", "author": "Anna"} for
 * case_id sealed to the active keys and, when reporter_pk is not NULL, to it.
 */
json_t *seal_item(
    const char *kind, const char *case_id, const char *text, const uint8_t *reporter_pk);
/* {"envelope": env} as text (malloc'ed); takes the reference to env. */
char *envelope_body(json_t *env);

/* kid text of a box key (static buffer, rotating 4). */
const char *kid_of(const uint8_t pk[32]);

/* meldpunt key add for a recovery key (no --sign); the exit status. */
int key_add_recovery(const struct mp_identity *id);
/* meldpunt key revoke --dir --kid; the exit status. */
int key_revoke(const char *kid);

/* day + n days (YYYY-MM-DD). */
void day_add(char out[11], const char *day, int n);
/* Today (Europe/Amsterdam) + months, normalised as mktime does. */
void months_ahead(char out[11], int months);

/* The instance's policy file (I.inst/policy.conf), parsed. */
#define POL_MAX 32
struct pol {
	int nst;
	char st[POL_MAX][40];
	char label[POL_MAX][2][512]; /* [status][0 nl, 1 en] */
	int allow[POL_MAX][POL_MAX]; /* [from][to] */
	int handling_days;
	char purged[2][512]; /* [notices] purged, nl and en */
	int loaded;
};
extern struct pol POL;
/* Load POL once; 0 or -1. */
int pol_load(void);
/* Index of a status code, or -1. */
int pol_index(const char *code);
/* The label of a status in lang ("nl" or "en"), or NULL. */
const char *pol_label(const char *code, const char *lang);

/*
 * A case history holds only policy codes, ids and days, never text: every
 * event an object with a day "date" and a known "type", every other value a
 * code-like string ([A-Za-z0-9_-], at most 64), a list of such, a number or
 * null.  1, or 0 with why set.
 */
int history_codes_only(const json_t *h, char *why, size_t whylen);

/* {"<name>":"aaa..."} of exactly len bytes (malloc'ed). */
char *big_json(const char *name, size_t len);

/* 1 if the error answer names field want, or a field starting with want followed by '[' or '.'. */
int field_is(const struct resp *r, const char *want);

#endif
