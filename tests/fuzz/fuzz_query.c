/*
 * The API's GET routes as meldpuntd's handlers see them: request targets,
 * query parameters (limit, after, cursors, start/end, index/size, from/to,
 * the year and size of the statistics), and the signature headers.  The
 * request text and what is checked: fixture.h.
 */
#include "fixture.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fx_request(data, size, FX_GET);
	return 0;
}
