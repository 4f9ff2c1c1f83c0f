/* Hostile input at the socket level: the server keeps serving. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* A TCP connection to the server from the loopback address src. */
static int
connect_from(const char *src)
{
	struct sockaddr_in sa;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	inet_pton(AF_INET, src, &sa.sin_addr);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		goto fail;
	sa.sin_port = htons((uint16_t)I.port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* Send data (best effort), read what comes back for up to ms, close.  The bytes read. */
static ssize_t
poke(const char *data, size_t len, int ms, int half_close)
{
	struct pollfd p;
	char buf[4096];
	ssize_t n, total = 0;
	int fd = connect_from(CLIENT_IP);

	if (fd < 0)
		return -1;
	while (len > 0) {
		n = send(fd, data, len, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		data += n;
		len -= (size_t)n;
	}
	if (half_close)
		shutdown(fd, SHUT_WR);
	p.fd = fd;
	p.events = POLLIN;
	while (poll(&p, 1, ms) > 0) {
		n = recv(fd, buf, sizeof buf, 0);
		if (n <= 0)
			break;
		total += n;
	}
	close(fd);
	return total;
}

/* Send a whole request and read the status code of the answer (or -1). */
static int
status_of(const char *data, size_t len)
{
	char buf[64];
	ssize_t n;
	int fd = connect_from(CLIENT_IP), code = -1;

	if (fd < 0)
		return -1;
	while (len > 0 && (n = send(fd, data, len, MSG_NOSIGNAL)) > 0) {
		data += n;
		len -= (size_t)n;
	}
	if ((n = recv(fd, buf, sizeof buf - 1, MSG_WAITALL)) > 12) {
		buf[n] = '\0';
		if (sscanf(buf, "HTTP/1.1 %d", &code) != 1)
			code = -1;
	}
	close(fd);
	return code;
}

/*
 * Send a whole request (with Connection: close) and read the answer to its
 * end, for up to 2 s: its status code (or -1), and its body in body.
 */
static int
answer_of(const char *data, size_t len, char *body, size_t bodysize)
{
	char buf[8192], *b;
	size_t got = 0;
	ssize_t n;
	struct pollfd p;
	int fd = connect_from(CLIENT_IP), code = -1;

	body[0] = '\0';
	if (fd < 0)
		return -1;
	while (len > 0 && (n = send(fd, data, len, MSG_NOSIGNAL)) > 0) {
		data += n;
		len -= (size_t)n;
	}
	p.fd = fd;
	p.events = POLLIN;
	while (got < sizeof buf - 1 && poll(&p, 1, 2000) > 0 &&
	    (n = recv(fd, buf + got, sizeof buf - 1 - got, 0)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	if (sscanf(buf, "HTTP/1.1 %d", &code) != 1)
		code = -1;
	if ((b = strstr(buf, "\r\n\r\n")) != NULL)
		snprintf(body, bodysize, "%s", b + 4);
	return code;
}

/*
 * A burst: NPROC processes send NEACH reports each at once.  Every answer is
 * 201, or 429 (rate limiting is allowed); every 201 is one more case.
 */
#define NPROC 10
#define NEACH 3

static void
burst(void)
{
	int before = case_count(), after, n201 = 0, nbad = 0, status, i;
	pid_t pids[NPROC];

	fflush(stdout);
	for (i = 0; i < NPROC; i++) {
		if ((pids[i] = fork()) == 0) {
			int got = 0, bad = 0;

			for (int k = 0; k < NEACH; k++) {
				char body[128];
				struct resp r;

				snprintf(body, sizeof body,
				    "{\"description\":\"CANARY-DESCRIPTION-7f3a "
				    "burst %d.%d\"}",
				    i, k);
				http_json(&r, "POST", "/api/v1/reports", body);
				if (r.status == 201)
					got++;
				else if (r.status != 429)
					bad++;
				resp_free(&r);
			}
			_exit(got + 8 * bad);
		}
	}
	for (i = 0; i < NPROC; i++) {
		if (pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status)) {
			n201 += WEXITSTATUS(status) % 8;
			nbad += WEXITSTATUS(status) / 8;
		} else {
			nbad += NEACH;
		}
	}
	if (!ok(nbad == 0 && n201 > 0,
	        "%d reports sent by %d processes at once -> each 201 "
	        "(or 429)",
	        NPROC * NEACH, NPROC))
		diag("%d answered 201, %d neither 201 nor 429", n201, nbad);
	after = case_count();
	if (!ok(before >= 0 && after == before + n201,
	        "the burst stored each accepted report once"))
		diag("case count %d before, %d after, %d accepted", before, after, n201);
}

void
test_hostile(void)
{
	static const char partial[] =
	    "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"descr";
	static const char smuggle[] = "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\n"
	                              "Content-Type: application/json\r\nContent-Length: 5\r\n"
	                              "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
	char *big, *deep;
	int idle[20], nidle = 0, i;
	struct resp r;
	json_t *o;
	size_t n;

	poke("GARBAGE \x01\x02\xff\r\n\r\n", 16, 500, 1);
	poke("GET /healthz HTTP/9.9\r\n\r\n", 25, 500, 1);
	poke(partial, sizeof partial - 1, 200, 0);
	poke(smuggle, sizeof smuggle - 1, 500, 1);
	n = 256 * 1024;
	big = malloc(n + 64);
	memcpy(big, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ", 39);
	memset(big + 39, 'A', n - 39);
	memcpy(big + n, "\r\n\r\n", 4);
	poke(big, n + 4, 1000, 1);
	/* A path of 64 KiB. */
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', 65536);
	memcpy(big + 5 + 65536, " HTTP/1.1\r\nHost: x\r\n\r\n", 22);
	poke(big, 5 + 65536 + 22, 1000, 1);
	free(big);
	ok(server_alive(),
	    "the server survives garbage, partial bodies, conflicting lengths, "
	    "huge headers and paths");
	/* Large but ordinary headers (8 KiB, as a proxy or a browser may send) are answered. */
	big = malloc(16384);
	n = (size_t)snprintf(big, 16384, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: ");
	memset(big + n, 'b', 8000);
	n += 8000;
	n += (size_t)snprintf(big + n, 16384 - n, "\r\nConnection: close\r\n\r\n");
	ok(status_of(big, n) == 200, "a request with 8 KiB of headers is answered");
	free(big);

	/* A method that is not UTF-8 is quoted in the 405 answer: as JSON all the same. */
	{
		static const char bad_method[] = "G\xe9T /api/v1/policy HTTP/1.1\r\nHost: x\r\n"
		                                 "Connection: close\r\n\r\n";
		char body[4096];
		int code = answer_of(bad_method, sizeof bad_method - 1, body, sizeof body);
		json_t *j = json_loads(body, 0, NULL);
		const char *c = jstr(json_object_get(j, "error"), "code");

		if (!ok(code == 405 && c != NULL && strcmp(c, "method_not_allowed") == 0,
		        "a request whose method is not UTF-8 (G e9 T) on the API -> 405 "
		        "method_not_allowed, a JSON error"))
			diag("status %d, body %.300s", code, body);
		json_decref(j);
	}

	/* JSON nested 100000 deep: invalid_json, not a stack overflow. */
	deep = malloc(100002);
	memset(deep, '[', 100000);
	deep[100000] = '\0';
	http_json(&r, "POST", "/api/v1/reports", deep);
	expect_error(&r, 400, "invalid_json", NULL, "report of 100000 nested [");
	resp_free(&r);
	for (i = 0; i < 200; i++)
		memcpy(deep + i * 5, "{\"a\":", 5);
	memcpy(deep + 1000, "1", 2);
	http_json(&r, "POST", "/api/v1/followup", deep);
	expect_error(&r, 400, "invalid_json", NULL, "follow-up of 200 nested objects");
	resp_free(&r);
	free(deep);

	/* Idle connections from another address do not starve the others. */
	for (i = 0; i < 20; i++)
		if ((idle[nidle] = connect_from("127.0.0.3")) >= 0)
			nidle++;
	http_get(&r, "/healthz");
	if (!ok(r.status == 200 && nidle == 20,
	        "/healthz answers while 20 idle connections are "
	        "open"))
		diag("%d idle connections; got %ld", nidle, r.status);
	resp_free(&r);
	for (i = 0; i < nidle; i++)
		close(idle[i]);

	burst();
	ok(server_alive(), "the server process is still running after the hostile input");
	http_get(&r, "/healthz");
	if (!ok(r.status == 200, "after all the hostile input, /healthz -> 200"))
		diag_resp(&r);
	resp_free(&r);
	o = json_pack("{s:s}", "description", "CANARY-DESCRIPTION-7f3a after the storm");
	i = submit_report(&r, o);
	json_decref(o);
	if (!ok(r.status == 201 && i >= 0, "after all the hostile input, a fresh report -> 201"))
		diag_resp(&r);
	resp_free(&r);
	if (i >= 0) {
		followup(&r, SUBS[i].token);
		if (!ok(r.status == 200, "and its follow-up -> 200"))
			diag_resp(&r);
		resp_free(&r);
	}
}
