/* HTTP: libmicrohttpd set-up, routing, request bodies and every response's headers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "extern.h"
#include "mp_wipe.h"

/* Seconds a request body may take to arrive: a minute, plus one per 8 KiB it may hold. */
#define BODY_SECONDS(limit) (60 + (long long)(limit) / (8 * KIB))

static const struct route routes[] = {
	{ "/healthz", "GET", AUTH_PUBLIC, 0, h_healthz },
	/* The residents' pages (docs/PAGES.md): forms in, HTML out. */
	{ "/", "GET", AUTH_PUBLIC, 0, h_page_form },
	{ "/report", "POST", AUTH_PUBLIC, LIMIT_SMALL, h_page_report },
	{ "/f", "GET", AUTH_PUBLIC, 0, h_page_followup },
	{ "/f", "POST", AUTH_PUBLIC, LIMIT_SMALL, h_page_status },
	{ "/f/message", "POST", AUTH_PUBLIC, LIMIT_SMALL, h_page_message },
	{ "/accessibility", "GET", AUTH_PUBLIC, 0, h_page_accessibility },
	{ "/static/app.css", "GET", AUTH_PUBLIC, 0, h_static },
	{ "/static/app.js", "GET", AUTH_PUBLIC, 0, h_static },
	{ "/api/v1/policy", "GET", AUTH_PUBLIC, 0, h_policy },
	{ "/api/v1/reports", "POST", AUTH_PUBLIC, LIMIT_SMALL, h_report },
	{ "/api/v1/followup", "POST", AUTH_PUBLIC, LIMIT_SMALL, h_followup },
	{ "/api/v1/followup/messages", "POST", AUTH_PUBLIC, LIMIT_SMALL, h_followup_message },
	{ "/api/v1/cases", "GET", AUTH_CASEWORKER, 0, h_cases },
	{ "/api/v1/cases/*", "GET", AUTH_CASEWORKER, 0, h_case },
	{ "/api/v1/cases/*/status", "POST", AUTH_CASEWORKER, LIMIT_SIGNED, h_case_status },
	{ "/api/v1/cases/*/messages", "POST", AUTH_CASEWORKER, LIMIT_SMALL, h_case_message },
	{ "/api/v1/cases", "POST", AUTH_CASEWORKER, LIMIT_SMALL, h_intake },
	{ "/api/v1/cases/*/classification", "POST", AUTH_CASEWORKER, LIMIT_SIGNED,
	    h_case_classify },
	{ "/api/v1/cases/*/recipients", "POST", AUTH_CASEWORKER, LIMIT_SIGNED, h_case_recipients },
	{ "/api/v1/recipients", "GET", AUTH_CASEWORKER, 0, h_recipients_missing },
	{ "/api/v1/recipients", "POST", AUTH_CASEWORKER, LIMIT_BULK, h_recipients_add },
	{ "/api/v1/collectives", "POST", AUTH_CASEWORKER, LIMIT_SIGNED, h_coll_create },
	{ "/api/v1/collectives", "GET", AUTH_CASEWORKER, 0, h_coll_list },
	{ "/api/v1/collectives/*", "GET", AUTH_CASEWORKER, 0, h_coll_show },
	{ "/api/v1/collectives/*/cases", "POST", AUTH_CASEWORKER, LIMIT_BULK, h_coll_add },
	{ "/api/v1/collectives/*/status", "POST", AUTH_CASEWORKER, LIMIT_SIGNED, h_coll_status },
	{ "/api/v1/collectives/*/messages", "POST", AUTH_CASEWORKER, LIMIT_BULK, h_coll_messages },
	{ "/api/v1/keys", "GET", AUTH_SIGNED, 0, h_keys },
	{ "/api/v1/log/checkpoint", "GET", AUTH_PUBLIC, 0, h_log_checkpoint },
	{ "/api/v1/log/leaves", "GET", AUTH_PUBLIC, 0, h_log_leaves },
	{ "/api/v1/log/inclusion", "GET", AUTH_PUBLIC, 0, h_log_inclusion },
	{ "/api/v1/log/consistency", "GET", AUTH_PUBLIC, 0, h_log_consistency },
	{ "/api/v1/audit/events", "GET", AUTH_AUDITOR, 0, h_audit_events },
	{ "/api/v1/stats/*", "GET", AUTH_PUBLIC, 0, h_stats },
	{ "/api/v1/stats/*.sig", "GET", AUTH_PUBLIC, 0, h_stats_sig },
};
#define NROUTES (sizeof routes / sizeof routes[0])

