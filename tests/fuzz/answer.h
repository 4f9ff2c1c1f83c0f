/*
 * What every answer on the store's channel must be, whatever the call
 * (fuzz_remote, fuzz_keys): at least its code, nothing after a failed
 * code, and changes nested no deeper than the store allows.  Traps
 * otherwise; then frees the answer.
 */
#ifndef FUZZ_ANSWER_H
#define FUZZ_ANSWER_H

#include "mp_wire.h"

static void
answer_check(struct mp_wbuf *w, int depth)
{
	if (w->len < 4 || w->err)
		__builtin_trap();
	if ((w->p[0] | w->p[1] | w->p[2] | w->p[3]) != 0 && w->len != 4)
		__builtin_trap();
	if (depth < 0 || depth > 8)
		__builtin_trap();
	mp_wire_free(w);
}

#endif
