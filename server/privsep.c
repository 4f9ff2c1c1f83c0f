/*
 * meldpuntd's processes (docs/PRIVSEP.md), after OpenBSD's daemons:
 *
 *   parent   starts the other two, passes on SIGTERM, reaps, and holds
 *            nothing once they run;
 *   store    alone opens the database and holds the database key, the log
 *            key and the token pepper; answers the worker's calls on
 *            socketpairs (one channel per worker thread that may call at
 *            once) and runs the daily retention purge;
 *   worker   parses HTTP: every request, every page; holds no key and can
 *            open no file (sandbox.c), and reaches the store only by
 *            size-checked messages (mp_remote.h).
 *
 * Each child dies with the parent.  If either child ends, the parent stops
 * the other and exits non-zero, so a supervisor restarts the whole.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"
#include "mp_remote.h"
#include "mp_token.h"
#include "mp_wire.h"

#define CHANNELS 32    /* one for each of the worker's job threads (http.c) */
#define WORKER_NICE 10 /* the HTTP worker's niceness above the store's */
/* How long a change may stay open with no call on its channel (mp_store_serve). */
#define CHANGE_IDLE_MS 30000

/*
 * A child ends with _exit: nothing of the parent's exit handlers runs in
 * it.  Built with AddressSanitizer, it ends with exit, so that the leak
 * check runs in each process.
 */
#if defined(__SANITIZE_ADDRESS__)
#define child_exit(rc) exit(rc)
#else
#define child_exit(rc) _exit(rc)
#endif

/* --- the key holder's operations ----------------------------------------------------------- */

int
token_tag(struct server *srv, const uint8_t lookup[32], uint8_t tag[32])
{
	struct mp_wbuf w;
	struct mp_rbuf r;
	uint8_t *msg;
	size_t len;
	int rc;

	if (srv->in->sec != NULL) {
		mp_token_tag(tag, srv->in->sec->pepper, lookup);
		return 0;
	}
	mp_wire_init(&w);
	mp_put_u32(&w, KEYS_TOKEN_TAG);
	mp_put_fixed(&w, lookup, 32);
	rc = mp_remote_call(srv->st, &w, &r, &msg, &len);
	mp_wire_free(&w);
	if (rc == 0) {
		mp_get_fixed(&r, tag, 32);
		if (mp_wire_done(&r) != 0)
			rc = -1;
	}
	mp_wire_discard(msg, len);
	return rc;
}

int
keys_serve(void *arg, uint32_t code, struct mp_rbuf *in, struct mp_wbuf *out)
{
	struct server *srv = arg;
	uint8_t lookup[32], tag[32];

	switch (code) {
	case KEYS_TOKEN_TAG:
		mp_get_fixed(in, lookup, 32);
		if (mp_wire_done(in) != 0)
			return -1;
		mp_token_tag(tag, srv->in->sec->pepper, lookup);
		mp_put_fixed(out, tag, 32);
		sodium_memzero(lookup, sizeof lookup);
		return 0;
	case KEYS_CHECKPOINT:
	case KEYS_STATS:
		return log_keys_serve(srv, code, in, out);
	case KEYS_FIND:
	case KEYS_REPORT:
		return lookup_keys_serve(srv, code, in, out);
	}
	return -1;
}

/* --- the store process --------------------------------------------------------------------- */

