/*
 * HTTPS: the certificate chain and its private key, read whole at start.
 *
 * The HTTP worker may not open files once it serves, so both files are
 * read here, before anything starts, and handed to libmicrohttpd as PEM
 * in memory.  A pair that would fail every handshake (a garbage file, a
 * key of another certificate, a key type the priorities cannot use) stops
 * the start: the pair must complete a TLS 1.3 and a TLS 1.2 handshake in
 * memory under the service's own priorities.
 *
 * GnuTLS reads what it reads from disk (its system priority file) when the
 * library is loaded.  Serving, it needs no file: a handshake takes
 * getrandom(2) (each thread's first seeds its generator), recvfrom(2) and
 * sendmsg(2) on the connection's socket, and memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"
#include "mp_err.h"

#define CERT_MAX (256 * KIB) /* a chain of a few certificates */
#define KEY_MAX (64 * KIB)   /* an RSA key of 16384 bits fits */
#define HANDSHAKE_ROUNDS 16  /* TLS 1.2 needs 4 flights each way; spare */

/*
 * TLS 1.3 and 1.2 only; ECDHE key exchange (forward secret: no RSA key
 * transport, no finite-field DHE), AEAD ciphers only (no CBC, so no SHA-1
 * or other MAC), no SHA-1 signatures.  The server's order wins.
 */
const char tls_priorities[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
                              ":-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"
                              ":-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305"
                              ":-MAC-ALL:+AEAD"
                              ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1"
                              ":-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1"
                              ":%SERVER_PRECEDENCE";

/*
 * Read path whole into a NUL-terminated buffer (sodium_malloc'ed when
 * secret).  Symbolic links are followed: certificate tools keep the
 * current pair behind links.
 */
static char *
read_pem(const char *path, size_t max, int secret, char *err, size_t errlen)
{
	struct stat sb;
	char *buf = NULL;
	size_t got = 0, size;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		mp_errf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    (size_t)sb.st_size > max) {
		mp_errf(err, errlen, "%s is not a file of 1 to %zu bytes", path, max);
		goto fail;
	}
	if (secret && (sb.st_mode & S_IRWXO) != 0) {
		mp_errf(err, errlen, "other users may read the key file %s (chmod o-rwx)", path);
		goto fail;
	}
	size = (size_t)sb.st_size;
	/* One byte more than the file has: a file that grows meanwhile is noticed. */
	buf = secret ? sodium_malloc(size + 1) : malloc(size + 1);
	if (buf == NULL) {
		mp_errf(err, errlen, "out of memory");
		goto fail;
	}
	while (got <= size && (r = read(fd, buf + got, size + 1 - got)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			mp_errf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			goto fail;
		}
		got += (size_t)r;
	}
	if (got != size) {
		mp_errf(err, errlen, "%s changed while it was read", path);
		goto fail;
	}
	buf[got] = '\0';
	if (strlen(buf) != got) {
		mp_errf(err, errlen, "%s is not a PEM file", path);
		goto fail;
	}
	close(fd);
	return buf;
fail:
	if (buf != NULL) {
		if (secret)
			sodium_free(buf);
		else
			free(buf);
	}
	close(fd);
	return NULL;
}

/* Expiry stops no handshake but every client's check: say so, and start. */
static void
warn_dates(const char *path, gnutls_x509_crt_t crt)
{
	time_t now = time(NULL), from, until;

	from = gnutls_x509_crt_get_activation_time(crt);
	until = gnutls_x509_crt_get_expiration_time(crt);
	if (until != (time_t)-1 && until < now)
		fprintf(stderr,
		    "meldpuntd: warning: the certificate in %s has expired; "
		    "clients will refuse it\n",
		    path);
	else if (from != (time_t)-1 && from > now)
		fprintf(stderr,
		    "meldpuntd: warning: the certificate in %s is not valid yet; "
		    "clients will refuse it\n",
		    path);
}

