/*
 * API tests: a fresh instance, a real server on loopback, the contract of
 * /work/shared/API.md and PROTOCOL.md checked request by request.
 *
 *	build/tests/api_test [BUILD_DIR]
 *
 * BUILD_DIR (default: $MP_BUILD_DIR, else two levels above argv[0], else
 * "build") holds meldpunt and meldpuntd.  MELDPUNT_TEST_KEEP=1 keeps the temporary directory.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <ftw.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* The residents' pages (test_pages.c). */
void test_pages(void);
/* Rate limits and proofs of work, on an instance of their own (test_limits.c). */
void test_limits(void);
#include "mp_b64.h"

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The build directory: argv[1], else the parent of the directory of argv[0]'s directory. */
static void
find_build(const char *argv0, const char *arg)
{
	char tmp[PATHLEN], *d;

	if (arg == NULL)
		arg = getenv("MP_BUILD_DIR"); /* set by tests/run.sh */
	if (arg != NULL && *arg != '\0') {
		snprintf(I.build, sizeof I.build, "%s", arg);
		return;
	}
	snprintf(tmp, sizeof tmp, "%s", argv0);
	if (strchr(tmp, '/') == NULL) {
		snprintf(I.build, sizeof I.build, "build");
		return;
	}
	d = dirname(tmp);                                    /* build/tests */
	snprintf(I.build, sizeof I.build, "%s", dirname(d)); /* build */
}

/* Every request leaves from CLIENT_IP; Linux routes all of 127/8 to lo. */
static int
loopback_source_ok(void)
{
	struct sockaddr_in sa;
	int fd, good;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	good = inet_pton(AF_INET, CLIENT_IP, &sa.sin_addr) == 1 &&
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return good;
}

/* A box or sign key whose b64u text begins with '-', so key add must take such values. */
static struct mp_identity *
identity_with_dash(const char *name)
{
	char sign[MP_B64U_LEN(32)], box[MP_B64U_LEN(32)];
	struct mp_identity *id;

	for (int i = 0; i < 4096; i++) {
		if ((id = mp_identity_new(name, "caseworker")) == NULL)
			return NULL;
		b64u(sign, sizeof sign, id->sign_pk, 32);
		b64u(box, sizeof box, id->box_pk, 32);
		if (sign[0] == '-' || box[0] == '-')
			return id;
		mp_identity_free(id);
	}
	return mp_identity_new(name, "caseworker");
}

/* init prints the verifier key <origin>+<8 hex>+<b64(0x01 || pk)>. */
static int
verifier_ok(const char *line)
{
	size_t ol = strlen(ORIGIN);
	uint8_t k[33];

	if (strncmp(line, ORIGIN "+", ol + 1) != 0 || strlen(line) < ol + 10 || line[ol + 9] != '+')
		return 0;
	for (size_t i = ol + 1; i < ol + 9; i++)
		if (!strchr("0123456789abcdef", line[i]))
			return 0;
	return mp_b64_decode_exact(k, sizeof k, line + ol + 10, strlen(line + ol + 10)) == 0 &&
	    k[0] == 0x01;
}

static int
do_init(void)
{
	char bin[PATHLEN + 16], url[64], *out = NULL, *err = NULL, *line, *save = NULL;
	int rc, found = 0;

	snprintf(bin, sizeof bin, "%s/meldpunt", I.build);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", I.port);
	{
		const char *argv[] = { bin, "init", "--dir", I.inst, "--origin", ORIGIN,
			"--public-url", url, NULL };

		rc = run_cmd(&out, &err, argv);
	}
	if (!ok(rc == 0, "meldpunt init creates a new instance (exit 0)"))
		diag("exit %d, stderr: %s", rc, err ? err : "");
	for (line = strtok_r(out ? out : (char *)"", "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (verifier_ok(line)) {
			snprintf(I.verifier, sizeof I.verifier, "%s", line);
			found = 1;
		}
	}
	if (!ok(found, "meldpunt init prints the log verifier key <origin>+<hex8>+<b64>"))
		diag("stdout: %s", out ? out : "");
	free(out);
	free(err);
	out = err = NULL;
	{
		const char *argv[] = { bin, "init", "--dir", I.inst, "--origin", ORIGIN,
			"--public-url", url, NULL };
		int rc2 = run_cmd(&out, &err, argv);

		if (!ok(rc2 == 1 && err && strlen(err) > 0,
		        "meldpunt init refuses an existing instance directory (exit 1, a message)"))
			diag("exit %d, stderr: %s", rc2, err ? err : "");
	}
	free(out);
	free(err);
	return rc;
}

