/* Token text parser: never crashes; whatever it accepts formats back to an equal token. */
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "mp_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t t[MP_TOKEN_BYTES], t2[MP_TOKEN_BYTES];
	char text[MP_TOKEN_TEXT_LEN + 1];

	if (mp_token_parse(t, (const char *)data, size) != 0)
		return 0;
	mp_token_format(text, t);
	if (mp_token_parse(t2, text, strlen(text)) != 0 || memcmp(t, t2, sizeof t) != 0)
		__builtin_trap();
	return 0;
}
