/*
 * A signed HTTP client for the caseworker, auditor and admin API
 * (PROTOCOL.md section 4) over libcurl.  One client = one server URL and
 * one opened key file; the passphrase is asked once, when it is opened.
 */
#ifndef MP_CLI_CLIENT_H
#define MP_CLI_CLIENT_H

#include <curl/curl.h>
#include <jansson.h>

#include "mp_keyfile.h"

#define MP_DEFAULT_URL "http://127.0.0.1:8080"

struct mp_client;

/*
 * The options every command that talks to the server takes: --url and
 * --key.  Put MP_CLIENT_OPTS(o) into a command's option table (util.h)
 * and hand o to mp_client_open_opts.
 */
struct mp_client_opts {
	const char *url;
	const char *key;
};
#define MP_CLIENT_OPTS(o) \
	{ "url", &(o).url, NULL }, \
	{ \
		"key", &(o).key, NULL \
	}
#define MP_CLIENT_USAGE "[--url URL] [--key FILE]"
#define MP_CLIENT_HELP \
	"  --url URL    the server (default: $MELDPUNT_URL, else " MP_DEFAULT_URL ")\n" \
	"  --key FILE   your key file (default: $MELDPUNT_KEY); its passphrase is asked\n" \
	"               on the terminal, or taken from $MELDPUNT_PASSPHRASE\n"

/*
 * Open a client for the server at url (http:// or https://, perhaps with
 * a path prefix) with the key file at keyfile: reads the file, asks the
 * passphrase and opens it.  The key must be able to sign (not a recovery
 * key).  0 with *c set, or -1 (printed).
 */
int mp_client_open(struct mp_client **c, const char *url, const char *keyfile)
    __attribute__((warn_unused_result));

/*
 * mp_client_open with --url / $MELDPUNT_URL / the default, and --key /
 * $MELDPUNT_KEY.  0; -1 (printed); -2 when neither --key nor $MELDPUNT_KEY
 * is given (printed; bad usage).
 */
int mp_client_open_opts(struct mp_client **c, const struct mp_client_opts *o)
    __attribute__((warn_unused_result));

void mp_client_close(struct mp_client *c);

/*
 * The options every request of the tool has, signed or not (after
 * curl_easy_reset): url; http and https only; no redirects and no
 * signals; the connect and stall time-outs; errbuf (CURL_ERROR_SIZE) for
 * libcurl's own message; the user agent; and the certificate authorities
 * an https:// server is checked against: those in the PEM file
 * $MELDPUNT_CA instead of the system's when it is set (a municipality's
 * private CA), else the system's.  0, or -1.
 */
int mp_client_setup(CURL *curl, const char *url, char *errbuf) __attribute__((warn_unused_result));

/*
 * An answer's body as libcurl hands it over: a malloc'ed buffer, grown as
 * needed and kept NUL-terminated.  More than max bytes set too_large and
 * stop the transfer (CURLE_WRITE_ERROR).
 */
struct mp_answer {
	char *buf;
	size_t len, cap, max;
	int too_large;
};

/* The CURLOPT_WRITEFUNCTION of a struct mp_answer (the CURLOPT_WRITEDATA). */
size_t mp_answer_write(char *data, size_t size, size_t nmemb, void *arg);

/* The opened key (name, role, keys); owned by the client. */
const struct mp_identity *mp_client_identity(const struct mp_client *c);

/*
 * Send a signed request: method "GET" or "POST", path_query as it goes on
 * the request line (beginning with '/', its query already escaped; it is
 * appended to the URL's path prefix), body a JSON object or NULL.  The
 * HTTP status goes to *status (0 when no answer came) and the parsed JSON
 * answer to *resp (a new reference; {} for an empty answer).
 * Returns 0 for a 2xx answer; 1 for an API error answer, printed as
 * "meldpunt: <message> (<code>[, field <f>])"; -1 when the server cannot be
 * reached or answers something that is not the API (printed).
 */
int mp_client_request(struct mp_client *c, const char *method, const char *path_query,
    const json_t *body, long *status, json_t **resp) __attribute__((warn_unused_result));

/*
 * Percent-encode s for a query value (everything but RFC 3986's unreserved
 * characters).  malloc'ed, or NULL when out of memory.
 */
char *mp_url_escape(const char *s) __attribute__((warn_unused_result));

#endif
