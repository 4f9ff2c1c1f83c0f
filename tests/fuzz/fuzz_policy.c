/* The policy file parser: any text gives a policy or a line-numbered error. */
#include <stdint.h>
#include <string.h>

#include "mp_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_policy *p = NULL;
	char err[256];
	json_t *j;

	if (mp_policy_parse(&p, (const char *)data, size, err, sizeof err) == 0) {
		j = mp_policy_json(p);
		json_decref(j);
		mp_policy_free(p);
	} else if (strncmp(err, "line ", 5) != 0) {
		__builtin_trap();
	}
	return 0;
}
