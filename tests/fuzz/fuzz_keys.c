/*
 * The key holder's operations as the store process serves them
 * (server/privsep.c, server/lookup.c, server/log.c): a token's tag, a
 * checkpoint, a year's statistics, a follow-up's case with its messages and
 * proof, a new report's case.  Whatever bytes a compromised HTTP worker
 * sends as one of these calls, the answer is well formed, nothing crashes
 * or leaks, a tag the worker brings for a new case is refused, and the
 * store stays usable.  Each input is one call on a real instance with a few
 * cases (fixture.h); the cases a call creates stay, as they would.  The
 * seeds' day stands for today (answer.h).
 */
#include "fixture.h"
#include "mp_remote.h"
#include "mp_wire.h"

#include "answer.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_wbuf w;
	uint64_t n;
	uint8_t *msg;
	int depth = 0;

	fx_setup();
	msg = with_today(data, size);
	mp_store_answer(fx.srv.st, msg, size, &w, &depth, keys_serve, &fx.srv);
	free(msg);
	/* FX_TRACE=1: each input's answer code, to see how far the seeds reach. */
	if (getenv("FX_TRACE") != NULL && w.len >= 4)
		fprintf(stderr, "answer %d, %zu bytes\n",
		    (int)(w.p[0] | w.p[1] << 8 | w.p[2] << 16 | (uint32_t)w.p[3] << 24), w.len);
	answer_check(&w, depth);
	while (depth-- > 0)
		mp_store_end(fx.srv.st, 0);
	if (mp_store_log_size(fx.srv.st, &n) != 0)
		__builtin_trap();
	return 0;
}
