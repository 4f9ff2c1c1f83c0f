/*
 * meldpuntd's HTTP layer as a client meets it: each input is the bytes of
 * a request, sent over a real socket to a running libmicrohttpd daemon
 * with the server's routes, its media type and length checks, its body
 * limits, the signature check and every handler behind them (a real store,
 * fixture.h).  Placeholders as in fixture.h, and two more: @LEN@ becomes
 * the length of the body (what follows the first empty line), and @SIGN@
 * the Signature-Input, Signature (and Content-Digest) header lines of a
 * registered key over the request as sent (the auditor's key on
 * /api/v1/audit/, a caseworker's elsewhere).
 *
 * Every answer the server makes carries the headers API.md requires and is
 * a 2xx, or an error of API.md's list with its status (JSON on the API, an
 * HTML page on the pages' routes), never a 500; a 429 or 503 says when to
 * come back.  An answer of libmicrohttpd's own (to a request it cannot
 * parse) is one of the 4xx or 5xx it makes for that.  The server never
 * hangs on a request.
 */
#define FX_REAL_MHD
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "fixture.h"

#define ANSWER_MAX (4 * 1024 * 1024)
#define IDLE_MS 2000  /* quiet this long: is the server still there? */
#define WAIT_MS 20000 /* for the answer to that question */
#define LAST "\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n"

static struct sockaddr_in addr;

static void
start(void)
{
	socklen_t len = sizeof addr;
	int fd;

	if (addr.sin_port != 0)
		return;
	fx_setup();
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 1024) != 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
		fx_die("cannot listen on loopback");
	if (server_start(&fx.srv, fd) != 0)
		fx_die("server_start");
}

/* s with every "@LEN@" replaced by n; malloc'ed, its length in *outlen. */
static char *
put_len(const char *s, size_t len, size_t n, size_t *outlen)
{
	char num[24], *out, *o;
	const char *p, *at;
	size_t k = 0, numlen;

	numlen = (size_t)snprintf(num, sizeof num, "%zu", n);
	for (p = s; (at = memmem(p, len - (size_t)(p - s), "@LEN@", 5)) != NULL; p = at + 5)
		k++;
	if ((out = malloc(len + k * numlen + 1)) == NULL)
		fx_die("out of memory");
	for (o = out, p = s; (at = memmem(p, len - (size_t)(p - s), "@LEN@", 5)) != NULL;
	     p = at + 5) {
		memcpy(o, p, (size_t)(at - p));
		o += at - p;
		memcpy(o, num, numlen);
		o += numlen;
	}
	memcpy(o, p, len - (size_t)(p - s));
	o += len - (size_t)(p - s);
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}

/* The body: what follows the first empty line (CRLF or LF); its offset in *off. */
static size_t
body_of(const char *s, size_t len, size_t *off)
{
	const char *e = memmem(s, len, "\r\n\r\n", 4), *l = memmem(s, len, "\n\n", 2);

	if (e != NULL && (l == NULL || e < l))
		*off = (size_t)(e - s) + 4;
	else if (l != NULL)
		*off = (size_t)(l - s) + 2;
	else
		*off = len;
	return len - *off;
}

/* The "@SIGN@" placeholder as signature header lines over method, target and body. */
static char *
put_sign(char *s, size_t len, size_t *outlen)
{
	char sig_input[MP_SIG_PARAMS_LEN + 16], signature[128], digest[MP_SIG_DIGEST_LEN];
	char method[16], path[2048], query[2048], lines[600], *out, *at;
	const char *sp, *sp2, *q;
	const struct mp_identity *id;
	size_t off, blen, n;
	int k;

	*outlen = len;
	if ((at = memmem(s, len, "@SIGN@", 6)) == NULL)
		return s;
	lines[0] = '\0';
	blen = body_of(s, len, &off);
	if ((sp = memchr(s, ' ', len)) != NULL && (size_t)(sp - s) < sizeof method &&
	    (sp2 = memchr(sp + 1, ' ', len - (size_t)(sp + 1 - s))) != NULL) {
		memcpy(method, s, (size_t)(sp - s));
		method[sp - s] = '\0';
		q = memchr(sp + 1, '?', (size_t)(sp2 - sp - 1));
		n = (size_t)((q != NULL ? q : sp2) - (sp + 1));
		id = strncmp(sp + 1, "/api/v1/audit/", 14) == 0 ? fx.carla : fx.anna;
		if (n < sizeof path && (q == NULL || (size_t)(sp2 - q) < sizeof query)) {
			memcpy(path, sp + 1, n);
			path[n] = '\0';
			if (q != NULL) {
				memcpy(query, q, (size_t)(sp2 - q));
				query[sp2 - q] = '\0';
			} else {
				snprintf(query, sizeof query, "?");
			}
			if (mp_sig_sign(sig_input, sizeof sig_input, signature, sizeof signature,
			        digest, sizeof digest, method, path, query,
			        blen > 0 ? (const uint8_t *)s + off : NULL, blen,
			        (long long)time(NULL), id->sign_pk, id->sign_sk) == 0) {
				k = snprintf(lines, sizeof lines,
				    "Signature-Input: %s\r\nSignature: %s%s%s", sig_input,
				    signature, blen > 0 ? "\r\nContent-Digest: " : "",
				    blen > 0 ? digest : "");
				if (k < 0 || (size_t)k >= sizeof lines)
					lines[0] = '\0';
			}
		}
	}
	n = strlen(lines);
	if ((out = malloc(len - 6 + n + 1)) == NULL)
		fx_die("out of memory");
	memcpy(out, s, (size_t)(at - s));
	memcpy(out + (at - s), lines, n);
	memcpy(out + (at - s) + n, at + 6, len - (size_t)(at - s) - 6);
	*outlen = len - 6 + n;
	out[*outlen] = '\0';
	free(s);
	return out;
}

