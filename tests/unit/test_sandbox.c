/*
 * The sandbox of each of meldpuntd's processes (server/sandbox.c), tried
 * for real: each check forks, confines the child as the role would be,
 * and watches what the child can still do.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "../../server/extern.h"

enum role { WORKER, STORE, PARENT };

/* As server/sandbox.c: a build with AddressSanitizer confines with Landlock only. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

static char dir[] = "/tmp/mp-sandbox.XXXXXX";

/* What a child does once confined: its exit status is the answer. */
typedef int (*probe_fn)(void);

static int
confine(enum role r)
{
	switch (r) {
	case WORKER:
		return sandbox_worker();
	case STORE:
		return sandbox_store(dir);
	case PARENT:
		return sandbox_parent();
	}
	return -1;
}

/*
 * Run probe in a child confined as role r: the child's exit status, or
 * 128 + the signal that ended it; 255 when it could not be confined.
 */
static int
run(enum role r, probe_fn probe)
{
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if (confine(r) != 0)
			_exit(255);
		_exit(probe());
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int __attribute__((unused)) open_etc(void)
{
	int fd = open("/etc/hostname", O_RDONLY);

	return fd < 0 && errno == EACCES ? 0 : 1;
}

static int __attribute__((unused)) open_dev(void)
{
	int fd = openat(AT_FDCWD, "/dev/urandom", O_RDONLY);

	return fd < 0 && errno == EACCES ? 0 : 1;
}

static int __attribute__((unused)) fopen_etc(void)
{
	return fopen("/etc/passwd", "r") == NULL ? 0 : 1;
}

static int __attribute__((unused)) exec_true(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };

	execve("/bin/true", argv, envp);
	return 1; /* still here: not refused by a kill */
}

static int __attribute__((unused)) new_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	return fd < 0 ? 2 : 1;
}

static int __attribute__((unused)) do_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return 1;
}

static void *__attribute__((unused)) thread_main(void *arg)
{
	return arg;
}

/* What serving needs: memory, threads, randomness, time, its own sockets. */
static int __attribute__((unused)) serve_needs(void)
{
	pthread_t t;
	void *back = NULL;
	uint8_t buf[32];
	char *big;
	int sv[2] = { -1, -1 };
	struct timespec ts;

	(void)sv;
	if ((big = malloc(8 << 20)) == NULL)
		return 1;
	memset(big, 1, 8 << 20);
	free(big);
	if (pthread_create(&t, NULL, thread_main, buf) != 0 || pthread_join(t, &back) != 0 ||
	    back != buf)
		return 2;
	randombytes_buf(buf, sizeof buf);
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 3;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 || prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2)
		return 4;
	return 0;
}

/* What the store needs: its own directory, to read, write, make and remove. */
static int __attribute__((unused)) store_files(void)
{
	char path[64];
	int fd;

	snprintf(path, sizeof path, "%s/x", dir);
	if ((fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600)) < 0)
		return 1;
	if (write(fd, "x", 1) != 1 || fsync(fd) != 0 || ftruncate(fd, 0) != 0)
		return 2;
	close(fd);
	return unlink(path) == 0 ? 0 : 3;
}

/* Whether this kernel has Landlock (the store's directory rule is only checked where it has). */
static int __attribute__((unused)) has_landlock(void)
{
	int abi = (int)syscall(444, NULL, 0, 1);

	return abi >= 1;
}

int
main(void)
{
	int ll;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return 1;
	ll = has_landlock();
	printf("# Landlock %s on this kernel\n", ll ? "present" : "absent");

#ifdef SANITIZED
	/* No Landlock, no seccomp: only no-new-privileges is left to see. */
	printf("# built with AddressSanitizer: Landlock and seccomp are off by design; "
	       "the normal build tests them\n");
	(void)ll;
	T_EQ_INT(run(WORKER, open_etc), 1,
	    "sanitizer build: the worker is not confined (as said "
	    "at start)");
#else
	T_EQ_INT(
	    run(WORKER, serve_needs), 0, "HTTP worker: memory, threads, randomness, time work");
	T_EQ_INT(run(WORKER, open_etc), 0, "HTTP worker: opening a file fails with EACCES");
	T_EQ_INT(run(WORKER, open_dev), 0, "HTTP worker: openat of /dev/urandom fails with EACCES");
	T_EQ_INT(run(WORKER, fopen_etc), 0, "HTTP worker: fopen of /etc/passwd fails");
	T_EQ_INT(run(WORKER, exec_true), 128 + SIGSYS, "HTTP worker: exec ends the process");
	T_EQ_INT(
	    run(WORKER, new_socket), 128 + SIGSYS, "HTTP worker: a new socket ends the process");
	T_EQ_INT(run(WORKER, do_fork), 128 + SIGSYS, "HTTP worker: fork ends the process");

	T_EQ_INT(
	    run(STORE, store_files), 0, "store: reads, writes, makes and removes in its directory");
	T_EQ_INT(run(STORE, exec_true), 128 + SIGSYS, "store: exec ends the process");
	T_EQ_INT(run(STORE, new_socket), 128 + SIGSYS, "store: a new socket ends the process");
	T_EQ_INT(run(STORE, do_fork), 128 + SIGSYS, "store: fork ends the process");
	if (ll)
		T_EQ_INT(run(STORE, fopen_etc), 0,
		    "store: a file outside its directory cannot be "
		    "opened (Landlock)");

	T_EQ_INT(run(PARENT, open_etc), 0, "parent: opening a file fails with EACCES");
	T_EQ_INT(run(PARENT, exec_true), 128 + SIGSYS, "parent: exec ends the process");
	T_EQ_INT(run(PARENT, new_socket), 128 + SIGSYS, "parent: a new socket ends the process");

#endif
	rmdir(dir);
	return t_done();
}
