/* meldpuntd: load the instance, then run its processes (privsep.c) until SIGTERM. */
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "extern.h"
#include "mp_store.h"
#include "mp_wipe.h"
#include "version.h"

static const char usage[] =
    "usage: meldpuntd --dir DIR [--listen ADDRESS:PORT] [--tls-cert FILE --tls-key FILE]\n"
    "       meldpuntd --version\n"
    "  Serves the meldpunt instance in DIR (made by `meldpunt init`) on\n"
    "  ADDRESS:PORT (default 127.0.0.1:8080) until SIGTERM or SIGINT.\n"
    "  With --tls-cert and --tls-key (PEM files, read at start), over HTTPS.\n";

/* No core dumps and no ptrace by other users' processes: memory holds secrets. */
static void
no_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *listen = "127.0.0.1:8080", *cert = NULL, *key = NULL;
	struct server srv;
	char err[600];
	int i, rc = 1;

	memset(&srv, 0, sizeof srv);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("meldpuntd %s (database schema %d)\n", MP_BUILD_VERSION,
			    mp_store_schema_version());
			return 0;
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen = argv[++i];
		} else if (strcmp(argv[i], "--tls-cert") == 0 && i + 1 < argc) {
			cert = argv[++i];
		} else if (strcmp(argv[i], "--tls-key") == 0 && i + 1 < argc) {
			key = argv[++i];
		} else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (dir == NULL || (cert == NULL) != (key == NULL)) {
		fputs(usage, stderr);
		return 2;
	}
	if (!listen_address_ok(listen)) {
		fprintf(stderr, "meldpuntd: --listen takes ADDRESS:PORT, e.g. 127.0.0.1:8080\n");
		return 2;
	}
	/* Nothing the caller left open goes on into the processes. */
	closefrom(3);
	no_dumps();
	if (sodium_init() < 0) {
		fprintf(stderr, "meldpuntd: libsodium failed to start\n");
		return 1;
	}
	mp_wipe_json();
	if (mp_instance_load(&srv.in, dir, err, sizeof err) != 0) {
		fprintf(stderr, "meldpuntd: %s\n", err);
		return 1;
	}
	/* Read now: no process of meldpuntd opens a file once the service runs. */
	if (tls_load(&srv.tls, cert, key, err, sizeof err) != 0) {
		fprintf(stderr, "meldpuntd: %s\n", err);
		goto out;
	}
	if (srv.in->public_url[0] == '\0') {
		char url[600];
		snprintf(
		    url, sizeof url, "%s://%s", srv.tls.cert != NULL ? "https" : "http", listen);
		if (mp_instance_set_public_url(srv.in, url) != 0) {
			fprintf(stderr, "meldpuntd: cannot make a public URL of %s\n", listen);
			goto out;
		}
	}
	rc = privsep_run(&srv, listen);
out:
	tls_free(&srv.tls);
	mp_instance_free(srv.in);
	return rc;
}
