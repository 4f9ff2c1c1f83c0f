/*
 * mp_stats - the yearly statistics (PROTOCOL.md section 6), folded from the
 * transparency log's event bytes in log order, so that the server that
 * publishes them and the auditor who checks them run the same arithmetic
 * on the same inputs.  Pure functions over buffers, no I/O.
 *
 * Events (exact bytes, compact JSON, keys in this order):
 *   {"v":1,"case":"<id>","seq":N,"type":"created","month":"YYYY-MM","channel":"web","anonymous":true}
 *   {"v":1,"case":"<id>","seq":N,"type":"classified","month":"YYYY-MM","grounds":["origin"],
 *    "domain":"housing","manifestation":"remark","incident_municipality":"leiden",
 *    "residence_municipality":"leiden"}          (each classification field may be absent)
 *   {"v":1,"case":"<id>","seq":N,"type":"status","month":"YYYY-MM","status":"closed","closure":"mediation"}
 *   {"v":1,"case":"<id>","seq":N,"type":"collective","month":"YYYY-MM","collective":"<id>"}
 *   {"v":1,"case":"<id>","seq":N,"type":"purged","month":"YYYY-MM"}
 * seq counts a case's log events from 1; month is when the event happened.
 * A case belongs to the year of its `created` event's month.
 *
 * The document (UTF-8 JSON, the exact bytes are what the log key signs):
 *   {"v":1,"origin":"...","year":2026,"provisional":false,"threshold":5,
 *    "tree_size":N,"root":"<b64u>","cases":T,
 *    "tables":{
 *      "municipality":{"columns":["resident_incident_here","resident_incident_elsewhere",
 *                                 "nonresident_incident_here"],
 *                      "rows":{"leiden":[a,b,c],...},"totals":[x,y,z]},
 *      "ground":{"rows":{"origin":n,...,"not_classified":n},"total":T},
 *      "domain":{...}, "manifestation":{...}, "channel":{...}, "status":{...},
 *      "closure":{"rows":{...,"open":n},"total":T},
 *      "anonymity":{"rows":{"anonymous":n,"named":n},"total":T},
 *      "kind":{"rows":{"individual":n,"collective":n},"total":T}}}
 * A suppressed cell is null; totals are never suppressed (the number of cases
 * appears in every table).  Row codes come from the layout, in its order,
 * every code present even when its count is 0.  The exact bytes, the
 * merged form and the suppression rule: docs/STATISTICS.md.
 */
#ifndef MP_STATS_H
#define MP_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "mp_policy.h"

/* The rows of every table: from the policy (server) or a published document (auditor). */
struct mp_stats_layout;

struct mp_stats_layout *mp_stats_layout_policy(const struct mp_policy *p);
/* The layout a document names; NULL if it is not a v1 statistics document. */
struct mp_stats_layout *mp_stats_layout_doc(const char *doc, size_t len);
void mp_stats_layout_free(struct mp_stats_layout *l);

struct mp_stats;

/* Statistics of year over layout (copied), suppressing with threshold k. */
struct mp_stats *mp_stats_new(const struct mp_stats_layout *l, int year, int k);
void mp_stats_free(struct mp_stats *s);

/*
 * 0 if event has the form of a v1 event (its fields in order, ids and codes
 * of the allowed bytes, nothing after it), as mp_stats_add reads it; else -1
 * with err set.  Its place among the case's events only the fold can tell.
 */
int mp_stats_event_ok(const uint8_t *event, size_t len, char *err, size_t errlen);
/*
 * As mp_stats_event_ok, and every code it names (channel, grounds, domain,
 * manifestation, municipalities, status, closure) is a row of s's layout,
 * as the fold of a year of its case will need: 0, or -1 with err naming
 * the first that is not.
 */
int mp_stats_event_known(
    const struct mp_stats *s, const uint8_t *event, size_t len, char *err, size_t errlen);
/*
 * Fold one event, in log order.  0, or -1 with err saying why when the bytes
 * are not a valid v1 event, or name a code the layout lacks, or come out of
 * order for their case (seq).  Events of cases of other years are skipped.
 */
int mp_stats_add(struct mp_stats *s, const uint8_t *event, size_t len, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The document, suppressed, as malloc'ed NUL-terminated text; NULL on allocation failure. */
char *mp_stats_document(const struct mp_stats *s, const char *origin, uint64_t tree_size,
    const uint8_t root[32], int provisional);

/*
 * Compare a published document with a recomputed one, cell by cell; say()
 * gets one line per difference ("domain/housing: published 12, recomputed 11").
 * Returns the number of differences, or -1 if either is not a document.
 */
int mp_stats_compare(const char *published, const char *recomputed,
    void (*say)(void *arg, const char *line), void *arg);

/* A document as CSV a spreadsheet opens, labels in lang from p (p may be NULL: codes). */
char *mp_stats_csv(const char *doc, const struct mp_policy *p, const char *lang);

/*
 * Add documents of one year (already verified) into one national document:
 * a cell is the sum, or null when any document suppressed it.  NULL with
 * err set when they are not documents of the same year.
 */
char *mp_stats_merge(const char *const *docs, size_t n, char *err, size_t errlen);

/*
 * Disclosure control on one line of cells with a published total: cells in
 * 1..k-1 are suppressed, then complementary cells until no suppressed value
 * can be worked out from the total (rule in docs/STATISTICS.md).  sup[i] is
 * set to 1 for each suppressed cell.
 */
void mp_stats_suppress_line(const int64_t *cells, size_t n, int k, int *sup);

#endif