/* The retention purge: at start, then once a day, until told to stop. */
struct purger {
	struct server *srv;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop;
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

struct channel {
	struct server *srv;
	int fd;
	pthread_t thread;
};

static void *
channel_loop(void *arg)
{
	struct channel *ch = arg;

	if (mp_store_serve(ch->srv->st, ch->fd, CHANGE_IDLE_MS, keys_serve, ch->srv) != 0) {
		/*
		 * A worker that holds a change open and says nothing stops every
		 * other change and the purge: it is stuck or not ours any more.
		 * The change is undone; the store ends, so meldpuntd ends (1) and
		 * is started again (systemd), with a new worker.
		 */
		fprintf(stderr,
		    "meldpuntd: the HTTP worker kept a change open %d s without a call; "
		    "it was undone and meldpuntd stops, to be started again\n",
		    CHANGE_IDLE_MS / 1000);
		_exit(1);
	}
	close(ch->fd);
	return NULL;
}

/* Serve the channels until the worker closes them all; 0, or 1 on failure. */
static int
store_main(struct server *srv, const int *fds, size_t n)
{
	struct purger pg = { srv, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
	struct channel ch[CHANNELS];
	char path[PATH_MAX];
	pthread_t purger;
	uint64_t commits, changes;
	size_t i, started = 0;
	int rc = 1;

	prctl(PR_SET_NAME, "meldpuntd:store", 0, 0, 0);
	/* The TLS key is the worker's alone. */
	tls_free(&srv->tls);
	if (mp_instance_path(path, sizeof path, srv->in, MP_INSTANCE_DB) != 0 ||
	    mp_store_open(&srv->st, path, srv->in->sec->db_key) != 0) {
		fprintf(stderr, "meldpuntd: cannot open the database in %s\n", srv->in->dir);
		return 1;
	}
	/* SQLCipher keeps its own copy; this one is no longer needed. */
	sodium_memzero(srv->in->sec->db_key, sizeof srv->in->sec->db_key);
	/* The worker's events go into the log only with the policy's codes. */
	if (mp_store_check_codes(srv->st, srv->in->policy) != 0) {
		fprintf(stderr, "meldpuntd: cannot read the policy's statistics layout\n");
		goto out;
	}
	if (sandbox_store(srv->in->dir) != 0) {
		fprintf(stderr, "meldpuntd: cannot confine the store process\n");
		goto out;
	}
	if ((srv->log = log_new()) == NULL || pthread_create(&purger, NULL, purge_loop, &pg) != 0)
		goto out;
	/* The worker serves only once the database is open (and migrated): it waits for this. */
	if (write(fds[0], "R", 1) != 1)
		goto stop;
	for (i = 0; i < n; i++) {
		ch[i].srv = srv;
		ch[i].fd = fds[i];
		if (pthread_create(&ch[i].thread, NULL, channel_loop, &ch[i]) != 0)
			break;
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(ch[i].thread, NULL);
	rc = started == n ? 0 : 1;
stop:
	pthread_mutex_lock(&pg.lock);
	pg.stop = 1;
	pthread_cond_signal(&pg.wake);
	pthread_mutex_unlock(&pg.lock);
	pthread_join(purger, NULL);
	/* How well concurrent changes shared their commits (docs/STORE.md). */
	mp_store_figures(srv->st, &commits, &changes);
	fprintf(stderr, "meldpuntd: %llu changes stored in %llu commits\n",
	    (unsigned long long)changes, (unsigned long long)commits);
out:
	log_free(srv->log);
	srv->log = NULL;
	mp_store_close(srv->st);
	srv->st = NULL;
	return rc;
}

/* --- the HTTP worker ----------------------------------------------------------------------- */

/* The store's word that the database is open: one byte before any answer; 0 or -1. */
static int
store_ready(int fd)
{
	ssize_t r;
	char b;

	while ((r = read(fd, &b, 1)) < 0 && errno == EINTR)
		;
	return r == 1 && b == 'R' ? 0 : -1;
}

static int
worker_main(struct server *srv, int lfd, const int *fds, size_t n, const char *listen)
{
	char err[600];
	sigset_t set;
	int sig, rc = 1;

	prctl(PR_SET_NAME, "meldpuntd:http", 0, 0, 0);
	/*
	 * The store commits for every request, one batch at a time: a commit
	 * that waits for a CPU behind the worker's sealing keeps every request
	 * in the batch waiting.  So the worker, and every thread it starts,
	 * yields to the store (docs/PRIVSEP.md, docs/BENCH.md).
	 */
	errno = 0;
	if (nice(WORKER_NICE) == -1 && errno != 0)
		fprintf(stderr, "meldpuntd: cannot lower the HTTP worker's priority: %s\n",
		    strerror(errno));
	/* No key stays here: the store process signs and hashes on request. */
	sodium_free(srv->in->sec);
	srv->in->sec = NULL;
	if (store_ready(fds[0]) != 0 || mp_store_remote(&srv->st, fds, n) != 0)
		return 1;
	/*
	 * Everything read from disk is read now: afterwards no file can be
	 * opened, so jansson's hash seed would otherwise fall back to the clock.
	 */
	tzset();
	json_object_seed(randombytes_random());
	if (ui_load(&srv->ui, srv->in, err, sizeof err) != 0) {
		fprintf(stderr, "meldpuntd: %s\n", err);
		goto out;
	}
	if ((srv->replay = replay_new()) == NULL || (srv->log = log_new()) == NULL)
		goto out;
	if (sandbox_worker() != 0) {
		fprintf(stderr, "meldpuntd: cannot confine the HTTP worker\n");
		goto out;
	}
	if (server_start(srv, lfd) != 0)
		goto out;
	fprintf(stderr, "meldpuntd: serving %s on %s\n", srv->in->public_url, listen);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigwait(&set, &sig) == 0)
		rc = 0;
	server_stop(srv);
out:
	replay_free(srv->replay);
	log_free(srv->log);
	mp_store_close(srv->st);
	return rc;
}

/* --- the parent ---------------------------------------------------------------------------- */

/* In a child: die with the parent, even if it is killed. */
static int
child_of(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		return -1;
	/* The parent may have died before the line above. */
	return getppid() == parent ? 0 : -1;
}

static void
close_all(const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Wait for both children; stop the worker when told to or when the store ends. */
static int
reap(pid_t store, pid_t worker)
{
	sigset_t set;
	int sig, status, rc = 0, stopping = 0;
	pid_t pid;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	while (store > 0 || worker > 0) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !stopping)
				rc = 1;
			if (pid == worker)
				worker = 0;
			else if (pid == store) {
				store = 0;
				/* Nothing can be stored any more: stop serving. */
				if (worker > 0)
					kill(worker, SIGTERM);
			}
		}
		if (store <= 0 && worker <= 0)
			break;
		if (sigwait(&set, &sig) != 0)
			continue;
		if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
			stopping = 1;
			fprintf(stderr, "meldpuntd: stopping\n");
			/* The worker finishes its requests; then the store sees its channels close. */
			if (worker > 0)
				kill(worker, SIGTERM);
		}
	}
	return rc;
}

