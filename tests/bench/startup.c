/*
 * startup RUNS PORT PROGRAM [ARG...]: start-up time.  RUNS times: fork and
 * exec PROGRAM, then ask GET /healthz on 127.0.0.1:PORT every half
 * millisecond until it answers 200; the time from fork to that answer is
 * one start.  Each server is stopped with SIGTERM and waited for before the
 * next.  Prints one line of key=value pairs: the best and the median start
 * in milliseconds.  Exits 1 if a start takes over 120 s or the program
 * dies before it answers.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXRUNS 50

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 when GET /healthz answers 200 now, else 0. */
static int
healthy(const struct sockaddr_in *sa)
{
	static const char req[] =
	    "GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
	char buf[64];
	size_t got = 0;
	ssize_t r;
	int fd, ok = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) != 0 ||
	    write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1))
		goto out;
	while (got < 12 && (r = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	ok = got >= 12 && strncmp(buf, "HTTP/1.", 7) == 0 && strncmp(buf + 9, "200", 3) == 0;
out:
	close(fd);
	return ok;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct timespec half = { 0, 500000 };
	struct sockaddr_in sa;
	double ms[MAXRUNS], t0;
	int runs, i, status;
	long port;
	pid_t pid;

	if (argc < 4 || (runs = atoi(argv[1])) < 1 || runs > MAXRUNS ||
	    (port = strtol(argv[2], NULL, 10)) < 1 || port > 65535) {
		fprintf(stderr, "usage: startup RUNS PORT PROGRAM [ARG...]\n");
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (healthy(&sa)) {
		fprintf(stderr, "startup: something answers on port %ld already\n", port);
		return 1;
	}
	for (i = 0; i < runs; i++) {
		t0 = now();
		if ((pid = fork()) < 0)
			return 1;
		if (pid == 0) {
			execvp(argv[3], argv + 3);
			_exit(127);
		}
		while (!healthy(&sa)) {
			if (waitpid(pid, &status, WNOHANG) == pid) {
				fprintf(stderr, "startup: %s exited before it answered\n", argv[3]);
				return 1;
			}
			if (now() - t0 > 120) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				fprintf(stderr, "startup: no answer within 120 s\n");
				return 1;
			}
			nanosleep(&half, NULL);
		}
		ms[i] = (now() - t0) * 1e3;
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
	qsort(ms, (size_t)runs, sizeof ms[0], cmp);
	printf("startup runs=%d best_ms=%.1f median_ms=%.1f\n", runs, ms[0], ms[runs / 2]);
	return 0;
}
