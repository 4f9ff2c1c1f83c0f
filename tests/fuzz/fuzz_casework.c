/*
 * Every JSON body the API takes: reports, follow-ups and their messages,
 * and the caseworkers' routes (moves, classifications, messages and notes,
 * intake, shares, collectives).  The request text and what is checked:
 * fixture.h.
 */
#include "fixture.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fx_request(data, size, FX_POST);
	return 0;
}
