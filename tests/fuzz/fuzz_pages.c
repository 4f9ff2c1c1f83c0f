/*
 * The residents' pages: the forms they post (report, follow-up, message),
 * ?lang= and Accept-Language, and the error pages.  The request text and
 * what is checked: fixture.h.
 */
#include "fixture.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fx_request(data, size, FX_PAGES);
	return 0;
}
