/*
 * mp_remote - the store in another process (privilege separation,
 * docs/PRIVSEP.md).  The process that holds the database key serves the
 * store's calls on stream sockets; the process that parses HTTP gets a
 * struct mp_store whose calls travel over them, with the same contract as
 * mp_store.h (changes, group commit, results).  A thread keeps one channel
 * from its outermost begin to its end, so a change is one thread on the
 * other side too.  Calls the serving side does not offer (adding or
 * revoking keys, the purge) answer -1.
 */
#ifndef MP_REMOTE_H
#define MP_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "mp_store.h"
#include "mp_wire.h"

/* Codes from here up are the caller's own operations (mp_remote_call). */
#define MP_REMOTE_USER 1000

/* A store whose calls go over the connected sockets fds[0..n) (taken over). */
int mp_store_remote(struct mp_store **out, const int *fds, size_t n);

/*
 * Serve calls arriving on fd until it closes; a change the other side left
 * open is undone.  While a change is open, the other side's next call must
 * come within change_idle_ms (0: no limit): if it does not, the change is
 * undone and 1 returned (a change held open blocks every other change and
 * the purge), else 0.  Codes >= MP_REMOTE_USER go to user(arg, code, in,
 * out), which reads the fields from in, writes its answer's fields to out,
 * and returns the answer's code.
 */
typedef int (*mp_remote_fn)(void *arg, uint32_t code, struct mp_rbuf *in, struct mp_wbuf *out);
int mp_store_serve(
    struct mp_store *st, int fd, unsigned change_idle_ms, mp_remote_fn user, void *arg);
/*
 * One call's answer, as mp_store_serve makes it: the message msg (without
 * its length) in, the answer in *w (free it with mp_wire_free); *depth
 * counts the changes this channel has begun and not ended.
 */
void mp_store_answer(struct mp_store *st, const uint8_t *msg, size_t len, struct mp_wbuf *w,
    int *depth, mp_remote_fn user, void *arg);

/*
 * One of the caller's own operations over a remote store: req holds the
 * code and the fields.  Returns the answer's code (or -1 on a broken
 * channel); *ans reads the answer's fields; free *msg (mp_wire_discard
 * with *len) when done with them.
 */
int mp_remote_call(struct mp_store *st, const struct mp_wbuf *req, struct mp_rbuf *ans,
    uint8_t **msg, size_t *len);

/*
 * Records as the channel carries them, for the caller's own operations.
 * mp_get_case fills *c (clear it with mp_case_clear); mp_get_case_new
 * points c's fields into r's message and its tag and key into tag and pk,
 * and is -1 when a field is missing.
 */
void mp_put_case(struct mp_wbuf *w, const struct mp_case *c);
void mp_get_case(struct mp_rbuf *r, struct mp_case *c);
void mp_put_case_new(struct mp_wbuf *w, const struct mp_case_new *c);
int mp_get_case_new(struct mp_rbuf *r, struct mp_case_new *c, uint8_t tag[32], uint8_t pk[32]);

/*
 * 0 if day is the serving process's today or the day before or after it
 * (the day a change may carry over a channel), else -1.
 */
int mp_store_day_now(const char *day);

/* Whether st is a remote store. */
int mp_store_is_remote(const struct mp_store *st);

#endif