/* Each file on its own first, so that the message names the one at fault. */
static int
check_files(
    const struct tls_files *t, const char *certfile, const char *keyfile, char *err, size_t errlen)
{
	gnutls_x509_crt_t *crts = NULL;
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t d;
	unsigned n = 0, i;
	int r, rc = -1;

	d.data = (unsigned char *)t->cert;
	d.size = (unsigned)strlen(t->cert);
	if ((r = gnutls_x509_crt_list_import2(
	         &crts, &n, &d, GNUTLS_X509_FMT_PEM, GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED)) < 0 ||
	    n == 0) {
		mp_errf(err, errlen,
		    "%s holds no PEM certificate chain (server certificate "
		    "first): %s",
		    certfile, r < 0 ? gnutls_strerror(r) : "empty");
		goto out;
	}
	warn_dates(certfile, crts[0]);
	if ((r = gnutls_x509_privkey_init(&key)) < 0) {
		mp_errf(err, errlen, "GnuTLS: %s", gnutls_strerror(r));
		goto out;
	}
	d.data = (unsigned char *)t->key;
	d.size = (unsigned)strlen(t->key);
	if ((r = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		mp_errf(err, errlen, "%s holds no unencrypted PEM private key: %s", keyfile,
		    gnutls_strerror(r));
		goto out;
	}
	rc = 0;
out:
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	return rc;
}

/* One direction of the in-memory connection. */
struct pipe {
	unsigned char *buf;
	size_t len, cap;
};

struct end {
	gnutls_session_t s;
	struct pipe *in, *out;
};

static ssize_t
mem_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	struct end *e = ptr;
	struct pipe *p = e->out;
	unsigned char *nb;
	size_t cap;

	if (len > CERT_MAX * 4 - p->len) {
		gnutls_transport_set_errno(e->s, ENOBUFS);
		return -1;
	}
	if (p->len + len > p->cap) {
		cap = p->cap ? p->cap : 4096;
		while (cap < p->len + len)
			cap *= 2;
		if ((nb = realloc(p->buf, cap)) == NULL) {
			gnutls_transport_set_errno(e->s, ENOMEM);
			return -1;
		}
		p->buf = nb;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, data, len);
	p->len += len;
	return (ssize_t)len;
}

static ssize_t
mem_pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct end *e = ptr;
	struct pipe *p = e->in;

	if (p->len == 0) {
		gnutls_transport_set_errno(e->s, EAGAIN);
		return -1;
	}
	if (len > p->len)
		len = p->len;
	memcpy(data, p->buf, len);
	memmove(p->buf, p->buf + len, p->len - len);
	p->len -= len;
	return (ssize_t)len;
}

static int
end_init(struct end *e, unsigned flags, struct pipe *in, struct pipe *out)
{
	e->in = in;
	e->out = out;
	if (gnutls_init(&e->s, flags | GNUTLS_NONBLOCK) < 0) {
		e->s = NULL;
		return -1;
	}
	gnutls_transport_set_ptr(e->s, e);
	gnutls_transport_set_push_function(e->s, mem_push);
	gnutls_transport_set_pull_function(e->s, mem_pull);
	return 0;
}

/* s takes its next handshake step unless *done (set when it finishes); -1 with why when fatal. */
static int
step(gnutls_session_t s, int *done, char *why, size_t whylen)
{
	int r;

	if (*done)
		return 0;
	if ((r = gnutls_handshake(s)) == 0)
		*done = 1;
	else if (gnutls_error_is_fatal(r)) {
		snprintf(why, whylen, "%s", gnutls_strerror(r));
		return -1;
	}
	return 0;
}

/*
 * Server (cred, tls_priorities) and an unverifying client limited to
 * version vers shake hands in memory; 0 when both finish and agree on vers.
 */
