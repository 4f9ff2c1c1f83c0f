/*
 * API test harness: a fresh instance on loopback, real HTTP through libcurl,
 * signed requests (PROTOCOL.md section 4) and TAP lines.  One test program,
 * so the state lives in a few globals declared here.
 */
#ifndef API_HARNESS_H
#define API_HARNESS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mp_keyfile.h"
#include "mp_sig.h"
#include "mp_token.h"

#define ORIGIN "test.meldpunt.example/log"
/* Every request leaves from this loopback address, so a stored or logged client IP is findable. */
#define CLIENT_IP "127.0.0.2"
#define USER_AGENT_CANARY "CANARY-UA-5d1e"
#define PATHLEN 4096

/* --- TAP ------------------------------------------------------------------------- */

/* One test line (tests/tap.h): "ok - name" or "not ok - name (file:line)"; returns 0 or 1. */
int ok_at(const char *file, int line, int cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define ok(cond, ...) ok_at(__FILE__, __LINE__, (cond) ? 1 : 0, __VA_ARGS__)
/* A "# ..." diagnostic line. */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the plan summary; the exit status of the program. */
int tap_done(void);

/* --- the instance and the server --------------------------------------------------- */

struct inst {
	char build[PATHLEN]; /* directory holding meldpunt and meldpuntd */
	char dir[256];       /* mkdtemp directory */
	char inst[PATHLEN];  /* dir/inst, the instance */
	char log[PATHLEN];   /* dir/server.log: the server's stdout and stderr */
	int port;
	char base[64];      /* http://127.0.0.1:PORT */
	char verifier[512]; /* printed by init */
	pid_t pid;          /* the running server, or 0 */
};
extern struct inst I;

/* Caseworkers Anna and Bram, auditor Carla, and Mallory whose key is not registered. */
extern struct mp_identity *anna, *bram, *carla, *mallory;

/*
 * Run argv (argv[0] a path), capture stdout and stderr (malloc'ed, NUL
 * terminated; pass NULL to discard).  The exit status, or -1.
 */
int run_cmd(char **out, char **err, const char *const argv[]);
/* Run SQL with the sqlcipher shell on the instance's database; stdout (malloc'ed) or NULL. */
char *sqlcipher(const char *sql);

/* A free TCP port on 127.0.0.1, or -1. */
int free_port(void);

/* Start meldpuntd for I and wait until /healthz answers 200; 0 or -1. */
int server_start(void);
/*
 * SIGTERM the server and wait up to `secs` seconds.  Returns its exit
 * status (0..255), 128+signal when it died of a signal, or -1 when it had to
 * be killed.
 */
int server_stop(int secs);
/* 1 while the server process is alive. */
int server_alive(void);

/* "meldpunt key add" for id with role; the exit status. */
int key_add(const struct mp_identity *id);

/* --- HTTP -------------------------------------------------------------------------- */

struct hdr {
	char *name;
	char *value;
};

struct resp {
	long status; /* 0 when no answer came */
	char *body;  /* NUL terminated */
	size_t len;
	struct hdr *hdrs;
	size_t nhdrs;
	json_t *json; /* the body parsed (duplicates rejected), or NULL */
};

struct req {
	const char *method;
	const char *target; /* path and query as sent */
	const char *ctype;  /* NULL: no Content-Type header */
	const void *body;   /* NULL: no body */
	size_t len;
	const char *const *headers; /* extra "Name: value" lines, NULL terminated; may be NULL */
};

/* Send q to the server; fills r (free with resp_free).  0, or -1 when no answer came. */
int http(struct resp *r, const struct req *q);
void resp_free(struct resp *r);
/* The value of the named header (case-insensitive), or NULL. */
const char *resp_header(const struct resp *r, const char *name);

/* Shorthands: GET; and a request with an application/json body (body may be NULL). */
int http_get(struct resp *r, const char *target);
int http_json(struct resp *r, const char *method, const char *target, const char *body);
int http_jsonb(
    struct resp *r, const char *method, const char *target, const void *body, size_t len);

/* Print the status and the start of the body as diagnostics. */
void diag_resp(const struct resp *r);

/*
 * One test line: the answer is `status` with an error of `code` (and, when
 * field is not NULL, that field; "contact.email" also matches "email").
 */
int expect_error_at(const char *file, int line, const struct resp *r, long status, const char *code,
    const char *field, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
#define expect_error(r, status, code, field, ...) \
	expect_error_at(__FILE__, __LINE__, (r), (status), (code), (field), __VA_ARGS__)

/* Totals of the checks that every response undergoes (see http()). */
struct resp_audit {
	unsigned responses, bad_headers, errors, bad_errors;
	char first_bad_headers[256], first_bad_error[512];
};
extern struct resp_audit AUDIT;

/* --- signed requests --------------------------------------------------------------- */

struct sighdr {
	char digest[MP_SIG_DIGEST_LEN];
	char input[MP_SIG_PARAMS_LEN + 16];
	char sig[128];
};

/*
 * Sign method and target (split into @path and @query) over body (NULL for
 * none) with created as given.  0 or -1.
 */
int sign_req(struct sighdr *h, const struct mp_identity *id, const char *method, const char *target,
    const void *body, size_t len, long long created);
/*
 * Send with the headers h (h NULL: unsigned), Content-Digest when h has
 * one, and body (NULL for none) as application/json.
 */
int send_signed(struct resp *r, const struct sighdr *h, const char *method, const char *target,
    const void *body, size_t len);
/* Sign now and send; body is a JSON text or NULL. */
int signed_req(struct resp *r, const struct mp_identity *id, const char *method, const char *target,
    const char *body);

/* --- the reporter's side ------------------------------------------------------------ */

struct sub {
	char token[MP_TOKEN_TEXT_LEN + 1];
	json_t *report; /* as submitted */
	char received[11];
	char case_id[64]; /* found through the caseworker API, or "" */
	char *answer;     /* the 201 body */
};

#define MAX_SUBS 64
extern struct sub SUBS[MAX_SUBS];
extern size_t NSUBS;

/*
 * POST the report (compact JSON of obj) to /api/v1/reports; on 201 record
 * it in SUBS and return its index, else -1.  r receives the answer.
 */
int submit_report(struct resp *r, json_t *obj);

/* POST /api/v1/followup for the token text; 0 or -1. */
int followup(struct resp *r, const char *token);

/* Case id of the submission (opening report envelopes with Anna's key); NULL if not found. */
const char *case_of(struct sub *s);

/*
 * Open an envelope of case_id with the box key pair and parse the plaintext
 * JSON; a new reference, or NULL when it does not open or parse.
 */
json_t *open_env(
    const json_t *env, const char *case_id, const uint8_t pk[32], const uint8_t sk[32]);

/* The number of cases Anna's list shows (limit 500), or -1. */
int case_count(void);

/* --- utilities ----------------------------------------------------------------------- */

/* Today + days in Europe/Amsterdam, YYYY-MM-DD. */
void amsterdam_day(char out[11], int days);

/* A malloc'ed string of n copies of the UTF-8 text unit. */
char *repeat(const char *unit, size_t n);

/* s percent-encoded for a query value (malloc'ed; free()). */
char *url_escape(const char *s);

/* Compact JSON text of obj (malloc'ed; free()). */
char *dump(const json_t *obj);

/* s as a string member of o, or NULL. */
const char *jstr(const json_t *o, const char *key);

/* b64u text of buf into out. */
void b64u(char *out, size_t outlen, const uint8_t *buf, size_t len);

/* 1 if s is YYYY-MM-DD with digits. */
int is_day(const char *s);

/* Strings that must never reach the instance directory or the server's log. */
enum canary_kind { CANARY_TEXT, CANARY_TOKEN, CANARY_CLIENT };
struct canary {
	int kind;
	char label[64];
	uint8_t *b;
	size_t n;
};
void canary_add(int kind, const char *s);
void canary_add_bytes(int kind, const char *label, const uint8_t *b, size_t n);
extern struct canary CANARIES[128];
extern size_t NCANARIES;

/* The test groups, in the order main runs them. */
void test_reports(void);
void test_validation(void);
void test_followup(void);
void test_cases(void);
void test_signatures(void);
void test_hostile(void);
void test_privacy(void);
/* Case work (docs/CASEWORK.md): test_casework.c, test_share.c, test_collective.c, test_purge.c. */
void test_casework(void);
void test_share(void);
void test_share_done(void);
void test_collective(void);
void test_purge(void);
void test_log(void);
/* Group commit under concurrent submissions (test_concurrency.c). */
void test_concurrency(void);
void test_migrate(void);

#endif
