/*
 * hello PORT: the limit for the HTTP layer.  A libmicrohttpd server started
 * with the threading mode, pool size and connection limits of meldpuntd's
 * server_start (server/http.c), answering a small static body: 201 to a
 * POST on /api/v1/reports, 200 to anything else.  Request bodies are read
 * and dropped, so that the bench loads it with the same wrk scripts as
 * meldpuntd.  Serves until SIGTERM or SIGINT.  `hello --version` prints
 * libmicrohttpd's version.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define KIB 1024

static const char body[] = "{}";
static struct MHD_Response *created, *ok;
static int marker; /* a request's state: its first call has been seen */

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	(void)cls;
	(void)version;
	(void)upload_data;
	if (*req_cls == NULL) {
		*req_cls = &marker;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") == 0 && strcmp(url, "/api/v1/reports") == 0)
		return MHD_queue_response(conn, MHD_HTTP_CREATED, created);
	return MHD_queue_response(conn, MHD_HTTP_OK, ok);
}

static void
quiet_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

int
main(int argc, char **argv)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	sigset_t set;
	long port;
	int sig;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("%s\n", MHD_get_version());
		return 0;
	}
	if (argc != 2 || (port = strtol(argv[1], NULL, 10)) < 1 || port > 65535) {
		fprintf(stderr, "usage: hello PORT | hello --version\n");
		return 2;
	}
	/* The pool's threads inherit the mask, so only sigwait below sees the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	created = MHD_create_response_from_buffer(
	    sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	ok = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (created == NULL || ok == NULL ||
	    MHD_add_response_header(created, "Content-Type", "application/json") != MHD_YES ||
	    MHD_add_response_header(ok, "Content-Type", "application/json") != MHD_YES)
		return 1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&sa, MHD_OPTION_EXTERNAL_LOGGER, quiet_log, NULL,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)15, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)(12 * KIB), MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "hello: cannot listen on 127.0.0.1:%ld\n", port);
		return 1;
	}
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	MHD_destroy_response(created);
	MHD_destroy_response(ok);
	return 0;
}