static int
handshake(gnutls_certificate_credentials_t cred, const char *vers, gnutls_protocol_t want,
    char *why, size_t whylen)
{
	gnutls_certificate_credentials_t ccred = NULL;
	struct pipe c2s = { NULL, 0, 0 }, s2c = { NULL, 0, 0 };
	struct end srv = { NULL, NULL, NULL }, cli = { NULL, NULL, NULL };
	char cprio[64];
	int sdone = 0, cdone = 0, round, rc = -1;

	snprintf(why, whylen, "cannot set up the check");
	snprintf(cprio, sizeof cprio, "NORMAL:-VERS-ALL:+%s", vers);
	if (gnutls_certificate_allocate_credentials(&ccred) < 0 ||
	    end_init(&srv, GNUTLS_SERVER, &c2s, &s2c) != 0 ||
	    end_init(&cli, GNUTLS_CLIENT, &s2c, &c2s) != 0 ||
	    gnutls_priority_set_direct(srv.s, tls_priorities, NULL) < 0 ||
	    gnutls_priority_set_direct(cli.s, cprio, NULL) < 0 ||
	    gnutls_credentials_set(srv.s, GNUTLS_CRD_CERTIFICATE, cred) < 0 ||
	    gnutls_credentials_set(cli.s, GNUTLS_CRD_CERTIFICATE, ccred) < 0)
		goto out;
	for (round = 0; round < HANDSHAKE_ROUNDS && !(sdone && cdone); round++)
		if (step(cli.s, &cdone, why, whylen) != 0 || step(srv.s, &sdone, why, whylen) != 0)
			goto out;
	if (!(sdone && cdone)) {
		snprintf(why, whylen, "the handshake did not finish");
		goto out;
	}
	if (gnutls_protocol_get_version(srv.s) != want) {
		snprintf(why, whylen, "another version was agreed");
		goto out;
	}
	rc = 0;
out:
	if (srv.s != NULL)
		gnutls_deinit(srv.s);
	if (cli.s != NULL)
		gnutls_deinit(cli.s);
	if (ccred != NULL)
		gnutls_certificate_free_credentials(ccred);
	free(c2s.buf);
	free(s2c.buf);
	return rc;
}

/* The pair as the server will use it: the key must be the certificate's, both versions must work. */
static int
check_pair(
    const struct tls_files *t, const char *certfile, const char *keyfile, char *err, size_t errlen)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_datum_t c, k;
	char why[200];
	int r, rc = -1;

	c.data = (unsigned char *)t->cert;
	c.size = (unsigned)strlen(t->cert);
	k.data = (unsigned char *)t->key;
	k.size = (unsigned)strlen(t->key);
	if ((r = gnutls_certificate_allocate_credentials(&cred)) < 0) {
		mp_errf(err, errlen, "GnuTLS: %s", gnutls_strerror(r));
		cred = NULL;
		goto out;
	}
	r = gnutls_certificate_set_x509_key_mem2(cred, &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (r == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
		mp_errf(err, errlen, "the key in %s does not belong to the certificate in %s",
		    keyfile, certfile);
		goto out;
	}
	if (r < 0) {
		mp_errf(err, errlen, "%s and %s: %s", certfile, keyfile, gnutls_strerror(r));
		goto out;
	}
	if (handshake(cred, "VERS-TLS1.3", GNUTLS_TLS1_3, why, sizeof why) != 0) {
		mp_errf(err, errlen, "%s and %s: a TLS 1.3 handshake fails: %s", certfile, keyfile,
		    why);
		goto out;
	}
	if (handshake(cred, "VERS-TLS1.2", GNUTLS_TLS1_2, why, sizeof why) != 0) {
		mp_errf(err, errlen,
		    "%s and %s: a TLS 1.2 handshake with ECDHE and AES-GCM or "
		    "ChaCha20-Poly1305 fails (an RSA or ECDSA key works): %s",
		    certfile, keyfile, why);
		goto out;
	}
	rc = 0;
out:
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	return rc;
}

int
tls_load(struct tls_files *t, const char *certfile, const char *keyfile, char *err, size_t errlen)
{
	t->cert = NULL;
	t->key = NULL;
	if (certfile == NULL && keyfile == NULL)
		return 0;
	if (certfile == NULL || keyfile == NULL)
		return mp_errf(err, errlen, "--tls-cert and --tls-key go together");
	if ((t->cert = read_pem(certfile, CERT_MAX, 0, err, errlen)) == NULL ||
	    (t->key = read_pem(keyfile, KEY_MAX, 1, err, errlen)) == NULL ||
	    check_files(t, certfile, keyfile, err, errlen) != 0 ||
	    check_pair(t, certfile, keyfile, err, errlen) != 0) {
		tls_free(t);
		return -1;
	}
	return 0;
}

void
tls_free(struct tls_files *t)
{
	free(t->cert);
	t->cert = NULL;
	/* sodium_free wipes the key before it gives the pages back. */
	if (t->key != NULL)
		sodium_free(t->key);
	t->key = NULL;
}