int
api_error(
    struct api_err *e, unsigned status, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->code = code;
	/* A refusal for too many requests sets these after; no other error carries them. */
	e->retry = 0;
	e->pow[0] = '\0';
	snprintf(e->field, sizeof e->field, "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	/* Both may quote what a client sent (a method, a key), and may be cut inside a character. */
	utf8_clean(e->field);
	utf8_clean(e->message);
	return -1;
}

int
reply_json(struct reply *out, unsigned status, json_t *json)
{
	out->status = status;
	out->json = json;
	return json == NULL ? -1 : 0;
}

int
store_error(int rc, struct api_err *e)
{
	if (rc == MP_STORE_NOTFOUND)
		return api_error(e, 404, "not_found", NULL, "no such case");
	if (rc == MP_STORE_CONFLICT)
		return api_error(e, 409, "conflict", NULL, "the case changed meanwhile; try again");
	return api_error(e, 503, "unavailable", NULL,
	    "the service cannot store this now; "
	    "nothing was saved, please try again later");
}

const char *
request_header(struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *
request_query(struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* The path and query exactly as received; the query is "?" when there is none. */
int
request_path_query(struct request *rq, char *path, size_t plen, char *query, size_t qlen)
{
	const char *q = strchr(rq->uri, '?');
	size_t n = q ? (size_t)(q - rq->uri) : strlen(rq->uri);
	int r;

	if (n >= plen)
		return -1;
	memcpy(path, rq->uri, n);
	path[n] = '\0';
	r = snprintf(query, qlen, "%s", q ? q : "?");
	return (r < 0 || (size_t)r >= qlen) ? -1 : 0;
}

/* Match a raw path against a pattern; the '*' segment goes to param. */
static int
match(const char *pattern, const char *path, size_t plen, char *param)
{
	const char *p = pattern, *s = path, *end = path + plen;

	while (*p && s < end) {
		if (*p == '*') {
			size_t n = 0;
			/* The segment ends at '/' or at the pattern's next literal ("*.sig"). */
			while (s + n < end && s[n] != '/' && (p[1] == '\0' || s[n] != p[1])) {
				char c = s[n];
				if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				        (c >= '0' && c <= '9') || c == '-' || c == '_'))
					return 0;
				n++;
			}
			if (n == 0 || n >= MAX_PATH_PARAM)
				return 0;
			memcpy(param, s, n);
			param[n] = '\0';
			s += n;
			p++;
		} else if (*p++ != *s++) {
			return 0;
		}
	}
	return *p == '\0' && s == end;
}

const struct route *
route_find(const char *method, const char *target, char *param, char *allow, size_t alen)
{
	size_t plen = strcspn(target, "?"), i;
	int path_known = 0;

	if (allow != NULL && alen > 0)
		allow[0] = '\0';
	for (i = 0; i < NROUTES; i++) {
		if (!match(routes[i].pattern, target, plen, param))
			continue;
		if (strcmp(routes[i].method, method) == 0)
			return &routes[i];
		/* Allow lists every method the path takes. */
		if (allow != NULL && alen > 0)
			snprintf(allow + strlen(allow), alen - strlen(allow), "%s%s",
			    path_known ? ", " : "", routes[i].method);
		path_known = 1;
	}
	return NULL;
}

/* Find the route; 404 when no pattern matches the path, 405 when only the method is wrong. */
static int
find_route(struct request *rq, struct api_err *e, char *allow, size_t alen)
{
	if ((rq->route = route_find(rq->method, rq->uri, rq->param, allow, alen)) != NULL)
		return 0;
	if (allow[0] != '\0')
		return api_error(
		    e, 405, "method_not_allowed", NULL, "%s is not allowed here", rq->method);
	return api_error(e, 404, "not_found", NULL, "no such resource");
}

/*
 * Everything outside the API answers in HTML: the residents' pages, their
 * files, and the error pages of any path a person may type.
 */
static int
page_route(const char *uri)
{
	return strncmp(uri, "/api/", 5) != 0 && strcmp(uri, "/healthz") != 0 &&
	    strncmp(uri, "/healthz?", 9) != 0;
}

/* The media type, with no parameter or only charset=utf-8. */
static int
type_ok(const char *ct, const char *type)
{
	size_t n = strlen(type);
	const char *p;

	if (ct == NULL || strncasecmp(ct, type, n) != 0)
		return 0;
	p = ct + n;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 1;
	if (*p++ != ';')
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return 0;
	p += 8;
	if (strncasecmp(p, "utf-8", 5) == 0)
		p += 5;
	else if (strncasecmp(p, "\"utf-8\"", 7) == 0)
		p += 7;
	else
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '\0';
}

/* Set by server_start when it serves HTTPS: browsers are then told to use nothing else. */
static int hsts;

static void
common_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* Strict for every answer: the pages need nothing but their own two files. */
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'none'; "
	    "script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
	    "frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	if (hsts)
		MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
}

