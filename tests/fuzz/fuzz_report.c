/* A request body as the server reads it: strict JSON, then the report's validation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/extern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mp_policy *p;
	struct request rq;
	struct api_err e;
	char err[256];
	json_t *o = NULL;

	if (p == NULL &&
	    mp_policy_parse(
	        &p, mp_default_policy(), strlen(mp_default_policy()), err, sizeof err) != 0)
		__builtin_trap();
	memset(&rq, 0, sizeof rq);
	if ((rq.body = malloc(size + 1)) == NULL)
		return 0;
	memcpy(rq.body, data, size);
	rq.body[size] = '\0';
	rq.len = size;
	if (body_json(&rq, &o, &e) == 0) {
		if (report_validate(p, o, &e) != 0 && (e.status != 400 || e.code == NULL))
			__builtin_trap();
		json_decref(o);
	} else if (e.status != 400 && e.status != 503) {
		__builtin_trap();
	}
	free(rq.body);
	return 0;
}