/* Before any caseworker key: reports get 503 with Retry-After (nothing could open them). */
static void
test_no_caseworker(void)
{
	struct resp r;
	int rc;

	if (!ok(server_start() == 0,
	        "meldpuntd starts and /healthz answers 200 (no caseworker yet)"))
		return;
	http_json(&r, "POST", "/api/v1/reports",
	    "{\"description\":\"CANARY-DESCRIPTION-7f3a no caseworker\"}");
	expect_error(&r, 503, "unavailable", NULL, "report while only an auditor key is active");
	if (!ok(resp_header(&r, "Retry-After") != NULL, "503 unavailable carries Retry-After"))
		diag_resp(&r);
	resp_free(&r);
	rc = server_stop(5);
	if (!ok(rc == 0, "SIGTERM: the server exits 0 within 5 s (first run)"))
		diag("%s %d (see %s)", rc < 0 ? "had to be killed" : "exit status", rc, I.log);
}

int
main(int argc, char **argv)
{
	int rc, keep;

	setenv("TZ", "Europe/Amsterdam", 1);
	tzset();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		printf("not ok - libsodium and libcurl initialise\n");
		return 1;
	}
	find_build(argv[0], argc > 1 ? argv[1] : NULL);
	if (!loopback_source_ok()) {
		printf("Bail out! cannot bind a socket to %s (needed to find a stored client IP)\n",
		    CLIENT_IP);
		return 1;
	}
	snprintf(I.dir, sizeof I.dir, "/tmp/meldpunt-api-XXXXXX");
	if (mkdtemp(I.dir) == NULL) {
		printf("not ok - mkdtemp\n");
		return 1;
	}
	snprintf(I.inst, sizeof I.inst, "%s/inst", I.dir);
	snprintf(I.log, sizeof I.log, "%s/server.log", I.dir);
	I.port = free_port();
	snprintf(I.base, sizeof I.base, "http://127.0.0.1:%d", I.port);
	diag("build %s, instance %s, port %d", I.build, I.inst, I.port);
	canary_add(CANARY_CLIENT, USER_AGENT_CANARY);
	canary_add(CANARY_CLIENT, CLIENT_IP);

	anna = mp_identity_new("Anna", "caseworker");
	bram = identity_with_dash("Bram");
	carla = mp_identity_new("Carla", "auditor");
	mallory = mp_identity_new("Mallory", "caseworker");
	if (anna == NULL || bram == NULL || carla == NULL || mallory == NULL) {
		printf("not ok - identities\n");
		return 1;
	}

	if (do_init() != 0) {
		printf("Bail out! meldpunt init failed\n");
		goto out;
	}
	ok(key_add(carla) == 0, "meldpunt key add registers an auditor key (exit 0)");
	test_no_caseworker();
	ok(key_add(anna) == 0, "meldpunt key add registers caseworker Anna (exit 0)");
	ok(key_add(bram) == 0,
	    "meldpunt key add takes key values that begin with '-' (Bram, exit 0)");
	if (!ok(server_start() == 0, "meldpuntd --dir --listen starts; /healthz answers 200")) {
		printf("Bail out! the server does not start; see %s\n", I.log);
		goto out;
	}

	test_reports();
	test_validation();
	test_followup();
	test_cases();
	test_signatures();
	test_hostile();
	test_casework();
	test_share();
	test_collective();
	test_purge();
	test_log();
	test_pages();
	test_concurrency();
	test_migrate();

	diag("%u responses, %u of them errors", AUDIT.responses, AUDIT.errors);
	if (!ok(AUDIT.bad_headers == 0,
	        "every response carries Cache-Control: no-store, "
	        "Referrer-Policy: no-referrer, X-Content-Type-Options: nosniff"))
		diag("%u without; first: %s", AUDIT.bad_headers, AUDIT.first_bad_headers);
	if (!ok(AUDIT.bad_errors == 0,
	        "every error response is {\"error\":{\"code\",\"message\""
	        "[,\"field\"]}} JSON with the contract's status for its code"))
		diag("%u malformed; first: %s", AUDIT.bad_errors, AUDIT.first_bad_error);

	rc = server_stop(5);
	if (!ok(rc == 0, "SIGTERM: the server exits 0 within 5 s"))
		diag("%s %d (see %s)", rc < 0 ? "had to be killed" : "exit status", rc, I.log);
	test_privacy();
	test_limits();
out:
	if (I.pid > 0)
		server_stop(2);
	keep = getenv("MELDPUNT_TEST_KEEP") != NULL;
	if (keep)
		diag("kept %s", I.dir);
	else
		nftw(I.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (size_t i = 0; i < NSUBS; i++) {
		json_decref(SUBS[i].report);
		free(SUBS[i].answer);
	}
	for (size_t i = 0; i < NCANARIES; i++)
		free(CANARIES[i].b);
	mp_identity_free(anna);
	mp_identity_free(bram);
	mp_identity_free(carla);
	mp_identity_free(mallory);
	test_share_done();
	curl_global_cleanup();
	return tap_done();
}