/* e, when the body tells of an error: its Retry-After and proof-of-work challenge. */
static enum MHD_Result
send_body(struct MHD_Connection *conn, struct request *rq, unsigned status, char *body,
    const char *ctype, const char *allow, const struct api_err *e)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char retry[16];

	/* Answers can hold a reporter's messages: wiped when sent. */
	r = MHD_create_response_from_buffer_with_free_callback(strlen(body), body, mp_wipe_free);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	common_headers(r);
	MHD_add_response_header(r, "Content-Type", ctype);
	if (status == 503 || status == 429) {
		snprintf(retry, sizeof retry, "%u", e != NULL && e->retry > 0 ? e->retry : 30);
		MHD_add_response_header(r, "Retry-After", retry);
	}
	if (e != NULL && e->pow[0] != '\0') {
		/* docs/ABUSE.md: a proof of work for this challenge lets the report in. */
		MHD_add_response_header(r, "Meldpunt-Pow-Challenge", e->pow);
		snprintf(retry, sizeof retry, "%d", limit_challenge_bits(e->pow));
		MHD_add_response_header(r, "Meldpunt-Pow-Bits", retry);
	}
	if (allow != NULL && allow[0] != '\0')
		MHD_add_response_header(r, "Allow", allow);
	if (rq != NULL && rq->deferred) {
		/* A job thread: the handler queues it once the connection is resumed. */
		rq->resp = r;
		rq->status = status;
		return MHD_YES;
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
send_json(struct request *rq, unsigned status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(j);
	if (s == NULL)
		return MHD_NO;
	return send_body(rq->conn, rq, status, s, "application/json; charset=utf-8", NULL, NULL);
}

/* rq is NULL only when there is no request to keep the answer in (out of memory). */
static enum MHD_Result
send_error(
    struct MHD_Connection *conn, struct request *rq, const struct api_err *e, const char *allow)
{
	json_t *inner = json_pack("{s:s, s:s}", "code", e->code, "message", e->message), *outer;
	char *s;

	if (inner != NULL && e->field[0] != '\0' &&
	    json_object_set_new(inner, "field", json_string(e->field)) != 0) {
		json_decref(inner);
		inner = NULL;
	}
	outer = json_pack("{s:o}", "error", inner);
	s = json_dumps(outer, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(outer);
	/* Never a closed connection for an answer: the code alone (a name of ours, in ASCII). */
	if (s == NULL &&
	    asprintf(&s, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", e->code, e->code) < 0)
		s = NULL;
	if (s == NULL)
		return MHD_NO;
	return send_body(conn, rq, e->status, s, "application/json; charset=utf-8", allow, e);
}

/* An error as its reader expects it: a small page on the pages' routes, JSON on the API. */
static enum MHD_Result
send_failure(struct server *srv, struct request *rq, const struct api_err *e, const char *allow)
{
	char *page;

	if (page_route(rq->uri) && (page = page_error(srv, rq, e)) != NULL)
		return send_body(
		    rq->conn, rq, e->status, page, "text/html; charset=utf-8", allow, e);
	return send_error(rq->conn, rq, e, allow);
}

/* Checks that need no body: route, method, media type, declared length. */
static int
precheck(struct request *rq, struct api_err *e, char *allow, size_t alen)
{
	const char *cl;
	unsigned long long n;
	char *end;

	if (find_route(rq, e, allow, alen) != 0)
		return -1;
	/* The pages' forms come url-encoded, as browsers send them; the API takes only JSON. */
	if (rq->route->limit > 0 &&
	    !type_ok(request_header(rq, "Content-Type"),
	        page_route(rq->uri) ? "application/x-www-form-urlencoded" : "application/json"))
		return api_error(e, 415, "unsupported_media_type", NULL, "send %s in UTF-8",
		    page_route(rq->uri) ? "application/x-www-form-urlencoded" : "application/json");
	if ((cl = request_header(rq, "Content-Length")) != NULL) {
		/*
		 * A body a little over the limit is read and dropped, so that the
		 * client, still sending, gets the 413 instead of a reset; a far larger
		 * one is refused at once.
		 */
		n = strtoull(cl, &end, 10);
		if (*end == '\0' && n > 2 * (unsigned long long)rq->route->limit + 64 * KIB)
			return api_error(e, 413, "too_large", NULL,
			    "the body may be at most %zu bytes", rq->route->limit);
	}
	return 0;
}

static void
append_body(struct request *rq, const char *data, size_t n)
{
	uint8_t *nb;
	size_t cap;

	if (rq->too_large)
		return;
	if (n > rq->route->limit - rq->len) {
		rq->too_large = 1;
		return;
	}
	if (rq->len + n > rq->cap) {
		cap = rq->cap ? rq->cap : 4096;
		while (cap < rq->len + n)
			cap *= 2;
		if (cap > rq->route->limit)
			cap = rq->route->limit;
		/* Grown by copy so that no stale plaintext is left behind unwiped. */
		if ((nb = malloc(cap + 1)) == NULL) {
			rq->too_large = 1;
			return;
		}
		if (rq->len > 0)
			memcpy(nb, rq->body, rq->len);
		if (rq->body != NULL) {
			sodium_memzero(rq->body, rq->cap);
			free(rq->body);
		}
		rq->body = nb;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
}

static enum MHD_Result
dispatch(struct server *srv, struct request *rq)
{
	struct reply out = { 0, NULL, NULL, NULL, NULL, 0 };
	struct api_err e = { 500, "unavailable", "", "", 0, "" };
	enum MHD_Result ret;

	if (rq->too_large) {
		api_error(&e, 413, "too_large", NULL, "the body may be at most %zu bytes",
		    rq->route->limit);
		return send_failure(srv, rq, &e, NULL);
	}
	if (rq->body != NULL)
		rq->body[rq->len] = '\0';
	/* Rate limits before anything costly: the form's proof of work is in the body. */
	if (limit_request(srv->limits, rq, &e) != 0)
		return send_failure(srv, rq, &e, NULL);
	if (rq->route->auth != AUTH_PUBLIC && auth_check(srv, rq, &e) != 0)
		return send_failure(srv, rq, &e, NULL);
	if (rq->route->fn(srv, rq, &out, &e) != 0) {
		json_decref(out.json);
		mp_wipe_free(out.body);
		if (e.status == 500)
			api_error(&e, 503, "unavailable", NULL, "please try again later");
		return send_failure(srv, rq, &e, NULL);
	}
	if (out.body != NULL) {
		struct api_err wait = { out.status, "", "", "", out.retry, "" };
		return send_body(rq->conn, rq, out.status, out.body, out.ctype, NULL, &wait);
	}
	if (out.text != NULL) {
		char *copy = strdup(out.text);
		if (copy == NULL)
			return MHD_NO;
		return send_body(rq->conn, rq, out.status, copy, out.ctype, NULL, NULL);
	}
	ret = send_json(rq, out.status, out.json);
	return ret;
}

/*
 * The job threads.  A request whose body is complete is answered by one of
 * them while its connection is suspended, in the order requests came, so
 * that libmicrohttpd's threads only read and write: a request never waits
 * behind a slow one that happens to share its thread (the store's commit,
 * a proof of work's check), and as many requests can wait on the store as
 * it has channels.
 *
 * One thread per channel to the store (privsep.c).  Most of a report's time
 * is sealing and its QR code; the store commits one batch at a time, and
 * the more reports wait in it together, the fewer commits they need: 32
 * gave 20% more reports a second than 8 on two cores (docs/BENCH.md), 64
 * no more.
 */
#define JOB_THREADS 32

struct jobs {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct request *head, *tail;
	int stop;
	size_t n;
	pthread_t th[JOB_THREADS];
	struct server *srv;
};

static void *
job_loop(void *arg)
{
	struct jobs *j = arg;
	struct request *rq;

	pthread_mutex_lock(&j->lock);
	for (;;) {
		while (j->head == NULL && !j->stop)
			pthread_cond_wait(&j->cond, &j->lock);
		if ((rq = j->head) == NULL)
			break;
		if ((j->head = rq->next) == NULL)
			j->tail = NULL;
		pthread_mutex_unlock(&j->lock);
		if (dispatch(j->srv, rq) != MHD_YES && rq->resp != NULL) {
			MHD_destroy_response(rq->resp);
			rq->resp = NULL;
		}
		rq->answered = 1;
		MHD_resume_connection(rq->conn);
		pthread_mutex_lock(&j->lock);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* Hand rq to a job thread: 0, or -1 when stopping (the caller answers it itself). */
static int
job_add(struct jobs *j, struct request *rq)
{
	if (j == NULL)
		return -1;
	pthread_mutex_lock(&j->lock);
	if (j->stop) {
		pthread_mutex_unlock(&j->lock);
		return -1;
	}
	/* Suspended before a job thread can see it, so its resume never comes first. */
	rq->deferred = 1;
	MHD_suspend_connection(rq->conn);
	rq->next = NULL;
	if (j->tail != NULL)
		j->tail->next = rq;
	else
		j->head = rq;
	j->tail = rq;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	return 0;
}

static struct jobs *
jobs_start(struct server *srv)
{
	struct jobs *j;

	if ((j = calloc(1, sizeof *j)) == NULL)
		return NULL;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	j->srv = srv;
	for (j->n = 0; j->n < JOB_THREADS; j->n++)
		if (pthread_create(&j->th[j->n], NULL, job_loop, j) != 0)
			break;
	return j;
}

/*
 * Every request handed over is answered and resumed before the threads end.
 * The daemon's threads may still call job_add, which then refuses: the
 * struct stays until the daemon has stopped (jobs_free).
 */
static void
jobs_stop(struct jobs *j)
{
	size_t i;

	if (j == NULL)
		return;
	pthread_mutex_lock(&j->lock);
	j->stop = 1;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
	for (i = 0; i < j->n; i++)
		pthread_join(j->th[i], NULL);
	j->n = 0;
}

static void
jobs_free(struct jobs *j)
{
	if (j == NULL)
		return;
	jobs_stop(j);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->cond);
	free(j);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct server *srv = cls;
	struct request *rq = *req_cls;
	struct api_err e;
	enum MHD_Result ret;
	char allow[32];

	(void)url;
	(void)version;
	if (rq == NULL) {
		api_error(&e, 503, "unavailable", NULL, "out of memory");
		return send_error(conn, NULL, &e, NULL);
	}
	if (!rq->started) {
		rq->started = 1;
		rq->method = method;
		rq->conn = conn;
		if (precheck(rq, &e, allow, sizeof allow) != 0) {
			rq->route = NULL;
			return send_failure(srv, rq, &e, allow);
		}
		return MHD_YES;
	}
	if (rq->route == NULL) {
		/* An answer is queued already; the rest of the body is dropped. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		/* A body that trickles in holds a connection: it has a deadline by its size. */
		if (limit_now() - rq->begun > BODY_SECONDS(rq->route->limit))
			return MHD_NO;
		append_body(rq, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->answered) {
		/* Back from a job thread. */
		if (rq->resp == NULL)
			return MHD_NO;
		ret = MHD_queue_response(conn, rq->status, rq->resp);
		MHD_destroy_response(rq->resp);
		rq->resp = NULL;
		return ret;
	}
	if (rq->deferred)
		return MHD_YES; /* called again before the answer is ready */
	if (job_add(srv->jobs, rq) == 0)
		return MHD_YES;
	return dispatch(srv, rq);
}

/* The raw request target, before libmicrohttpd decodes it: signatures cover it as sent. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct request *rq;

	(void)cls;
	(void)conn;
	if ((rq = calloc(1, sizeof *rq)) == NULL)
		return NULL;
	if ((rq->uri = strdup(uri)) == NULL) {
		free(rq);
		return NULL;
	}
	rq->begun = limit_now();
	return rq;
}

static void
on_done(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode tc)
{
	struct request *rq = *req_cls;

	(void)cls;
	(void)conn;
	(void)tc;
	if (rq == NULL)
		return;
	if (rq->resp != NULL)
		MHD_destroy_response(rq->resp);
	if (rq->body != NULL) {
		sodium_memzero(rq->body, rq->cap);
		free(rq->body);
	}
	free(rq->uri);
	sodium_memzero(rq, sizeof *rq);
	free(rq);
	*req_cls = NULL;
}

/* libmicrohttpd's own messages can name peers; they are not written anywhere. */
static void
quiet_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

static int
parse_listen(const char *listen, struct sockaddr_storage *ss)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	char host[64];
	const char *colon;
	char *end;
	long port;
	size_t n;

	memset(ss, 0, sizeof *ss);
	if ((colon = strrchr(listen, ':')) == NULL)
		return -1;
	n = (size_t)(colon - listen);
	if (n == 0 || n >= sizeof host)
		return -1;
	memcpy(host, listen, n);
	host[n] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return -1;
	if (host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1 ? 0 : -1;
	}
	v4->sin_family = AF_INET;
	v4->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &v4->sin_addr) == 1 ? 0 : -1;
}

int
listen_address_ok(const char *listen)
{
	struct sockaddr_storage ss;

	return parse_listen(listen, &ss) == 0;
}

/*
 * A socket listening on ADDRESS:PORT, made before the processes split, so
 * the one that serves HTTP never needs to make one.  -1 with a message.
 */
int
server_listen(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, on = 1;

	if (parse_listen(addr, &ss) != 0) {
		fprintf(stderr, "meldpuntd: --listen takes ADDRESS:PORT, e.g. 127.0.0.1:8080\n");
		return -1;
	}
	len = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
	if (bind(fd, (struct sockaddr *)&ss, len) == 0 && listen(fd, 1024) == 0)
		return fd;
	close(fd);
fail:
	fprintf(stderr, "meldpuntd: cannot listen on %s\n", addr);
	return -1;
}

/*
 * Stop the job threads, then the daemon when it runs, and only then free the
 * jobs, the pages' texts and the limits: the daemon's threads use them to the
 * end (a request read after the job threads ended is refused by job_add and
 * answered in the daemon's thread).
 */
static void
serving_end(struct server *srv)
{
	jobs_stop(srv->jobs);
	if (srv->daemon != NULL) {
		MHD_stop_daemon(srv->daemon);
		srv->daemon = NULL;
	}
	jobs_free(srv->jobs);
	srv->jobs = NULL;
	ui_free(srv->ui);
	srv->ui = NULL;
	limits_free(srv->limits);
	srv->limits = NULL;
}

/* Serve on the listening socket fd (from server_listen). */
int
server_start(struct server *srv, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	char err[600];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	    MHD_ALLOW_SUSPEND_RESUME;
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls.cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls.key },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)tls_priorities },
		{ MHD_OPTION_END, 0, NULL },
	};

	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* HTTPS with the pair main() read and tls_load checked; plain HTTP otherwise. */
	if (srv->tls.cert != NULL)
		flags |= MHD_USE_TLS;
	hsts = srv->tls.cert != NULL;
	/* The pages' texts are read once, before any request: a broken one stops the start. */
	if (srv->ui == NULL && ui_load(&srv->ui, srv->in, err, sizeof err) != 0) {
		fprintf(stderr, "meldpuntd: %s\n", err);
		return -1;
	}
	/*
	 * Connections per client are counted here (limit.c), not with
	 * MHD_OPTION_PER_IP_CONNECTION_LIMIT: that would count a proxy on
	 * loopback, which carries every client's, as one client.
	 */
	if (srv->limits == NULL && (srv->limits = limits_new(srv->in->policy)) == NULL)
		return -1;
	/*
	 * Requests are answered by the job threads, one per channel to the store:
	 * while some wait for the store (a commit's fsync among them) the others
	 * parse, seal and answer, and up to 32 reports share a commit.  The
	 * pool's threads only read and write, and the answers go out in the
	 * order requests came.  12 KiB per connection holds a request's headers
	 * (8 KiB of them are answered; bodies are copied out as they arrive) and
	 * keeps 1,024 connections near 12 MB.
	 */
	if ((srv->jobs = jobs_start(srv)) == NULL || srv->jobs->n == 0) {
		jobs_free(srv->jobs);
		srv->jobs = NULL;
		return -1;
	}
	srv->daemon = MHD_start_daemon(flags, 0, limit_accept, srv->limits, on_request, srv,
	    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_NOTIFY_CONNECTION,
	    limit_connection, srv->limits, MHD_OPTION_EXTERNAL_LOGGER, quiet_log, NULL,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)15, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)(12 * KIB), MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_ARRAY,
	    srv->tls.cert != NULL ? tls : &tls[3], MHD_OPTION_END);
	if (srv->daemon == NULL) {
		fprintf(stderr, "meldpuntd: cannot start serving HTTP\n");
		serving_end(srv);
		return -1;
	}
	return 0;
}

void
server_stop(struct server *srv)
{
	if (srv->daemon == NULL)
		return;
	/*
	 * Stop accepting; requests in flight run to their end: those handed to
	 * the job threads are answered and resumed (later ones are answered in
	 * the pool's threads), then the pool's threads send what is left.
	 */
	MHD_quiesce_daemon(srv->daemon);
	serving_end(srv);
}
