/* Size-checked messages between meldpuntd's processes (include/mp_wire.h). */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mp_wire.h"

void
mp_wire_init(struct mp_wbuf *w)
{
	memset(w, 0, sizeof *w);
}

void
mp_wire_free(struct mp_wbuf *w)
{
	if (w->p != NULL) {
		sodium_memzero(w->p, w->cap);
		free(w->p);
	}
	memset(w, 0, sizeof *w);
}

/* Room for n more bytes; the old block is wiped when it moves. */
static uint8_t *
room(struct mp_wbuf *w, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (w->err || n > MP_WIRE_MAX || w->len + n > MP_WIRE_MAX) {
		w->err = 1;
		return NULL;
	}
	if (w->len + n > w->cap) {
		for (cap = w->cap ? w->cap : 256; cap < w->len + n; cap *= 2)
			;
		if ((p = malloc(cap)) == NULL) {
			w->err = 1;
			return NULL;
		}
		if (w->p != NULL) {
			memcpy(p, w->p, w->len);
			sodium_memzero(w->p, w->cap);
			free(w->p);
		}
		w->p = p;
		w->cap = cap;
	}
	p = w->p + w->len;
	w->len += n;
	return p;
}

void
mp_put_u32(struct mp_wbuf *w, uint32_t v)
{
	uint8_t *p = room(w, 4);
	int i;

	if (p != NULL)
		for (i = 0; i < 4; i++)
			p[i] = (uint8_t)(v >> (8 * i));
}

void
mp_put_u64(struct mp_wbuf *w, uint64_t v)
{
	mp_put_u32(w, (uint32_t)v);
	mp_put_u32(w, (uint32_t)(v >> 32));
}

void
mp_put_fixed(struct mp_wbuf *w, const void *src, size_t n)
{
	uint8_t *p = room(w, n);

	if (p != NULL && n > 0)
		memcpy(p, src, n);
}

void
mp_put_bytes(struct mp_wbuf *w, const void *src, size_t n)
{
	if (n > MP_WIRE_MAX) {
		w->err = 1;
		return;
	}
	mp_put_u32(w, (uint32_t)n);
	mp_put_fixed(w, src, n);
}

void
mp_put_str(struct mp_wbuf *w, const char *s)
{
	if (s == NULL)
		mp_put_u32(w, 0);
	else
		mp_put_bytes(w, s, strlen(s) + 1);
}

void
mp_wire_reader(struct mp_rbuf *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

/* The next n bytes, or NULL (and err) when fewer are left. */
static const uint8_t *
take(struct mp_rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->err || n > r->len - r->off) {
		r->err = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint32_t
mp_get_u32(struct mp_rbuf *r)
{
	const uint8_t *p = take(r, 4);

	if (p == NULL)
		return 0;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t
mp_get_u64(struct mp_rbuf *r)
{
	uint64_t lo = mp_get_u32(r);

	return lo | (uint64_t)mp_get_u32(r) << 32;
}

void
mp_get_fixed(struct mp_rbuf *r, void *dst, size_t n)
{
	const uint8_t *p = take(r, n);

	if (p != NULL)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

const uint8_t *
mp_get_bytes(struct mp_rbuf *r, size_t *n)
{
	const uint8_t *p;

	*n = mp_get_u32(r);
	if ((p = take(r, *n)) == NULL)
		*n = 0;
	return p;
}

const char *
mp_get_str(struct mp_rbuf *r)
{
	const uint8_t *p;
	size_t n;

	p = mp_get_bytes(r, &n);
	if (p == NULL || n == 0)
		return NULL;
	/* Exactly one NUL, at the end. */
	if (p[n - 1] != '\0' || memchr(p, '\0', n - 1) != NULL) {
		r->err = 1;
		return NULL;
	}
	return (const char *)p;
}

void
mp_get_strcpy(struct mp_rbuf *r, char *dst, size_t dstlen)
{
	const char *s = mp_get_str(r);

	dst[0] = '\0';
	if (s == NULL || strlen(s) >= dstlen) {
		r->err = 1;
		return;
	}
	memcpy(dst, s, strlen(s) + 1);
}

int
mp_wire_done(const struct mp_rbuf *r)
{
	return r->err || r->off != r->len ? -1 : 0;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = send(fd, p, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
read_all(int fd, uint8_t *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = read(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int
mp_wire_send(int fd, const struct mp_wbuf *w)
{
	uint8_t hdr[4];
	int i;

	if (w->err || w->len < 4 || w->len > MP_WIRE_MAX)
		return -1;
	for (i = 0; i < 4; i++)
		hdr[i] = (uint8_t)(w->len >> (8 * i));
	if (write_all(fd, hdr, 4) != 0)
		return -1;
	return write_all(fd, w->p, w->len);
}

int
mp_wire_recv(int fd, uint8_t **msg, size_t *len)
{
	uint8_t hdr[4];
	size_t n;

	*msg = NULL;
	*len = 0;
	if (read_all(fd, hdr, 4) != 0)
		return -1;
	n = (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 24;
	if (n < 4 || n > MP_WIRE_MAX || (*msg = malloc(n)) == NULL)
		return -1;
	if (read_all(fd, *msg, n) != 0) {
		free(*msg);
		*msg = NULL;
		return -1;
	}
	*len = n;
	return 0;
}

void
mp_wire_discard(uint8_t *msg, size_t len)
{
	if (msg != NULL) {
		sodium_memzero(msg, len);
		free(msg);
	}
}