/*
 * A new connection.  Thousands a second leave loopback's ports in TIME_WAIT:
 * ours are closed with a reset, and a port still taken is waited for.
 */
static int
connect_server(void)
{
	struct linger lg = { 1, 0 };
	int fd, tries;

	for (tries = 0; tries < 500; tries++) {
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			fx_die("socket");
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0)
			return fd;
		close(fd);
		if (errno != EADDRNOTAVAIL && errno != EAGAIN)
			break;
		usleep(10000);
	}
	dprintf(2, "fuzz_http: cannot connect to the server: %s\n", strerror(errno));
	__builtin_trap();
}

/*
 * The server answers a request of its own on a new connection: it did not
 * hang, it only holds the quiet one.  libmicrohttpd 0.9.75 keeps some
 * connections whose client closed its side (after a malformed request
 * behind others) until its connection timeout, 15 s.
 */
static void
alive(void)
{
	static const char ask[] = "GET /api/v1/log/checkpoint HTTP/1.0\r\n\r\n";
	struct pollfd pfd;
	char buf[64];
	ssize_t r;
	int fd = connect_server();

	if (send(fd, ask, sizeof ask - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof ask - 1))
		fx_die("cannot send to the server");
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, WAIT_MS) != 1 || (r = recv(fd, buf, sizeof buf - 1, 0)) < 12) {
		dprintf(2, "fuzz_http: the server does not answer within %d ms\n", WAIT_MS);
		__builtin_trap();
	}
	buf[r] = '\0';
	if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0) {
		dprintf(2, "fuzz_http: the server answers %.12s to a checkpoint\n", buf);
		__builtin_trap();
	}
	close(fd);
}

/*
 * Send the request, close our side, read the whole answer (NUL-terminated).
 * *held: the server went quiet with the connection open (the answer may
 * end in the middle of one).
 */
static char *
exchange(const char *req, size_t len, size_t *anslen, int *held)
{
	struct pollfd pfd;
	char *ans;
	size_t got = 0, sent = 0;
	ssize_t r;
	int fd;

	*held = 0;
	if ((ans = malloc(ANSWER_MAX + 1)) == NULL)
		fx_die("out of memory");
	fd = connect_server();
	/* The server may answer and close before it has read everything. */
	while (sent < len && (r = send(fd, req + sent, len - sent, MSG_NOSIGNAL)) > 0)
		sent += (size_t)r;
	/*
	 * libmicrohttpd keeps a connection whose last request was complete open
	 * until its timeout, though our side is closed: a last request that
	 * closes it ends the exchange (after an incomplete one, it is read as
	 * the rest of that).
	 */
	if (sent == len)
		(void)send(fd, LAST, sizeof LAST - 1, MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, IDLE_MS) != 1) {
			alive();
			*held = 1;
			break;
		}
		if ((r = recv(fd, ans + got, ANSWER_MAX - got, 0)) <= 0)
			break;
		got += (size_t)r;
		if (got == ANSWER_MAX)
			break;
	}
	close(fd);
	ans[got] = '\0';
	*anslen = got;
	return ans;
}

/* The value of header name in the head of an answer, or NULL (into buf). */
static const char *
header(const char *ans, size_t headlen, const char *name, char *buf, size_t buflen)
{
	const char *p = ans, *nl, *end = ans + headlen, *v;
	size_t n = strlen(name);

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((size_t)(nl - p) > n && p[n] == ':' && strncasecmp(p, name, n) == 0) {
			for (v = p + n + 1; *v == ' '; v++)
				;
			snprintf(buf, buflen, "%.*s", (int)(nl - v - (nl[-1] == '\r')), v);
			return buf;
		}
		if (nl == end)
			break;
	}
	return NULL;
}

