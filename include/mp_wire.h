/*
 * mp_wire - the messages between meldpuntd's processes (docs/PRIVSEP.md).
 *
 * A message is a 4-byte length, then that many bytes: a 4-byte code (the
 * operation in a call, the result in an answer) and the fields.  Integers
 * are little-endian; a string is a 4-byte length counting its NUL, then the
 * bytes and the NUL (length 0 is NULL); bytes are a 4-byte length and the
 * bytes.  A reader checks every length against what is left, every string
 * for its single NUL, and at the end that nothing is left over: a message
 * that is one byte off is refused whole.
 */
#ifndef MP_WIRE_H
#define MP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define MP_WIRE_MAX (64u * 1024 * 1024) /* the largest message either way */

struct mp_wbuf {
	uint8_t *p;
	size_t len, cap;
	int err; /* set by a failed put; the message is not sent */
};

struct mp_rbuf {
	const uint8_t *p;
	size_t len, off;
	int err; /* set by a get that did not fit; later gets give zeroes */
};

void mp_wire_init(struct mp_wbuf *w);
/* Wipe and free the buffer (it may hold sealed reports or tokens' hashes). */
void mp_wire_free(struct mp_wbuf *w);
void mp_put_u32(struct mp_wbuf *w, uint32_t v);
void mp_put_u64(struct mp_wbuf *w, uint64_t v);
void mp_put_fixed(struct mp_wbuf *w, const void *p, size_t n);
void mp_put_bytes(struct mp_wbuf *w, const void *p, size_t n);
void mp_put_str(struct mp_wbuf *w, const char *s);

void mp_wire_reader(struct mp_rbuf *r, const uint8_t *p, size_t len);
uint32_t mp_get_u32(struct mp_rbuf *r);
uint64_t mp_get_u64(struct mp_rbuf *r);
void mp_get_fixed(struct mp_rbuf *r, void *p, size_t n);
const uint8_t *mp_get_bytes(struct mp_rbuf *r, size_t *n);
/* A string, or NULL (also on error: check r->err). */
const char *mp_get_str(struct mp_rbuf *r);
/* Copy a string into dst of dstlen bytes; too long or NULL is an error. */
void mp_get_strcpy(struct mp_rbuf *r, char *dst, size_t dstlen);
/* 0 when every get fitted and every byte was read. */
int mp_wire_done(const struct mp_rbuf *r);

/*
 * Send w (code first) as one message, and receive one: *msg is malloc'ed
 * (free it with mp_wire_discard), its length within MP_WIRE_MAX.  Both
 * return 0, or -1 on a closed or broken channel or a size out of bounds.
 */
int mp_wire_send(int fd, const struct mp_wbuf *w);
int mp_wire_recv(int fd, uint8_t **msg, size_t *len);
void mp_wire_discard(uint8_t *msg, size_t len);

#endif
