/*
 * meldpuntd internals shared by the server's files (the public headers in
 * include/ are the modules' contracts; this is the daemon's own).
 */
#ifndef MP_SERVER_EXTERN_H
#define MP_SERVER_EXTERN_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "mp_instance.h"
#include "mp_keyfile.h"
#include "mp_store.h"

#define KIB 1024
#define LIMIT_SMALL (128 * KIB)   /* report and message routes */
#define LIMIT_SIGNED (1024 * KIB) /* other signed routes */
#define LIMIT_BULK (16 * 1024 * KIB)
#define TEXT_MAX 10000 /* code points in a description or message */
#define JSON_DEPTH_MAX 8

/* Who may call a route. */
enum auth {
	AUTH_PUBLIC,
	AUTH_SIGNED, /* any registered role */
	AUTH_CASEWORKER,
	AUTH_AUDITOR,
};

/* An API error on its way to the client. */
struct api_err {
	unsigned status;
	const char *code;
	char message[200];
	char field[64];
	unsigned retry; /* 429 and 503: Retry-After in seconds (0: 30) */
	char pow[32];   /* 429: a challenge whose proof would be taken, or "" */
};

struct server;
struct request;

/* A handler fills *resp (a new reference) and its status, or sets err. */
struct reply {
	unsigned status;
	json_t *json;
	const char *text;  /* static, instead of json */
	char *body;        /* malloc'ed NUL-terminated text, instead of json; wiped when sent */
	const char *ctype; /* with text or body */
	unsigned retry;    /* a 429 or 503 page: its Retry-After in seconds (0: 30) */
};

typedef int (*handler_fn)(
    struct server *srv, struct request *rq, struct reply *out, struct api_err *err);

struct route {
	const char *pattern; /* '*' stands for one path segment */
	const char *method;
	enum auth auth;
	size_t limit; /* body bytes */
	handler_fn fn;
};

struct replay_cache;
struct log_cache;
struct limits;

/* tls.c: the certificate chain and private key for HTTPS, read before the service starts. */
struct tls_files {
	char *cert; /* PEM, NUL-terminated; NULL: plain HTTP */
	char *key;  /* PEM, NUL-terminated, in sodium_malloc'ed memory */
};
/* GnuTLS priorities: TLS 1.3 and 1.2, ECDHE, AEAD ciphers only. */
extern const char tls_priorities[];
/*
 * Read certfile (the PEM chain, server certificate first) and keyfile (its
 * unencrypted PEM key, not readable by others) into t, and check that they
 * complete a TLS 1.3 and a TLS 1.2 handshake under tls_priorities.  Both
 * NULL: plain HTTP, t empty.  0, or -1 with err saying which file is wrong.
 */
