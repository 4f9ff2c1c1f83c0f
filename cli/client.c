/* Signed HTTP requests to meldpuntd (PROTOCOL.md section 4) over libcurl. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client.h"
#include "mp_keyfile.h"
#include "mp_sig.h"
#include "util.h"

#define URL_MAX 2048
#define PATH_MAX_LEN 4096 /* the signature base must fit MP_SIG_BASE_MAX */
#define KEYFILE_MAX (64 * 1024)
/* A case with many messages is large, but an answer without bound is not an answer. */
#define ANSWER_MAX (64 * 1024 * 1024)
#define CONNECT_TIMEOUT 15L
#define STALL_TIMEOUT 60L /* seconds without a byte before giving up */

struct mp_client {
	CURL *curl;
	char *url;    /* as given, for messages */
	char *origin; /* "scheme://authority" */
	char *prefix; /* path before /api/..., without a trailing '/'; may be "" */
	struct mp_identity *id;
	char errbuf[CURL_ERROR_SIZE];
};

/* A character that may not appear in a URL we build: controls, space and non-ASCII. */
static int
bad_url_char(char ch)
{
	unsigned char c = (unsigned char)ch;

	return c <= 0x20 || c >= 0x7f;
}

/*
 * Split url into origin and path prefix.  Only http and https, no user
 * name, query or fragment: the prefix is signed as part of @path, so it
 * must be exactly what goes on the request line.
 */
static int
parse_url(struct mp_client *c, const char *url)
{
	const char *auth = NULL, *slash, *p;
	size_t len = strlen(url), plen;
	int rc = -1;

	if (strncasecmp(url, "http://", 7) == 0)
		auth = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		auth = url + 8;
	for (p = url; *p; p++)
		if (bad_url_char(*p) || *p == '?' || *p == '#' || *p == '@')
			auth = NULL;
	if (auth == NULL || len > URL_MAX || *auth == '\0' || *auth == '/') {
		err1("'%s' is not a server URL (http:// or https://, host, perhaps a path)", url);
		goto out;
	}
	if ((slash = strchr(auth, '/')) == NULL)
		slash = url + len;
	plen = strlen(slash);
	while (plen > 0 && slash[plen - 1] == '/')
		plen--;
	c->url = strdup(url);
	c->origin = strndup(url, (size_t)(slash - url));
	c->prefix = strndup(slash, plen);
	if (c->url == NULL || c->origin == NULL || c->prefix == NULL) {
		err1("out of memory");
		goto out; /* mp_client_close frees what was made */
	}
	rc = 0;
out:
	return rc;
}

void
mp_client_close(struct mp_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	mp_identity_free(c->id); /* wipes the secret keys */
	free(c->url);
	free(c->origin);
	free(c->prefix);
	free(c);
}

/* $MELDPUNT_CA, when it is set, for the system's authorities (mp_client_setup).  0, or -1. */
static int
client_ca(CURL *curl)
{
	const char *ca = getenv("MELDPUNT_CA");

	if (ca == NULL || *ca == '\0')
		return 0;
	/* Only the named authorities: the directory of the system's is dropped too. */
	if (curl_easy_setopt(curl, CURLOPT_CAINFO, ca) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_CAPATH, NULL) != CURLE_OK)
		return -1;
	return 0;
}

int
mp_client_setup(CURL *curl, const char *url, char *errbuf)
{
	errbuf[0] = '\0';
	if (curl_easy_setopt(curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, STALL_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_USERAGENT, "meldpunt") != CURLE_OK ||
	    client_ca(curl) != 0)
		return -1;
	return 0;
}

const struct mp_identity *
mp_client_identity(const struct mp_client *c)
{
	return c->id;
}

/* A cheap look before the passphrase is asked; mp_keyfile_open decides. */
static int
looks_like_keyfile(const char *text, size_t len)
{
	json_t *j = json_loadb(text, len, 0, NULL);
	const char *format = json_string_value(json_object_get(j, "format"));
	int ok = format != NULL && strcmp(format, "meldpunt-key-v1") == 0;

	json_decref(j);
	return ok;
}

