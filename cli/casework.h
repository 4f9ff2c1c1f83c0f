/*
 * Helpers shared by the caseworker's commands (caseworker.c, intake.c,
 * collective.c, share.c): naming cases and collectives by id or reference,
 * the recipients every envelope is sealed to, reading a text to send, and
 * aligned tables for a terminal.  Like util.h, every helper that fails
 * prints one line "meldpunt: <why>" itself; the int helpers return 0 or an
 * exit status (EXIT_USER or EXIT_USAGE from cli.h).
 */
#ifndef MP_CLI_CASEWORK_H
#define MP_CLI_CASEWORK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "mp_envelope.h"

#define CW_ID_LEN 22         /* a case, item or collective id: b64u of 16 bytes */
#define CW_TEXT_MAX_CP 10000 /* a message or report text, in code points */
/* Such a text read from a file: 10000 code points of up to 4 bytes, and slack. */
#define CW_TEXT_FILE_MAX (64 * 1024)

/* What a CASE argument names (cw_case_arg). */
#define CW_ARG_BAD 0
#define CW_ARG_ID 1
#define CW_ARG_REF 2

/* Show a case's text in an "unopenable item" form (caseworker.c, collective.c). */
extern const char cw_cannot_open[];

/*
 * What a CASE argument is: CW_ARG_ID (an id), CW_ARG_REF (a reference
 * "YYYY-NNNN", four or more digits after the dash) or CW_ARG_BAD.
 */
int cw_case_arg(const char *arg);

/* The same for a collective: CW_ARG_ID or CW_ARG_REF ("CYYYY-NNNN"). */
int cw_collective_arg(const char *arg);

/* The usage error for a CASE argument that is neither: returns EXIT_USAGE. */
int cw_case_arg_error(const char *usage, const char *arg);

/* The same for a collective's ID argument. */
int cw_collective_arg_error(const char *usage, const char *arg);

/*
 * mp_opts_exit (util.h) for a subcommand of case or collective: its help
 * is followed by MP_CLIENT_HELP, the options they all take.
 */
int cw_opts_exit(int r, const char *usage, const char *help);

/*
 * mp_client_open_opts as an exit status: 0, EXIT_USER, or EXIT_USAGE when
 * no key file is named.
 */
int cw_open_client(struct mp_client **c, const struct mp_client_opts *o);

/*
 * The case id for a CASE argument (checked with cw_case_arg first): an id
 * is taken as it is; a reference is looked up with GET
 * /api/v1/cases?ref=...  0 with id[] filled, else EXIT_USER (printed).
 */
int cw_resolve_case(struct mp_client *c, const char *arg, char id[CW_ID_LEN + 1]);

/*
 * The collective's summary {"id","ref","name","created","cases"} for an id
 * or a reference, from GET /api/v1/collectives.  0 with *summary set (a new
 * reference), else EXIT_USER (printed).
 */
int cw_resolve_collective(struct mp_client *c, const char *arg, json_t **summary);

/*
 * GET path, a route of the API: 0 with *out set to the answer (a new
 * reference), else EXIT_USER (printed) with *out NULL.
 */
int cw_get(struct mp_client *c, const char *path, json_t **out);

/*
 * cw_get for a route that answers a list: the answer's member name (e.g.
 * "keys") must be an array.  0 with *resp set (a new reference) and *list
 * that array (owned by *resp), else EXIT_USER (printed) with both NULL.
 */
int cw_get_list(
    struct mp_client *c, const char *path, const char *name, json_t **resp, json_t **list);

/* GET /api/v1/cases/{id}: 0 with *cas set (a new reference), else EXIT_USER. */
int cw_get_case(struct mp_client *c, const char *id, json_t **cas);

/* GET /api/v1/keys: 0 with *keys set to the array (a new reference), else EXIT_USER. */
int cw_get_keys(struct mp_client *c, json_t **keys);

/* GET /api/v1/policy: 0 with *policy set (a new reference), else EXIT_USER. */
int cw_get_policy(struct mp_client *c, json_t **policy);

/*
 * Check that code is in the policy's list (e.g. "grounds", "domains");
 * what names it in the message ("domain").  0, or EXIT_USER with a message
 * listing the codes allowed.
 */
int cw_policy_code(const json_t *policy, const char *list, const char *what, const char *code);

/*
 * The box keys every envelope is sealed to (PROTOCOL.md section 3): each
 * active caseworker and recovery key in keys (from cw_get_keys), appended
 * to rcpt[0..*n) (room for MP_ENVELOPE_MAX_RECIPIENTS), without repeats.
 * 0, or EXIT_USER (a malformed bundle, too many, or no caseworker at all).
 */
int cw_staff_recipients(const json_t *keys, struct mp_box_pk *rcpt, size_t *n);

/* Append pk to rcpt[0..*n) unless it is there already; -1 when full. */
int cw_add_recipient(struct mp_box_pk *rcpt, size_t *n, const uint8_t pk[32]);

