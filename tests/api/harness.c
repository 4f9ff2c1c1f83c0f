/* API test harness: processes, HTTP, signatures and TAP (see harness.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../contract_errors.h"
#include "../tap.h"
#include "harness.h"
#include "mp_b64.h"
#include "mp_envelope.h"

struct inst I;
struct mp_identity *anna, *bram, *carla, *mallory;
struct resp_audit AUDIT;
struct sub SUBS[MAX_SUBS];
size_t NSUBS;
struct canary CANARIES[128];
size_t NCANARIES;

/* --- TAP ---------------------------------------------------------------------------- */

int
ok_at(const char *file, int line, int cond, const char *fmt, ...)
{
	char name[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	/* tap.h keeps its counts per translation unit, so every check goes through here. */
	return t_ok_(cond, file, line, "%s", name);
}

void
diag(const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	for (i = 0; line[i] != '\0'; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	printf("# %s\n", line);
	fflush(stdout);
}

int
tap_done(void)
{
	printf("# %d passed, %d failed\n", t_pass_count_, t_fail_count_);
	return t_done();
}

/* --- growing buffers ------------------------------------------------------------------ */

struct buf {
	char *p;
	size_t len, cap;
};

static int
buf_add(struct buf *b, const void *data, size_t n)
{
	char *np;
	size_t cap;

	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* --- processes ------------------------------------------------------------------------- */

int
run_cmd(char **out, char **err, const char *const argv[])
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, status, nopen;
	struct buf bo = { 0 }, be = { 0 };
	struct pollfd pfd[2];
	char chunk[4096];
	ssize_t n;
	pid_t pid;

	if (out)
		*out = NULL;
	if (err)
		*err = NULL;
	if (pipe(po) != 0 || pipe(pe) != 0)
		goto fail;
	fflush(stdout);
	if ((pid = fork()) < 0)
		goto fail;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execv(argv[0], (char *const *)argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	pfd[0].fd = po[0];
	pfd[1].fd = pe[0];
	pfd[0].events = pfd[1].events = POLLIN;
	nopen = 2;
	while (nopen > 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, chunk, sizeof chunk);
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				nopen--;
			} else if (buf_add(i == 0 ? &bo : &be, chunk, (size_t)n) != 0) {
				break;
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (bo.p == NULL)
		buf_add(&bo, "", 0);
	if (be.p == NULL)
		buf_add(&be, "", 0);
	if (out)
		*out = bo.p;
	else
		free(bo.p);
	if (err)
		*err = be.p;
	else
		free(be.p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
fail:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	return -1;
}

static const char *
find_tool(const char *name)
{
	static char path[PATHLEN];
	const char *p = getenv("PATH");
	char *copy, *save = NULL, *d;

	copy = strdup(p ? p : "/usr/bin:/bin");
	for (d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof path, "%s/%s", d, name);
		if (access(path, X_OK) == 0) {
			free(copy);
			return path;
		}
	}
	free(copy);
	return NULL;
}

char *
sqlcipher(const char *sql)
{
	char keypath[PATHLEN + 16], db[PATHLEN + 16], hex[65], *full, *out = NULL, *err = NULL;
	const char *tool = find_tool("sqlcipher");
	uint8_t key[32];
	FILE *f;
	int rc;

	if (tool == NULL) {
		diag("the sqlcipher shell is not installed (Debian package sqlcipher)");
		return NULL;
	}
	snprintf(keypath, sizeof keypath, "%s/db.key", I.inst);
	snprintf(db, sizeof db, "%s/meldpunt.db", I.inst);
	if ((f = fopen(keypath, "rb")) == NULL || fread(key, 1, 32, f) != 32) {
		diag("cannot read %s", keypath);
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	sodium_bin2hex(hex, sizeof hex, key, 32);
	if (asprintf(&full, "PRAGMA key = \"x'%s'\"; %s", hex, sql) < 0)
		return NULL;
	{
		const char *argv[] = { tool, "-batch", db, full, NULL };

		rc = run_cmd(&out, &err, argv);
	}
	if (rc != 0 || (err && *err)) {
		diag("sqlcipher: exit %d: %s", rc, err ? err : "");
		free(out);
		out = NULL;
	}
	free(err);
	free(full);
	return out;
}

int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof sa;
	int fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &salen) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

int
server_alive(void)
{
	int status;

	if (I.pid <= 0)
		return 0;
	if (waitpid(I.pid, &status, WNOHANG) == I.pid) {
		diag("server exited early: %s %d", WIFEXITED(status) ? "status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		I.pid = 0;
		return 0;
	}
	return 1;
}

/*
 * MP_SERVER_WRAPPER (make valgrind): the server command goes after these
 * words, e.g. "valgrind --error-exitcode=99 ...", found on PATH.  Returns
 * only when that cannot run.
 */
static void
exec_wrapped(const char *wrapper, const char *const *argv)
{
	char *words[64], *copy, *w, *save = NULL;
	size_t n = 0, i;

	if ((copy = strdup(wrapper)) == NULL)
		return;
	for (w = strtok_r(copy, " ", &save); w != NULL && n < 32; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	for (i = 0; argv[i] != NULL && n < sizeof words / sizeof words[0] - 1; i++)
		words[n++] = (char *)argv[i];
	words[n] = NULL;
	execvp(words[0], words);
	dprintf(2, "exec %s: %s\n", words[0], strerror(errno));
}

int
server_start(void)
{
	char bin[PATHLEN + 16], listen[64];
	struct resp r;
	int fd, i;
	pid_t pid;

	snprintf(bin, sizeof bin, "%s/meldpuntd", I.build);
	snprintf(listen, sizeof listen, "127.0.0.1:%d", I.port);
	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		const char *argv[] = { bin, "--dir", I.inst, "--listen", listen, NULL };
		const char *wrapper = getenv("MP_SERVER_WRAPPER");

		if ((fd = open(I.log, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/*
		 * Dates follow the instance's configured zone (Europe/Amsterdam), not the
		 * process's; a far-off TZ here makes a server that uses local time visible.
		 */
		setenv("TZ", "Pacific/Kiritimati", 1);
		if (wrapper != NULL && *wrapper != '\0') {
			exec_wrapped(wrapper, argv);
			_exit(127);
		}
		execv(bin, (char *const *)argv);
		dprintf(2, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	I.pid = pid;
	/* Under a wrapper (valgrind) the server starts and answers many times slower. */
	for (i = 0; i < (getenv("MP_SERVER_WRAPPER") != NULL ? 2400 : 200); i++) {
		if (!server_alive())
			return -1;
		memset(&r, 0, sizeof r);
		if (http_get(&r, "/healthz") == 0 && r.status == 200) {
			resp_free(&r);
			return 0;
		}
		resp_free(&r);
		usleep(50 * 1000);
	}
	return -1;
}

int
server_stop(int secs)
{
	int status, i;
	pid_t w;

	if (I.pid <= 0)
		return -1;
	/* Under a wrapper (valgrind) each process checks its memory on the way out. */
	if (getenv("MP_SERVER_WRAPPER") != NULL)
		secs *= 20;
	kill(I.pid, SIGTERM);
	for (i = 0; i < secs * 20; i++) {
		w = waitpid(I.pid, &status, WNOHANG);
		if (w == I.pid) {
			I.pid = 0;
			if (WIFEXITED(status))
				return WEXITSTATUS(status);
			return 128 + WTERMSIG(status);
		}
		usleep(50 * 1000);
	}
	kill(I.pid, SIGKILL);
	waitpid(I.pid, &status, 0);
	I.pid = 0;
	return -1;
}

int
key_add(const struct mp_identity *id)
{
	char bin[PATHLEN + 16], sign[MP_B64U_LEN(32)], box[MP_B64U_LEN(32)], *err = NULL;
	int rc;

	snprintf(bin, sizeof bin, "%s/meldpunt", I.build);
	b64u(sign, sizeof sign, id->sign_pk, 32);
	b64u(box, sizeof box, id->box_pk, 32);
	{
		const char *argv[] = { bin, "key", "add", "--dir", I.inst, "--role", id->role,
			"--name", id->name, "--sign", sign, "--box", box, NULL };

		rc = run_cmd(NULL, &err, argv);
	}
	if (rc != 0)
		diag("key add %s: exit %d: %s", id->name, rc, err ? err : "");
	free(err);
	return rc;
}

/* --- HTTP ------------------------------------------------------------------------------- */

struct hbuf {
	struct hdr *h;
	size_t n;
};

static void
hdrs_clear(struct hbuf *hb)
{
	for (size_t i = 0; i < hb->n; i++) {
		free(hb->h[i].name);
		free(hb->h[i].value);
	}
	free(hb->h);
	hb->h = NULL;
	hb->n = 0;
}

static size_t
on_header(char *p, size_t sz, size_t nmemb, void *u)
{
	struct hbuf *hb = u;
	size_t n = sz * nmemb, nl, vs, ve;
	struct hdr *nh;

	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		hdrs_clear(hb); /* a new response (after 100 Continue) */
		return n;
	}
	for (nl = 0; nl < n && p[nl] != ':'; nl++)
		;
	if (nl == n || nl == 0)
		return n;
	vs = nl + 1;
	while (vs < n && (p[vs] == ' ' || p[vs] == '\t'))
		vs++;
	ve = n;
	while (ve > vs && (p[ve - 1] == '\r' || p[ve - 1] == '\n' || p[ve - 1] == ' '))
		ve--;
	if ((nh = realloc(hb->h, (hb->n + 1) * sizeof *nh)) == NULL)
		return 0;
	hb->h = nh;
	hb->h[hb->n].name = strndup(p, nl);
	hb->h[hb->n].value = strndup(p + vs, ve - vs);
	hb->n++;
	return n;
}

static size_t
on_body(char *p, size_t sz, size_t nmemb, void *u)
{
	return buf_add(u, p, sz * nmemb) == 0 ? sz * nmemb : 0;
}

const char *
resp_header(const struct resp *r, const char *name)
{
	for (size_t i = 0; i < r->nhdrs; i++)
		if (r->hdrs[i].name && strcasecmp(r->hdrs[i].name, name) == 0)
			return r->hdrs[i].value;
	return NULL;
}

void
resp_free(struct resp *r)
{
	struct hbuf hb = { r->hdrs, r->nhdrs };

	hdrs_clear(&hb);
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof *r);
}

/* The contract's error form: {"error": {"code", "message"[, "field"]}} and nothing else. */
static int
error_shape(const struct resp *r, char *why, size_t whylen)
{
	const char *ct = resp_header(r, "Content-Type"), *key, *code;
	json_t *e, *v;
	long want;

	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0) {
		snprintf(why, whylen, "Content-Type %s", ct ? ct : "(none)");
		return 0;
	}
	if (!json_is_object(r->json) || json_object_size(r->json) != 1 ||
	    !json_is_object(e = json_object_get(r->json, "error"))) {
		snprintf(why, whylen, "body is not {\"error\": {...}}");
		return 0;
	}
	json_object_foreach(e, key, v) {
		if (strcmp(key, "code") && strcmp(key, "message") && strcmp(key, "field")) {
			snprintf(why, whylen, "error has the extra member %s", key);
			return 0;
		}
		if (!json_is_string(v) || json_string_length(v) == 0) {
			snprintf(why, whylen, "error.%s is not a non-empty string", key);
			return 0;
		}
	}
	if ((code = jstr(e, "code")) == NULL || jstr(e, "message") == NULL) {
		snprintf(why, whylen, "error.code or error.message missing");
		return 0;
	}
	if ((want = contract_error_status(code)) == 0) {
		snprintf(why, whylen, "code %s is not one of the contract's", code);
		return 0;
	}
	if (want != r->status) {
		snprintf(
		    why, whylen, "code %s with status %ld (contract: %ld)", code, r->status, want);
		return 0;
	}
	if ((r->status == 429 || r->status == 503) && resp_header(r, "Retry-After") == NULL) {
		snprintf(why, whylen, "%ld without Retry-After", r->status);
		return 0;
	}
	return 1;
}

static int
header_is(const struct resp *r, const char *name, const char *want)
{
	const char *v = resp_header(r, name);

	return v != NULL && strcasecmp(v, want) == 0;
}

/* snprintf where cutting the text short is intended (a diagnostic). */
static void clip(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
clip(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
}

/* Every response: the three headers; every error: the error form. */
static void
audit(const struct req *q, const struct resp *r)
{
	const char *cc = resp_header(r, "Cache-Control");
	char why[256];

	AUDIT.responses++;
	if (cc == NULL || strstr(cc, "no-store") == NULL ||
	    !header_is(r, "Referrer-Policy", "no-referrer") ||
	    !header_is(r, "X-Content-Type-Options", "nosniff")) {
		if (AUDIT.bad_headers++ == 0)
			clip(AUDIT.first_bad_headers, sizeof AUDIT.first_bad_headers,
			    "%s %.100s -> %ld: Cache-Control %s, Referrer-Policy %s, "
			    "X-Content-Type-Options %s",
			    q->method, q->target, r->status, cc ? cc : "-",
			    resp_header(r, "Referrer-Policy") ? resp_header(r, "Referrer-Policy")
			                                      : "-",
			    resp_header(r, "X-Content-Type-Options")
			        ? resp_header(r, "X-Content-Type-Options")
			        : "-");
	}
	if (r->status >= 400) {
		AUDIT.errors++;
		if (!error_shape(r, why, sizeof why) && AUDIT.bad_errors++ == 0)
			clip(AUDIT.first_bad_error, sizeof AUDIT.first_bad_error,
			    "%s %.100s -> %ld: %s; body %.150s", q->method, q->target, r->status,
			    why, r->body ? r->body : "");
	}
}

int
http(struct resp *r, const struct req *q)
{
	struct hbuf hb = { NULL, 0 };
	struct buf body = { 0 };
	struct curl_slist *hl = NULL;
	char url[8192], line[1024];
	CURL *c;
	CURLcode cc;
	int rc = -1;

	memset(r, 0, sizeof r[0]);
	if ((c = curl_easy_init()) == NULL)
		return -1;
	snprintf(url, sizeof url, "%s%s", I.base, q->target);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_INTERFACE, "host!" CLIENT_IP);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	hl = curl_slist_append(hl, "Expect:");
	hl = curl_slist_append(hl, "User-Agent: meldpunt-api-test/" USER_AGENT_CANARY);
	if (q->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->len);
	}
	if (strcmp(q->method, "GET") == 0 && q->body == NULL)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else if (strcmp(q->method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	if (q->ctype != NULL) {
		snprintf(line, sizeof line, "Content-Type: %s", q->ctype);
		hl = curl_slist_append(hl, line);
	} else {
		hl = curl_slist_append(hl, "Content-Type:");
	}
	for (const char *const *h = q->headers; h != NULL && *h != NULL; h++)
		hl = curl_slist_append(hl, *h);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);

	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (body.p == NULL)
		buf_add(&body, "", 0);
	r->body = body.p;
	r->len = body.len;
	r->hdrs = hb.h;
	r->nhdrs = hb.n;
	r->json = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, NULL);
	if (r->status > 0) {
		/* An answer may come before the whole body went out (413): it counts. */
		audit(q, r);
		rc = 0;
	} else if (cc != CURLE_OK && strcmp(q->target, "/healthz") != 0) {
		diag("%s %.100s: %s", q->method, q->target, curl_easy_strerror(cc));
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc;
}

int
http_get(struct resp *r, const char *target)
{
	struct req q = { "GET", target, NULL, NULL, 0, NULL };

	return http(r, &q);
}

int
http_jsonb(struct resp *r, const char *method, const char *target, const void *body, size_t len)
{
	struct req q = { method, target, "application/json", body, len, NULL };

	return http(r, &q);
}

int
http_json(struct resp *r, const char *method, const char *target, const char *body)
{
	return http_jsonb(r, method, target, body, body ? strlen(body) : 0);
}

void
diag_resp(const struct resp *r)
{
	diag("got status %ld, body: %.300s", r->status, r->body ? r->body : "(none)");
}

/* "contact.email" matches "contact.email" and "email". */
static int
field_matches(const char *got, const char *want)
{
	const char *dot;

	if (got == NULL)
		return 0;
	if (strcmp(got, want) == 0)
		return 1;
	dot = strrchr(want, '.');
	return dot != NULL && strcmp(got, dot + 1) == 0;
}

int
expect_error_at(const char *file, int line, const struct resp *r, long status, const char *code,
    const char *field, const char *fmt, ...)
{
	const json_t *e = json_object_get(r->json, "error");
	const char *gcode = jstr(e, "code"), *gfield = jstr(e, "field");
	char name[1024];
	va_list ap;
	int good;

	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	good = r->status == status && gcode != NULL && strcmp(gcode, code) == 0 &&
	    (field == NULL || field_matches(gfield, field));
	if (field != NULL)
		ok_at(file, line, good, "%s -> %ld %s (field %s)", name, status, code, field);
	else
		ok_at(file, line, good, "%s -> %ld %s", name, status, code);
	if (!good)
		diag_resp(r);
	return good;
}

/* --- signatures ---------------------------------------------------------------------------- */

int
sign_req(struct sighdr *h, const struct mp_identity *id, const char *method, const char *target,
    const void *body, size_t len, long long created)
{
	char path[4096], query[4096];
	const char *qm = strchr(target, '?');
	size_t plen = qm ? (size_t)(qm - target) : strlen(target);

	if (plen >= sizeof path || (qm && strlen(qm) >= sizeof query))
		return -1;
	memcpy(path, target, plen);
	path[plen] = '\0';
	snprintf(query, sizeof query, "%s", qm ? qm : "?");
	memset(h, 0, sizeof *h);
	return mp_sig_sign(h->input, sizeof h->input, h->sig, sizeof h->sig, h->digest,
	    sizeof h->digest, method, path, query, body, len, created, id->sign_pk, id->sign_sk);
}

int
send_signed(struct resp *r, const struct sighdr *h, const char *method, const char *target,
    const void *body, size_t len)
{
	char si[sizeof h->input + 32], sg[sizeof h->sig + 32], dg[sizeof h->digest + 32];
	const char *hv[4] = { NULL, NULL, NULL, NULL };
	struct req q = { method, target, body ? "application/json" : NULL, body, len, hv };
	size_t n = 0;

	if (h != NULL) {
		snprintf(si, sizeof si, "Signature-Input: %s", h->input);
		snprintf(sg, sizeof sg, "Signature: %s", h->sig);
		hv[n++] = si;
		hv[n++] = sg;
		if (h->digest[0] != '\0') {
			snprintf(dg, sizeof dg, "Content-Digest: %s", h->digest);
			hv[n++] = dg;
		}
	}
	return http(r, &q);
}

int
signed_req(struct resp *r, const struct mp_identity *id, const char *method, const char *target,
    const char *body)
{
	struct sighdr h;
	size_t len = body ? strlen(body) : 0;

	memset(r, 0, sizeof *r);
	if (sign_req(&h, id, method, target, body, len, (long long)time(NULL)) != 0) {
		diag("signing %s %s failed", method, target);
		return -1;
	}
	return send_signed(r, &h, method, target, body, len);
}

/* --- the reporter's side -------------------------------------------------------------------- */

int
submit_report(struct resp *r, json_t *obj)
{
	char *text = dump(obj);
	const char *tok, *rec;
	struct sub *s;
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (text == NULL)
		return -1;
	if (http_json(r, "POST", "/api/v1/reports", text) == 0 && r->status == 201 &&
	    (tok = jstr(r->json, "token")) != NULL && strlen(tok) == MP_TOKEN_TEXT_LEN &&
	    NSUBS < MAX_SUBS) {
		s = &SUBS[NSUBS];
		memset(s, 0, sizeof *s);
		memcpy(s->token, tok, MP_TOKEN_TEXT_LEN + 1);
		s->report = json_incref(obj);
		s->answer = strdup(r->body);
		rec = jstr(r->json, "received");
		snprintf(s->received, sizeof s->received, "%s", rec ? rec : "");
		{
			/* The token as shown, in lower case, and without dashes. */
			char low[MP_TOKEN_TEXT_LEN + 1], bare[MP_TOKEN_TEXT_LEN + 1];
			size_t i, j = 0;

			for (i = 0; i <= MP_TOKEN_TEXT_LEN; i++)
				low[i] = (char)tolower((unsigned char)tok[i]);
			for (i = 0; i < MP_TOKEN_TEXT_LEN; i++)
				if (tok[i] != '-')
					bare[j++] = tok[i];
			bare[j] = '\0';
			canary_add(CANARY_TOKEN, tok);
			canary_add(CANARY_TOKEN, low);
			canary_add(CANARY_TOKEN, bare);
		}
		{
			uint8_t t[MP_TOKEN_BYTES], lookup[32];
			char tb64[MP_B64U_LEN(MP_TOKEN_BYTES)];

			if (mp_token_parse(t, tok, strlen(tok)) == 0) {
				canary_add_bytes(CANARY_TOKEN, "raw token bytes", t, sizeof t);
				mp_token_lookup(lookup, t);
				canary_add_bytes(
				    CANARY_TOKEN, "token lookup hash", lookup, sizeof lookup);
				b64u(tb64, sizeof tb64, t, sizeof t);
				canary_add(CANARY_TOKEN, tb64);
				b64u(tb64, sizeof tb64, lookup, 16);
				canary_add(CANARY_TOKEN, tb64);
			}
		}
		rc = (int)NSUBS++;
	}
	free(text);
	return rc;
}

int
followup(struct resp *r, const char *token)
{
	json_t *o = json_pack("{s:s}", "token", token);
	char *text = dump(o);
	int rc;

	json_decref(o);
	rc = text ? http_json(r, "POST", "/api/v1/followup", text) : -1;
	free(text);
	return rc;
}

/* Case ids already opened by case_of. */
static char seen_ids[256][64];
static size_t nseen;

const char *
case_of(struct sub *s)
{
	struct resp l, c;
	json_t *cases, *v, *pt;
	const char *id, *d1, *d2;
	char target[256];
	size_t i, j, k;

	if (s->case_id[0] != '\0')
		return s->case_id;
	if (signed_req(&l, anna, "GET", "/api/v1/cases?limit=500", NULL) != 0 || l.status != 200) {
		resp_free(&l);
		return NULL;
	}
	cases = json_object_get(l.json, "cases");
	json_array_foreach(cases, i, v) {
		if ((id = jstr(v, "id")) == NULL || strlen(id) >= sizeof seen_ids[0])
			continue;
		for (k = 0; k < nseen; k++)
			if (strcmp(seen_ids[k], id) == 0)
				break;
		if (k < nseen || nseen == sizeof seen_ids / sizeof seen_ids[0])
			continue;
		memcpy(seen_ids[nseen++], id, strlen(id) + 1);
		snprintf(target, sizeof target, "/api/v1/cases/%s", id);
		if (signed_req(&c, anna, "GET", target, NULL) == 0 && c.status == 200 &&
		    (pt = open_env(json_object_get(c.json, "report"), id, anna->box_pk,
		         anna->box_sk)) != NULL) {
			d1 = jstr(pt, "description");
			for (j = 0; j < NSUBS && d1; j++) {
				d2 = jstr(SUBS[j].report, "description");
				if (d2 && strcmp(d1, d2) == 0 && SUBS[j].case_id[0] == '\0')
					snprintf(SUBS[j].case_id, sizeof SUBS[j].case_id, "%s", id);
			}
			json_decref(pt);
		}
		resp_free(&c);
	}
	resp_free(&l);
	return s->case_id[0] ? s->case_id : NULL;
}

int
case_count(void)
{
	struct resp r;
	json_t *cases;
	int n = -1;

	if (signed_req(&r, anna, "GET", "/api/v1/cases?limit=500", NULL) == 0 && r.status == 200 &&
	    json_is_array(cases = json_object_get(r.json, "cases")))
		n = (int)json_array_size(cases);
	else
		diag_resp(&r);
	resp_free(&r);
	return n;
}

json_t *
open_env(const json_t *env, const char *case_id, const uint8_t pk[32], const uint8_t sk[32])
{
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	json_t *o = NULL;

	if (env == NULL || case_id == NULL)
		return NULL;
	if (mp_envelope_open(&pt, &ptlen, env, case_id, pk, sk) != 0)
		return NULL;
	o = json_loadb((const char *)pt, ptlen, JSON_REJECT_DUPLICATES, NULL);
	mp_envelope_free(pt, ptlen);
	return o;
}

/* --- utilities ---------------------------------------------------------------------- */

void
amsterdam_day(char out[11], int days)
{
	time_t now = time(NULL), t;
	struct tm tm;

	/* main sets TZ=Europe/Amsterdam for this process. */
	localtime_r(&now, &tm);
	tm.tm_mday += days;
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

char *
repeat(const char *unit, size_t n)
{
	size_t ul = strlen(unit), i;
	char *s = malloc(ul * n + 1);

	if (s == NULL)
		abort();
	for (i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * n] = '\0';
	return s;
}

char *
url_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *copy;

	if (e == NULL)
		abort();
	copy = strdup(e);
	curl_free(e);
	return copy;
}

char *
dump(const json_t *obj)
{
	return json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

void
b64u(char *out, size_t outlen, const uint8_t *b, size_t len)
{
	if (mp_b64u_encode(out, outlen, b, len) != 0)
		abort();
}

int
is_day(const char *s)
{
	static const char pat[] = "DDDD-DD-DD";

	if (s == NULL || strlen(s) != 10)
		return 0;
	for (size_t i = 0; i < 10; i++)
		if (pat[i] == 'D' ? !isdigit((unsigned char)s[i]) : s[i] != pat[i])
			return 0;
	return 1;
}

void
canary_add_bytes(int kind, const char *label, const uint8_t *b, size_t n)
{
	struct canary *c;

	if (NCANARIES == sizeof CANARIES / sizeof CANARIES[0] || n == 0)
		return;
	c = &CANARIES[NCANARIES++];
	c->kind = kind;
	snprintf(c->label, sizeof c->label, "%s", label);
	if ((c->b = malloc(n)) == NULL)
		abort();
	memcpy(c->b, b, n);
	c->n = n;
}

void
canary_add(int kind, const char *s)
{
	canary_add_bytes(kind, s, (const uint8_t *)s, strlen(s));
}