int
mp_client_open(struct mp_client **out, const char *url, const char *keyfile)
{
	struct mp_client *c = NULL;
	char *text = NULL, *pass = NULL, prompt[512];
	size_t tlen = 0, plen = 0;
	int n, r, rc = -1;

	*out = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL) {
		err1("out of memory");
		goto out;
	}
	/* The URL is checked first, so that nobody types a passphrase for nothing. */
	if (parse_url(c, url) != 0)
		goto out;
	if (mp_read_file(keyfile, KEYFILE_MAX, &text, &tlen) != 0)
		goto out;
	if (!looks_like_keyfile(text, tlen)) {
		err1("%s is not a meldpunt key file", keyfile);
		goto out;
	}
	n = snprintf(prompt, sizeof prompt, "Passphrase for %s: ", keyfile);
	if (n < 0 || (size_t)n >= sizeof prompt)
		memcpy(prompt, "Passphrase: ", sizeof "Passphrase: ");
	if (mp_passphrase_read(&pass, &plen, prompt, 0) != 0)
		goto out;
	r = mp_keyfile_open(&c->id, text, tlen, pass, plen);
	if (r == -2) {
		err1("wrong passphrase for %s", keyfile);
		goto out;
	}
	if (r != 0) {
		err1("%s is not a meldpunt key file", keyfile);
		goto out;
	}
	if (!c->id->has_sign) {
		err1("%s is a recovery key; it cannot sign requests", keyfile);
		goto out;
	}
	if ((c->curl = curl_easy_init()) == NULL) {
		err1("cannot start libcurl");
		goto out;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	mp_secret_free(pass);
	mp_secret_free(text);
	mp_client_close(c);
	return rc;
}

int
mp_client_open_opts(struct mp_client **c, const struct mp_client_opts *o)
{
	const char *url = o->url, *key = o->key;

	*c = NULL;
	if (url == NULL && (url = getenv("MELDPUNT_URL")) != NULL && *url == '\0')
		url = NULL;
	if (url == NULL)
		url = MP_DEFAULT_URL;
	if (key == NULL && (key = getenv("MELDPUNT_KEY")) != NULL && *key == '\0')
		key = NULL;
	if (key == NULL) {
		err1("no key file: pass --key FILE or set MELDPUNT_KEY");
		return -2;
	}
	return mp_client_open(c, url, key);
}

