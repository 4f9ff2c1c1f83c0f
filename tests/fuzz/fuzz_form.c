/*
 * The form body parser, then the report form turned into the API's report:
 * never crashes; what it accepts is UTF-8 without NUL or CR, of the allowed
 * names, and encodes back to the same pairs; a report it lets through
 * passes the API's validator, and one it stops has a worded error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/extern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
valid_text(const char *s)
{
	size_t n = strlen(s), i, k;

	for (i = 0; i < n; i += k)
		if ((k = utf8_char((const unsigned char *)s + i, n - i)) == 0 || s[i] == '\r')
			return 0;
	return 1;
}

/* The pairs encoded again, every byte but letters and digits as %XX. */
static char *
encode(const struct form *f, size_t *len)
{
	size_t cap = 1, i, o = 0;
	const unsigned char *s;
	char *out;

	for (i = 0; i < f->n; i++)
		cap += 3 * (strlen(f->v[i].key) + strlen(f->v[i].val)) + 2;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (i = 0; i < f->n; i++) {
		if (i > 0)
			out[o++] = '&';
		for (int part = 0; part < 2; part++) {
			for (s = (const unsigned char *)(part ? f->v[i].val : f->v[i].key); *s;
			     s++) {
				if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
				    (*s >= '0' && *s <= '9'))
					out[o++] = (char)*s;
				else
					o += (size_t)snprintf(out + o, 4, "%%%02X", *s);
			}
			if (part == 0)
				out[o++] = '=';
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mp_policy *p;
	struct form_errors errs;
	struct form f, g;
	struct api_err e;
	char err[256], *again;
	json_t *o = NULL;
	size_t i, j, len;

	if (p == NULL &&
	    mp_policy_parse(
	        &p, mp_default_policy(), strlen(mp_default_policy()), err, sizeof err) != 0)
		__builtin_trap();
	if (form_parse(&f, data, size, form_report_names, form_report_repeatable) != 0)
		return 0;
	for (i = 0; i < f.n; i++) {
		if (!valid_text(f.v[i].key) || !valid_text(f.v[i].val))
			__builtin_trap();
		for (j = 0; form_report_names[j] != NULL; j++)
			if (strcmp(form_report_names[j], f.v[i].key) == 0)
				break;
		if (form_report_names[j] == NULL)
			__builtin_trap();
		for (j = 0; j < i; j++)
			if (strcmp(f.v[i].key, f.v[j].key) == 0 &&
			    strcmp(f.v[i].key, "grounds") != 0)
				__builtin_trap();
	}
	if ((again = encode(&f, &len)) != NULL) {
		if (form_parse(&g, (const uint8_t *)again, len, form_report_names,
		        form_report_repeatable) != 0 ||
		    g.n != f.n)
			__builtin_trap();
		for (i = 0; i < f.n; i++)
			if (strcmp(f.v[i].key, g.v[i].key) != 0 ||
			    strcmp(f.v[i].val, g.v[i].val) != 0)
				__builtin_trap();
		form_free(&g);
		free(again);
	}
	if (form_report(p, &f, "nl", &o, &errs) == 0) {
		if (o == NULL || report_validate(p, o, &e) != 0)
			__builtin_trap();
		json_decref(o);
	} else {
		if (o != NULL || errs.n == 0 || errs.n > FORM_ERRORS_MAX ||
		    (errs.status != 400 && errs.status != 503))
			__builtin_trap();
		for (i = 0; i < errs.n; i++)
			if (errs.v[i].key == NULL || strncmp(errs.v[i].key, "error.", 6) != 0)
				__builtin_trap();
	}
	form_free(&f);
	return 0;
}