/*
 * The text of a message, note or report: --text, the contents of --file
 * (- for standard input), or standard input; trailing line ends dropped;
 * 1 to CW_TEXT_MAX_CP code points of UTF-8.  what names it in messages
 * ("reply", "note").  sodium_malloc'ed into *text (free with
 * mp_secret_free).  0, or EXIT_USER (printed).
 */
int cw_read_text(char **text, const char *opt_text, const char *opt_file, const char *what);

/*
 * The plaintext of a caseworker's message or note,
 * {"text","from":"caseworker","author"} in compact JSON.  malloc'ed (free
 * it with mp_wipe_free), or NULL (printed).
 */
char *cw_message_plaintext(const char *text, const char *author);

/*
 * Seal a message or note {"text","from":"caseworker","author"} of the case
 * to rcpt[0..n).  A new envelope, or NULL (printed).  The plaintext is
 * wiped before this returns.
 */
json_t *cw_seal_message(const char *kind, const char *case_id, const char *text, const char *author,
    const struct mp_box_pk *rcpt, size_t n);

/*
 * The body {"status"[, "closure"]} of a status change (case status,
 * collective status): a new object, or NULL (printed).
 */
json_t *cw_status_body(const char *status, const char *closure);

/*
 * A classification given as options (case classify, intake): --grounds
 * a,b --domain D --manifestation M --incident CODE --residence CODE.
 */
struct cw_class {
	const char *grounds, *domain, *manifestation, *incident, *residence;
};
#define CW_CLASS_OPTS(k) \
	{ "grounds", &(k).grounds, NULL }, { "domain", &(k).domain, NULL }, \
	    { "manifestation", &(k).manifestation, NULL }, { "incident", &(k).incident, NULL }, \
	{ \
		"residence", &(k).residence, NULL \
	}
#define CW_CLASS_USAGE "--grounds a,b --domain D --manifestation M --incident CODE --residence CODE"
#define CW_CLASS_HELP \
	"  --grounds a,b         the grounds, comma-separated (origin, religion, ...)\n" \
	"  --domain D            the domain (housing, labour_market, ...)\n" \
	"  --manifestation M     how it showed (refusal, remark, ...)\n" \
	"  --incident CODE       the municipality where it happened (leiden, ...)\n" \
	"  --residence CODE      the reporter's municipality (elsewhere, unknown, ...)\n"

/*
 * The classification object {"grounds": [...], "domain", "manifestation",
 * "incident_municipality", "residence_municipality"} of the options.  0
 * with *out set, or with *out NULL when none of the five is given; else
 * EXIT_USAGE (printed with usage: some but not all given, an empty or
 * repeated ground) or EXIT_USER (out of memory).
 */
int cw_class_json(const struct cw_class *k, const char *usage, json_t **out);

/* Check a classification's codes against the policy: 0, or EXIT_USER (printed). */
int cw_class_check(const json_t *policy, const json_t *cls);

/* A classification on one line: "origin, religion; housing; refusal; leiden; elsewhere". */
void cw_print_class(FILE *f, const json_t *cls);

/* The string member key of o, or def. */
const char *cw_str(const json_t *o, const char *key, const char *def);

/* JSON for a reader, on stdout, two-space indented.  0, or -1. */
int cw_print_json(const json_t *j);

/* Append "?key=<escaped value>" (or "&key=...") to path.  0, or -1 if it does not fit. */
int cw_add_query(char *path, size_t size, const char *key, const char *value);

/* path = prefix id suffix, for a route with an id; 0, or -1 if it does not fit. */
int cw_path(char *path, size_t size, const char *prefix, const char *id, const char *suffix);

/* Today as YYYY-MM-DD in $TZ, or Europe/Amsterdam when TZ is not set. */
void cw_today(char out[11]);

/* Whole days from day a to day b (YYYY-MM-DD each); 0 if either is malformed. */
long cw_days_between(const char *a, const char *b);

/* 1 when standard output is a terminal: headings and summaries are for people. */
int cw_tty(void);

/* Spaces from column have to column want. */
void cw_pad(size_t have, size_t want);

/*
 * A table of text cells printed in aligned columns (two spaces apart, the
 * last column not padded).  Cells are pointers that must stay valid until
 * the table is printed; they are shown with mp_print_line, so text from
 * the server cannot drive the terminal.
 */
struct cw_table {
	size_t ncols, nrows, cap;
	const char **cells;
	size_t *width;
};

int cw_table_init(struct cw_table *t, size_t ncols);
/* Add one row of ncols cells (NULL shows as "-").  0, or -1 out of memory. */
int cw_table_add(struct cw_table *t, const char *const *row);
/* The rows, after a heading line when head is not NULL. */
void cw_table_print(struct cw_table *t, const char *const *head);
void cw_table_free(struct cw_table *t);

#endif