char *
mp_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(s), o = 0, i;
	unsigned char ch;
	char *out;

	if (len > (SIZE_MAX - 1) / 3 || (out = malloc(len * 3 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return out;
}

size_t
mp_answer_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct mp_answer *a = arg;
	size_t n = size * nmemb, cap;
	char *bigger;

	if (n > a->max - a->len) {
		a->too_large = 1;
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	if (a->len + n + 1 > a->cap) {
		cap = a->cap ? a->cap : 16384;
		while (cap < a->len + n + 1)
			cap *= 2;
		if ((bigger = realloc(a->buf, cap)) == NULL)
			return 0;
		a->buf = bigger;
		a->cap = cap;
	}
	memcpy(a->buf + a->len, data, n);
	a->len += n;
	a->buf[a->len] = '\0';
	return n;
}

/* One header line "Name: value" appended to *list; value NULL drops curl's own header. */
static int
add_header(struct curl_slist **list, const char *name, const char *value)
{
	char line[512];
	struct curl_slist *l;
	int n = value != NULL ? snprintf(line, sizeof line, "%s: %s", name, value)
	                      : snprintf(line, sizeof line, "%s:", name);

	if (n < 0 || (size_t)n >= sizeof line)
		return -1;
	if ((l = curl_slist_append(*list, line)) == NULL)
		return -1;
	*list = l;
	return 0;
}

/* "meldpunt: <message> (<code>[, field <f>])" for an API error object; -1 if it is none. */
static int
print_api_error(const json_t *resp)
{
	const json_t *e = json_object_get(resp, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	const char *field = json_string_value(json_object_get(e, "field"));

	if (!json_is_object(e) || code == NULL)
		return -1;
	fputs("meldpunt: ", stderr);
	mp_print_line(stderr, msg != NULL && *msg ? msg : "the server refused the request");
	fputs(" (", stderr);
	mp_print_line(stderr, code);
	if (field != NULL && *field) {
		fputs(", field ", stderr);
		mp_print_line(stderr, field);
	}
	fputs(")\n", stderr);
	return 0;
}

int
mp_client_request(struct mp_client *c, const char *method, const char *path_query,
    const json_t *body, long *status, json_t **resp)
{
	char sig_input[MP_SIG_PARAMS_LEN + 16], signature[128], digest[MP_SIG_DIGEST_LEN];
	char *path = NULL, *url = NULL, *text = NULL;
	const char *q, *query, *p;
	struct curl_slist *headers = NULL;
	struct mp_answer a = { NULL, 0, 0, ANSWER_MAX, 0 };
	json_t *j = NULL;
	size_t plen;
	int is_post, n, rc = -1;
	CURLcode cc;

	*status = 0;
	*resp = NULL;
	is_post = strcmp(method, "POST") == 0;
	if ((!is_post && strcmp(method, "GET") != 0) || path_query[0] != '/') {
		err1("internal error: bad request %s %s", method, path_query);
		goto out;
	}
	if (strlen(path_query) > PATH_MAX_LEN) {
		err1("the request path is too long");
		goto out;
	}
	for (p = path_query; *p; p++) {
		if (bad_url_char(*p) || *p == '#') {
			err1("internal error: bad request path");
			goto out;
		}
	}
	/* @path and @query exactly as they go on the request line; "?" when there is no query. */
	q = strchr(path_query, '?');
	plen = q != NULL ? (size_t)(q - path_query) : strlen(path_query);
	query = q != NULL ? q : "?";
	n = snprintf(NULL, 0, "%s%.*s", c->prefix, (int)plen, path_query);
	if (n < 0 || (path = malloc((size_t)n + 1)) == NULL ||
	    snprintf(path, (size_t)n + 1, "%s%.*s", c->prefix, (int)plen, path_query) != n) {
		err1("out of memory");
		goto out;
	}
	n = snprintf(NULL, 0, "%s%s%s", c->origin, c->prefix, path_query);
	if (n < 0 || (url = malloc((size_t)n + 1)) == NULL ||
	    snprintf(url, (size_t)n + 1, "%s%s%s", c->origin, c->prefix, path_query) != n) {
		err1("out of memory");
		goto out;
	}
	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		err1("out of memory");
		goto out;
	}
	if (mp_sig_sign(sig_input, sizeof sig_input, signature, sizeof signature, digest,
	        sizeof digest, method, path, query, (const uint8_t *)text, text ? strlen(text) : 0,
	        (long long)time(NULL), c->id->sign_pk, c->id->sign_sk) != 0) {
		err1("cannot sign the request to %s", path);
		goto out;
	}
	if (add_header(&headers, "Signature-Input", sig_input) != 0 ||
	    add_header(&headers, "Signature", signature) != 0 ||
	    add_header(&headers, "Accept", "application/json") != 0 ||
	    /* No 100-continue round trip: bodies are small and the server answers at once. */
	    add_header(&headers, "Expect", NULL) != 0 ||
	    (text != NULL &&
	        (add_header(&headers, "Content-Digest", digest) != 0 ||
	            add_header(&headers, "Content-Type", "application/json") != 0))) {
		err1("cannot build the request headers");
		goto out;
	}

	curl_easy_reset(c->curl); /* keeps the connection for the next request */
	if (mp_client_setup(c->curl, url, c->errbuf) != 0 ||
	    /* What is signed must be what is sent: no dot-segment squashing. */
	    curl_easy_setopt(c->curl, CURLOPT_PATH_AS_IS, 1L) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, mp_answer_write) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &a) != CURLE_OK) {
		err1("cannot set up the request to %s", c->url);
		goto out;
	}
	if (is_post) {
		if (curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, text ? text : "") != CURLE_OK ||
		    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		        (curl_off_t)(text ? strlen(text) : 0)) != CURLE_OK) {
			err1("cannot set up the request to %s", c->url);
			goto out;
		}
	}
	if ((cc = curl_easy_perform(c->curl)) != CURLE_OK) {
		if (a.too_large)
			err1("the answer from %s is larger than %d bytes", c->url, ANSWER_MAX);
		else
			err1("cannot reach the server at %s: %s", c->url,
			    c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);

	if (a.len == 0)
		j = json_object();
	else
		j = json_loadb(a.buf, a.len, JSON_REJECT_DUPLICATES, NULL);
	if (*status >= 200 && *status < 300) {
		if (!json_is_object(j)) {
			err1("the server at %s answered %s %s with something that is not JSON "
			     "(HTTP %ld)",
			    c->url, method, path, *status);
			goto out;
		}
		*resp = j;
		j = NULL;
		rc = 0;
	} else if (print_api_error(j) == 0) {
		*resp = j;
		j = NULL;
		rc = 1;
	} else {
		err1(
		    "the server at %s answered %s %s with HTTP %ld", c->url, method, path, *status);
	}
out:
	curl_slist_free_all(headers);
	free(a.buf);
	free(path);
	free(url);
	free(text);
	json_decref(j);
	return rc;
}
