/* meldpuntd: load the instance, open the store, serve until SIGTERM. */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include "extern.h"
#include "mp_wipe.h"

static const char usage[] =
    "usage: meldpuntd --dir DIR [--listen ADDRESS:PORT]\n"
    "  Serves the meldpunt instance in DIR (made by `meldpunt init`) on\n"
    "  ADDRESS:PORT (default 127.0.0.1:8080) until SIGTERM or SIGINT.\n";

/* The retention purge: at start, then once a day, until told to stop. */
struct purger {
	struct server *srv;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop;
	pthread_t thread;
};

static void
purge_now(struct server *srv)
{
	char today[11], closed[11], inactive[11];
	int n = 0;

	mp_today(today);
	if (mp_retention_cutoffs(srv->in->policy, today, closed, inactive) != 0 ||
	    mp_store_purge(srv->st, today, closed, inactive, &n) != 0)
		fprintf(stderr, "meldpuntd: the retention purge failed; it runs again tomorrow\n");
	else if (n > 0)
		fprintf(stderr, "meldpuntd: retention purge removed the contents of %d case%s\n", n,
		    n == 1 ? "" : "s");
}

static void *
purge_loop(void *arg)
{
	struct purger *pg = arg;
	struct timespec until;

	pthread_mutex_lock(&pg->lock);
	while (!pg->stop) {
		pthread_mutex_unlock(&pg->lock);
		purge_now(pg->srv);
		pthread_mutex_lock(&pg->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 24 * 60 * 60;
		while (!pg->stop && pthread_cond_timedwait(&pg->wake, &pg->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&pg->lock);
	return NULL;
}

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
	const char *dir = NULL, *listen = "127.0.0.1:8080";
	struct purger pg = { NULL, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	int purging = 0;
	struct server srv;
	char err[600], path[PATH_MAX];
	sigset_t set;
	int i, sig, rc = 1;

	memset(&srv, 0, sizeof srv);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen = argv[++i];
		} else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (dir == NULL) {
		fputs(usage, stderr);
		return 2;
	}
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
	if (mp_instance_path(path, sizeof path, srv.in, MP_INSTANCE_DB) != 0 ||
	    mp_store_open(&srv.st, path, srv.in->sec->db_key) != 0) {
		fprintf(stderr, "meldpuntd: cannot open the database in %s\n", dir);
		goto out;
	}
	if ((srv.replay = replay_new()) == NULL || (srv.log = log_new()) == NULL)
		goto out;
	if (srv.in->public_url[0] == '\0') {
		char url[600];
		snprintf(url, sizeof url, "http://%s", listen);
		if (mp_instance_set_public_url(srv.in, url) != 0) {
			fprintf(stderr, "meldpuntd: cannot make a public URL of %s\n", listen);
			goto out;
		}
	}

	/* Every thread inherits this mask; only sigwait below sees the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	pg.srv = &srv;
	if (pthread_create(&pg.thread, NULL, purge_loop, &pg) != 0)
		goto out;
	purging = 1;
	if (server_start(&srv, listen) != 0)
		goto out;
	fprintf(stderr, "meldpuntd: serving %s on %s\n", srv.in->public_url, listen);
	if (sigwait(&set, &sig) != 0)
		goto out;
	fprintf(stderr, "meldpuntd: stopping\n");
	server_stop(&srv);
	{
		uint64_t commits, changes;

		/* How well concurrent changes shared their commits (docs/STORE.md). */
		mp_store_figures(srv.st, &commits, &changes);
		fprintf(stderr, "meldpuntd: %llu changes stored in %llu commits\n",
		    (unsigned long long)changes, (unsigned long long)commits);
	}
	rc = 0;
out:
	server_stop(&srv);
	if (purging) {
		pthread_mutex_lock(&pg.lock);
		pg.stop = 1;
		pthread_cond_signal(&pg.wake);
		pthread_mutex_unlock(&pg.lock);
		pthread_join(pg.thread, NULL);
	}
	replay_free(srv.replay);
	log_free(srv.log);
	mp_store_close(srv.st);
	mp_instance_free(srv.in);
	return rc;
}