int tls_load(struct tls_files *t, const char *certfile, const char *keyfile, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Wipe the key and free both; t may be empty. */
void tls_free(struct tls_files *t);

struct server {
	struct mp_instance *in;
	struct mp_store *st;
	struct replay_cache *replay;
	struct log_cache *log;
	struct ui *ui; /* the pages' texts per language (catalog.c) */
	struct MHD_Daemon *daemon;
	struct limits *limits; /* rate limits and proofs of work (limit.c), or NULL */
	struct tls_files tls;  /* HTTPS when tls.cert is set (tls.c) */
	struct jobs *jobs;     /* the threads that answer requests (http.c) */
};

#define MAX_PATH_PARAM 64

struct request {
	char *uri; /* raw request target as received */
	const char *method;
	struct MHD_Connection *conn;
	const struct route *route;
	char param[MAX_PATH_PARAM]; /* the '*' segment */
	uint8_t *body;
	size_t len, cap;
	int started, too_large;
	long long begun;   /* monotonic seconds when the request line came */
	struct mp_key who; /* the signer, on signed routes */
	/* Answered by a job thread while the connection waits (http.c). */
	int deferred, answered;
	unsigned status;
	struct MHD_Response *resp; /* NULL when answering failed: the connection is closed */
	struct request *next;
};

/* http.c */
/*
 * The route for method and target's path (up to '?'), its '*' segment into
 * param; NULL when there is none.  allow, when given, receives every method
 * the path takes (empty: no route has the path).
 */
const struct route *route_find(
    const char *method, const char *target, char *param, char *allow, size_t alen);
int api_error(struct api_err *e, unsigned status, const char *code, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int reply_json(struct reply *out, unsigned status, json_t *json);
const char *request_header(struct request *rq, const char *name);
const char *request_query(struct request *rq, const char *name);
int request_path_query(struct request *rq, char *path, size_t plen, char *query, size_t qlen);
/* 1 if listen is ADDRESS:PORT (an IPv4 address, or an IPv6 one in brackets). */
int listen_address_ok(const char *listen);
int server_listen(const char *listen);
int server_start(struct server *srv, int fd);
void server_stop(struct server *srv);

/* json.c: parse a request body; the object is checked for depth, UTF-8 and NUL. */
int body_json(struct request *rq, json_t **out, struct api_err *e);
/* Reject fields not in the NULL-terminated list. */
int only_fields(const json_t *o, const char *const *allowed, const char *prefix, struct api_err *e);
/* Code points in a valid UTF-8 string. */
/* Each byte of s that begins no valid UTF-8 sequence (a character cut short too) becomes '?'. */
void utf8_clean(char *s);
size_t utf8_len(const char *s);
/* The length of s as a JSON string literal, and s written as one at dst (returns its end). */
size_t json_quoted_len(const char *s);
char *json_quote(char *dst, const char *s);
int text_field(const json_t *o, const char *name, size_t min, size_t max, int required,
    const char **out, struct api_err *e);

/* public.c */
/* What a reporter gets back for a report; receipt_clear wipes it. */
struct receipt {
	char token[34];
	char url[600]; /* the follow-up URL, token in its fragment */
	char *svg;     /* the QR code of url */
	char received[11];
	char case_id[MP_ID_LEN + 1];
	json_t *log; /* the inclusion proof of the case's created event, or NULL */
};
/* Validate a report body (a JSON object; "received" is added), seal, store and issue a token. */
int report_submit(struct server *srv, json_t *o, struct receipt *r, struct api_err *e);
void receipt_clear(struct receipt *r);
/*
 * The follow-up answer for a token: status, status_label, updated, messages,
 * and the report's language.  0 with *answer set, or -1 with e set.
 */
int followup_view(struct server *srv, const char *token, json_t **answer, struct api_err *e);
/* Add a reporter's message to the case of token. */
int followup_post(struct server *srv, const char *token, const char *text, struct api_err *e);
int h_healthz(struct server *, struct request *, struct reply *, struct api_err *);
int h_policy(struct server *, struct request *, struct reply *, struct api_err *);
int h_report(struct server *, struct request *, struct reply *, struct api_err *);
int h_followup(struct server *, struct request *, struct reply *, struct api_err *);
int h_followup_message(struct server *, struct request *, struct reply *, struct api_err *);
/* Seal plaintext JSON for the case's recipients (plus extra, may be NULL) and store it. */
/* The keys a report was sealed to (public.c), for the store to check. */
struct sealed_to {
	uint8_t (*keys)[32]; /* malloc'ed */
	size_t n;
	int fresh; /* ask the store, not this process's copy */
};
int seal_and_store(struct server *srv, const char *case_id, const char *kind, const char *sender,
    json_t *plain, const uint8_t *extra_pk, unsigned day_cap, struct api_err *e);

/* caseworker.c */
int h_cases(struct server *, struct request *, struct reply *, struct api_err *);
int h_case(struct server *, struct request *, struct reply *, struct api_err *);
int h_case_status(struct server *, struct request *, struct reply *, struct api_err *);
int h_case_message(struct server *, struct request *, struct reply *, struct api_err *);
int h_keys(struct server *, struct request *, struct reply *, struct api_err *);

/* public.c: a new follow-up token: its text, URL, stored tag and reporter public key. */
int token_issue(
    struct server *srv, char token[34], char *url, size_t urllen, uint8_t tag[32], uint8_t pk[32]);
const char *default_language(const struct mp_policy *p);

/* caseworker.c: shared by the case work handlers */
json_t *case_json(struct server *srv, const struct mp_case *c);
int path_case(struct server *srv, struct request *rq, struct mp_case *c, struct api_err *e);
int case_reply(struct server *srv, struct request *rq, struct mp_case *c, struct reply *out,
    struct api_err *e);
int id_ok(const char *s);
/* A {status, closure} body checked against the policy (closing needs a closure code). */
int move_body(const struct mp_policy *p, const json_t *o, const char **to, const char **closure,
    struct api_err *e);

/* casework.c */
int h_intake(struct server *, struct request *, struct reply *, struct api_err *);
int h_case_classify(struct server *, struct request *, struct reply *, struct api_err *);
int h_case_recipients(struct server *, struct request *, struct reply *, struct api_err *);
int h_recipients_missing(struct server *, struct request *, struct reply *, struct api_err *);
int h_recipients_add(struct server *, struct request *, struct reply *, struct api_err *);
int h_coll_create(struct server *, struct request *, struct reply *, struct api_err *);
int h_coll_list(struct server *, struct request *, struct reply *, struct api_err *);
int h_coll_show(struct server *, struct request *, struct reply *, struct api_err *);
int h_coll_add(struct server *, struct request *, struct reply *, struct api_err *);
int h_coll_status(struct server *, struct request *, struct reply *, struct api_err *);
int h_coll_messages(struct server *, struct request *, struct reply *, struct api_err *);
/* Check a caseworker's message or note envelope for a case; 0 or -1 with e set. */
int check_case_envelope(
    const struct mp_case *c, const json_t *env, const char *field, struct api_err *e);

/* limit.c: rate limits and proofs of work, in memory only (docs/ABUSE.md). */
struct limits *limits_new(const struct mp_policy *p);
void limits_free(struct limits *l);
/*
 * Charge the request to its client's and to all clients' budgets, and
 * during a flood check its proof of work.  0, or -1 with e set (429, its
 * retry, and a challenge when a proof would be taken).  l may be NULL.
 */
int limit_request(struct limits *l, struct request *rq, struct api_err *e);
/* The challenge the report form carries for rq's client now ("" when none): its bits, or 0. */
int limit_form_challenge(struct limits *l, struct request *rq, char *out, size_t outlen);
/* Open connections per client address: libmicrohttpd's accept policy and connection notice. */
enum MHD_Result limit_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void limit_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe);
/* Monotonic seconds. */
long long limit_now(void);
/* The leading zero bits a challenge asks for (0 if it is not one). */
int limit_challenge_bits(const char *challenge);

/* auth.c */
struct replay_cache *replay_new(void);
void replay_free(struct replay_cache *rc);
int auth_check(struct server *srv, struct request *rq, struct api_err *e);

/* log.c */
struct log_cache *log_new(void);
void log_free(struct log_cache *lc);
/* The newest checkpoint (malloc'ed note text), its size and root. */
int log_checkpoint(struct server *srv, char **note, uint64_t *size, uint8_t root[32]);
/* The operations of the process that holds the keys (privsep.c), by their codes. */
#define KEYS_TOKEN_TAG 1001 /* MP_REMOTE_USER + 1 */
#define KEYS_CHECKPOINT 1002
#define KEYS_STATS 1003
#define KEYS_FIND 1004
#define KEYS_REPORT 1005
struct mp_rbuf;
struct mp_wbuf;
int log_keys_serve(struct server *srv, uint32_t code, struct mp_rbuf *in, struct mp_wbuf *out);

/* lookup.c: a token's case, a new report's case, with one call where the keys are. */
struct found_item {
	char sender[12];
	char day[11];
	char *envelope;
};
struct found {
	struct mp_case c;
	struct found_item *items; /* the case's messages, sealed (view only) */
	size_t n;
	json_t *log; /* the proof of its created event, or NULL (view only) */
};
/*
 * The case whose token has this look-up value: 0 with *f filled (clear it
 * with found_clear), MP_STORE_NOTFOUND, or -1.  With view, also the
 * messages and the log proof.
 */
int case_find(struct server *srv, const uint8_t lookup[32], int view, struct found *f);
void found_clear(struct found *f);
/*
 * Store a new case (mp_store_case_create) whose token has this look-up
 * value (NULL: no token; c->token_tag is made from it); with log, also the
 * proof of its created event (NULL if it cannot be made now).
 */
int case_store(
    struct server *srv, const uint8_t *lookup, struct mp_case_new *c, char ref[24], json_t **log);
int lookup_keys_serve(struct server *srv, uint32_t code, struct mp_rbuf *in, struct mp_wbuf *out);

/* privsep.c: run meldpuntd's processes until stopped; the exit status. */
int privsep_run(struct server *srv, const char *listen);
/* The key holder's operations (KEYS_*), as the store process serves them (arg: the server). */
int keys_serve(void *arg, uint32_t code, struct mp_rbuf *in, struct mp_wbuf *out);
/* The keyed hash of a token's lookup value, by the process that holds the pepper. */
int token_tag(struct server *srv, const uint8_t lookup[32], uint8_t tag[32]);
/* sandbox.c: confine the calling process for its role; 0, or -1. */
int sandbox_worker(void);
int sandbox_store(const char *dir);
int sandbox_parent(void);
/* {"index", "salt", "event", "checkpoint", "proof"} of the case's created event, or NULL. */
json_t *log_proof_json(struct server *srv, const char *case_id);
int h_log_checkpoint(struct server *, struct request *, struct reply *, struct api_err *);
int h_log_leaves(struct server *, struct request *, struct reply *, struct api_err *);
int h_log_inclusion(struct server *, struct request *, struct reply *, struct api_err *);
int h_log_consistency(struct server *, struct request *, struct reply *, struct api_err *);
int h_audit_events(struct server *, struct request *, struct reply *, struct api_err *);
int h_stats(struct server *, struct request *, struct reply *, struct api_err *);
int h_stats_sig(struct server *, struct request *, struct reply *, struct api_err *);

/* qr.c: text as a QR code (byte mode, level M): its modules, or an SVG; malloc'ed. */
int qr_modules(const char *text, int mask, uint8_t **out, int *width);
char *qr_svg(const char *text);

/* validate.c */
int report_validate(const struct mp_policy *p, const json_t *o, struct api_err *e);

/* Map a store result to an API error. */
int store_error(int rc, struct api_err *e);

/* html.c: a page under construction; its memory is wiped whenever it moves or is freed. */
struct html {
	char *buf;
	size_t len, cap;
	int failed; /* out of memory or too large: html_done gives NULL */
};
void html_init(struct html *h);
/* Append fmt, whose literal text is the only markup: each %s is escaped; %d and %zu as printf. */
void html_f(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append text escaped for HTML text and quoted attribute values (& < > " '). */
void html_esc(struct html *h, const char *s);
void html_escn(struct html *h, const char *s, size_t n);
/* Append n bytes of markup this program generated (the QR code's SVG); never a person's text. */
void html_markup(struct html *h, const char *markup, size_t n);
/* The page as a malloc'ed string (for reply.body), or NULL; h is emptied and wiped. */
char *html_done(struct html *h);
void html_free(struct html *h);

/* catalog.c: the pages' texts, `key = text` per language (policy/ui/<lang>.conf). */
struct ui_catalog;
struct ui;
/* 0 with *out set, or -1 with err "line N: why" (N 0 for the whole file). */
int ui_catalog_parse(struct ui_catalog **out, const char *text, size_t len, char *err,
    size_t errlen) __attribute__((warn_unused_result));
void ui_catalog_free(struct ui_catalog *c);
/* Texts in key order: the count, and the key and text at i. */
size_t ui_catalog_size(const struct ui_catalog *c);
const char *ui_catalog_key(const struct ui_catalog *c, size_t i);
const char *ui_catalog_text(const struct ui_catalog *c, size_t i);
/* The text of key, or NULL. */
const char *ui_catalog_get(const struct ui_catalog *c, const char *key);
/* 0 if c has exactly ref's keys, each with ref's {placeholders}; else -1, err names the first. */
int ui_catalog_match(
    const struct ui_catalog *ref, const struct ui_catalog *c, char *err, size_t errlen);
/* Replace texts of c by those of over (whose keys must all be in c, placeholders alike). */
int ui_catalog_overlay(
    struct ui_catalog *c, const struct ui_catalog *over, char *err, size_t errlen);
/*
 * The texts for each language of the policy: built in, then the instance's
 * DIR/ui/common.conf, then DIR/ui/<lang>.conf.  0, or -1 with err naming the file and line.
 */
int ui_load(struct ui **out, const struct mp_instance *in, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void ui_free(struct ui *u);
/* The catalog of the policy's language number li. */
const struct ui_catalog *ui_lang(const struct ui *u, int li);
/* Bytes of the well-formed UTF-8 character at s (n bytes left), or 0. */
size_t utf8_char(const unsigned char *s, size_t n);
/* Files the binaries carry (tools/embed.sh), ended by { NULL, NULL }. */
struct mp_embedded_file {
	const char *name;
	const char *text;
};
extern const struct mp_embedded_file mp_embedded_ui[];     /* by language code */
extern const struct mp_embedded_file mp_embedded_static[]; /* server/static/ */
/* A built-in static file's text by name ("app.css"), or NULL. */
const char *embedded_static(const char *name);

/* form.c: application/x-www-form-urlencoded bodies, read strictly. */
struct form_pair {
	char *key;
	char *val; /* decoded: UTF-8 without NUL, line ends as \n */
};
struct form {
	struct form_pair *v;
	size_t n;
};
/*
 * Parse body: every name in allowed (NULL-terminated), none twice unless
 * in repeatable (may be NULL).  0, or -1 for anything else; form_free either way.
 */
int form_parse(struct form *f, const uint8_t *body, size_t len, const char *const *allowed,
    const char *const *repeatable);
void form_free(struct form *f); /* wipes every name and value */
const char *form_get(const struct form *f, const char *key);
int form_has(const struct form *f, const char *key, const char *val);
/* The longest text a report form field takes (code points), 0 for a choice. */
size_t form_max(const char *name);
extern const char *const form_report_names[], *const form_report_repeatable[];
#define FORM_ERRORS_MAX 16
struct form_error {
	char field[32];  /* the form's field name, "" for the form as a whole */
	const char *key; /* its catalog text */
	size_t max;      /* the {max} of error.too_long */
};
struct form_errors {
	unsigned status; /* the page's HTTP status */
	size_t n;
	struct form_error v[FORM_ERRORS_MAX];
};
/*
 * The report form as the API's report object (language lang), checked by
 * the API's validator: 0 with *out set, or -1 with every error in errs.
 */
int form_report(const struct mp_policy *p, const struct form *f, const char *lang, json_t **out,
    struct form_errors *errs);
/* form_report, then report_submit: 0 with r filled, or -1 with errs. */
int form_submit(struct server *srv, const struct form *f, const char *lang, struct receipt *r,
    struct form_errors *errs);

/* pages.c: the residents' pages (docs/PAGES.md). */
int h_page_form(struct server *, struct request *, struct reply *, struct api_err *);
int h_page_report(struct server *, struct request *, struct reply *, struct api_err *);
int h_page_followup(struct server *, struct request *, struct reply *, struct api_err *);
int h_page_status(struct server *, struct request *, struct reply *, struct api_err *);
int h_page_message(struct server *, struct request *, struct reply *, struct api_err *);
int h_page_accessibility(struct server *, struct request *, struct reply *, struct api_err *);
int h_static(struct server *, struct request *, struct reply *, struct api_err *);
/* The HTML page for an error on a page route (malloc'ed), or NULL. */
char *page_error(struct server *srv, struct request *rq, const struct api_err *e);

#endif
