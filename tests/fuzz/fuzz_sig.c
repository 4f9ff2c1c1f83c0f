/* Signature-Input and Signature header values (split at the first newline), and the base. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mp_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_sig_params p;
	char *buf = malloc(size + 1), *nl, base[MP_SIG_BASE_MAX];
	int n;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if ((nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		if (mp_sig_parse(&p, buf, nl + 1) == 0) {
			n = mp_sig_base(base, sizeof base, "POST", "/api/v1/cases", "?",
			    p.has_digest ? "sha-256=:x:" : NULL, p.params);
			if (n >= 0)
				(void)mp_sig_verify(&p, base, (size_t)n);
		}
	}
	free(buf);
	return 0;
}
