/*
 * Inside the statistics module (include/mp_stats.h): the layout, the
 * parsed form of a document, and the helpers the stats/ files share.
 */
#ifndef MP_STATS_EXTERN_H
#define MP_STATS_EXTERN_H

#include <stddef.h>
#include <stdint.h>

#include "mp_stats.h"

/* The tables of a document, in the order they are published. */
enum stats_table {
	T_MUNI,
	T_GROUND,
	T_DOMAIN,
	T_MANIF,
	T_CHANNEL,
	T_STATUS,
	T_CLOSURE,
	T_ANON,
	T_KIND,
	NT
};

#define NCOLS 3 /* municipality columns */
#define CODE_MAX 40

/*
 * Limits that keep a case's state small (stats/fold.c): grounds are a
 * 64-bit set, the other lists one byte (0xff = none), municipalities two.
 */
#define MAX_GROUNDS 64
#define MAX_SMALL 250
#define MAX_MUNIS 65000

extern const char *const stats_table_names[NT];
extern const char *const stats_col_names[NCOLS];
/* The policy's list behind each table; MP_NLISTS for the tables with fixed rows. */
extern const enum mp_list_id stats_policy_lists[NT];

/* A code list with a sorted index for look-ups by (text, length). */
struct stats_entry {
	const char *code; /* into v */
	size_t len, i;
};

struct stats_list {
	char **v;
	size_t n;
	struct stats_entry *order; /* v sorted by code */
};

struct mp_stats_layout {
	struct stats_list rows[NT]; /* the published rows, synthetic rows included */
	struct stats_list munis;    /* codes an event may name: served + elsewhere + unknown */
	size_t nev[NT]; /* codes of rows[t] an event may name (without the synthetic row) */
	size_t received, closed; /* status indexes; closed is SIZE_MAX when absent */
};

/* Index of code[0..len) in l, or SIZE_MAX. */
size_t stats_list_find(const struct stats_list *l, const char *code, size_t len);

/* 1 if s[0..len) is a policy code: 1..40 of a-z, 0-9, '_'. */
int stats_code_ok(const char *s, size_t len);

/*
 * A layout over rows[t][0..n[t]) (codes copied), checked: codes well formed
 * and unique, the synthetic rows in place, the limits above.  NULL if not.
 */
struct mp_stats_layout *stats_layout_new(const char *const *const rows[NT], const size_t n[NT]);

/* A document, parsed: what compare, merge, CSV and the layout read. */
struct stats_source {
	char *origin;
	uint64_t tree_size;
	char root[44]; /* b64u of 32 bytes */
};

struct stats_doc_table {
	char **codes;
	size_t n;
	int64_t *cells;       /* n (municipality: n * NCOLS); -1 is suppressed */
	int64_t total[NCOLS]; /* [0] for the one-column tables */
};

struct stats_doc {
	/* Codes and origins belong to someone else (a layout, the caller's strings). */
	int borrowed;
	struct mp_stats_layout *layout; /* a parsed document's rows; owned; may be NULL */
	int merged; /* "origins" and "sources" instead of "origin", "tree_size", "root" */
	struct stats_source *src;
	size_t nsrc;
	int year, provisional, threshold;
	int64_t cases;
	struct stats_doc_table t[NT];
};

/* Parse and check a document; 0, or -1 with why (may be NULL) saying what is wrong. */
int stats_doc_parse(struct stats_doc *d, const char *text, size_t len, char *why, size_t whylen);
void stats_doc_clear(struct stats_doc *d);
/* The document's bytes (malloc'ed, NUL-terminated); NULL on failure. */
char *stats_doc_emit(const struct stats_doc *d);

/* 1 if s is an origin a document may name: 1..255 printable ASCII, no space. */
int stats_origin_ok(const char *s);

/*
 * The unsuppressed counts of s as a document's year, threshold, cases and
 * tables (codes borrowed from s's layout).  0, or -1 out of memory.
 */
int stats_fold_doc(const struct mp_stats *s, struct stats_doc *d);

/* Suppress d's tables with threshold k, linked cells included: cells become -1.  0 or -1. */
int stats_suppress_doc(struct stats_doc *d, int k);

/* A growing NUL-terminated text (stats/buf.c); bad is set on any failure. */
struct stats_buf {
	char *b;
	size_t len, cap;
	int bad;
};

void stats_put(struct stats_buf *o, const char *s, size_t n);
void stats_puts(struct stats_buf *o, const char *s);
void stats_printf(struct stats_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text (the caller frees it), or NULL (and nothing to free) if anything failed. */
char *stats_buf_done(struct stats_buf *o);

/* mp_stats_suppress_line starting from cells already marked in sup. */
void stats_suppress_from(const int64_t *cells, size_t n, int k, int *sup);

/* buf.c: format a reason into err (which may be NULL); always -1. */
int stats_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