static void bad(const char *why, const char *ans) __attribute__((noreturn));

static void
bad(const char *why, const char *ans)
{
	fprintf(stderr, "fuzz_http: %s; the answer:\n%.600s\n", why, ans);
	__builtin_trap();
}

/*
 * One answer at ans (of len bytes left; more may follow when the input held
 * several requests): checked; the bytes it takes.
 */
static size_t
check(const char *ans, size_t len, int held)
{
	static const unsigned mhd_own[] = { 400, 413, 414, 417, 431, 501, 505 };
	char buf[256], code[64];
	const char *head_end, *body, *ct;
	unsigned status;
	size_t headlen, blen, i;
	json_t *j;

	/* What a held connection had sent before it went quiet may end in the middle of one. */
	if (held && (len < 12 || memmem(ans, len, "\r\n\r\n", 4) == NULL))
		return len;
	if (len < 12 || strncmp(ans, "HTTP/1.", 7) != 0 || sscanf(ans + 9, "%3u", &status) != 1)
		bad("not an HTTP answer", ans);
	if ((head_end = memmem(ans, len, "\r\n\r\n", 4)) == NULL)
		bad("no end of the header", ans);
	headlen = (size_t)(head_end - ans);
	body = head_end + 4;
	blen = len - headlen - 4;
	if (header(ans, headlen, "Content-Length", buf, sizeof buf) != NULL) {
		if (strtoull(buf, NULL, 10) <= blen)
			blen = (size_t)strtoull(buf, NULL, 10);
		else if (held)
			return len; /* cut short when the server went quiet */
	}
	if (header(ans, headlen, "Cache-Control", buf, sizeof buf) == NULL) {
		/* libmicrohttpd's own answer to a request it cannot take; it closes then. */
		for (i = 0; i < sizeof mhd_own / sizeof mhd_own[0]; i++)
			if (mhd_own[i] == status)
				return len;
		bad("an answer without the server's headers", ans);
	}
	if (strcmp(buf, "no-store") != 0 ||
	    header(ans, headlen, "X-Content-Type-Options", buf, sizeof buf) == NULL ||
	    header(ans, headlen, "Referrer-Policy", buf, sizeof buf) == NULL ||
	    header(ans, headlen, "Content-Security-Policy", buf, sizeof buf) == NULL)
		bad("a header API.md requires is missing", ans);
	if (status >= 500 && status != 503)
		bad("a 5xx", ans);
	if ((status == 503 || status == 429) &&
	    header(ans, headlen, "Retry-After", buf, sizeof buf) == NULL)
		bad("503 or 429 without Retry-After", ans);
	/* A challenge comes only with a rate limit (docs/ABUSE.md). */
	if (status != 429 &&
	    header(ans, headlen, "Meldpunt-Pow-Challenge", buf, sizeof buf) != NULL)
		bad("a proof-of-work challenge on an answer that is not 429", ans);
	if (status < 400 || (ct = header(ans, headlen, "Content-Type", buf, sizeof buf)) == NULL ||
	    strncmp(ct, "application/json", 16) != 0)
		return headlen + 4 + blen; /* a page, or a success */
	/* An API error: {"error": {"code", "message"[, "field"]}}, code and status as API.md. */
	if ((j = json_loadb(body, blen, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		bad("an error that is not JSON", ans);
	snprintf(code, sizeof code, "%s",
	    json_string_value(json_object_get(json_object_get(j, "error"), "code"))
	        ? json_string_value(json_object_get(json_object_get(j, "error"), "code"))
	        : "");
	if (!json_is_string(json_object_get(json_object_get(j, "error"), "message")))
		bad("an error without a message", ans);
	json_decref(j);
	if (contract_error_status(code) == (long)status)
		return headlen + 4 + blen;
	bad("an error code or status not in API.md", ans);
	return len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *req, *ans;
	size_t len, rlen, anslen, off, at;
	int held;

	start();
	text = fx_expand(data, size, &len);
	req = put_len(text, len, body_of(text, len, &off), &rlen);
	free(text);
	req = put_sign(req, rlen, &rlen);
	ans = exchange(req, rlen, &anslen, &held);
	/* Nothing at all: a request it could not read, closed. */
	for (at = 0; at < anslen;)
		at += check(ans + at, anslen - at, held);
	free(ans);
	free(req);
	return 0;
}