int
privsep_run(struct server *srv, const char *listen)
{
	int store_end[CHANNELS], worker_end[CHANNELS], sv[2], lfd;
	pid_t parent = getpid(), store, worker;
	sigset_t set;
	size_t i;

	/* Only sigwait sees these, in every process. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Everything is read at start: a hang-up (a closed terminal) changes nothing. */
	signal(SIGHUP, SIG_IGN);
	if ((lfd = server_listen(listen)) < 0)
		return 1;
	for (i = 0; i < CHANNELS; i++)
		store_end[i] = worker_end[i] = -1;
	for (i = 0; i < CHANNELS; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
			close_all(store_end, CHANNELS);
			close_all(worker_end, CHANNELS);
			close(lfd);
			return 1;
		}
		store_end[i] = sv[0];
		worker_end[i] = sv[1];
	}
	if ((store = fork()) < 0)
		return 1;
	if (store == 0) {
		close(lfd);
		close_all(worker_end, CHANNELS);
		/* SIGTERM is for the parent to pass on; the store ends when the worker has. */
		child_exit(child_of(parent) != 0 ? 1 : store_main(srv, store_end, CHANNELS));
	}
	close_all(store_end, CHANNELS);
	if ((worker = fork()) < 0) {
		kill(store, SIGKILL);
		return 1;
	}
	if (worker == 0)
		child_exit(child_of(parent) != 0
		        ? 1
		        : worker_main(srv, lfd, worker_end, CHANNELS, listen));
	close(lfd);
	close_all(worker_end, CHANNELS);
	/* The parent keeps nothing: it only waits. */
	sodium_free(srv->in->sec);
	srv->in->sec = NULL;
	tls_free(&srv->tls);
	if (sandbox_parent() != 0) {
		fprintf(stderr, "meldpuntd: cannot confine the parent process\n");
		kill(worker, SIGTERM);
	}
	return reap(store, worker);
}
