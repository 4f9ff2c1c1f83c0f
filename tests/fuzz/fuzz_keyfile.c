/* A key file's text: malformed files are refused without crashing. */
#include <sodium.h>
#include <stdint.h>

#include "mp_keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_identity *id = NULL;

	if (sodium_init() < 0)
		return 0;
	if (mp_keyfile_open(&id, (const char *)data, size, "passphrase", 10) == 0)
		mp_identity_free(id);
	return 0;
}
