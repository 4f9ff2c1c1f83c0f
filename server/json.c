/* Request bodies: strict JSON objects whose strings are valid UTF-8 without NUL. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t
utf8_seq(const uint8_t *s, size_t n)
{
	uint32_t c;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return len;
}

void
utf8_clean(char *s)
{
	size_t n = strlen(s), i = 0, k;

	while (i < n) {
		if ((k = utf8_seq((uint8_t *)s + i, n - i)) == 0)
			s[i++] = '?';
		else
			i += k;
	}
}

size_t
utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/*
 * jansson refuses invalid UTF-8 as a whole-document error; the API wants
 * it named as the field at fault.  So each invalid byte becomes "\u0000",
 * which the field walk below reports like any NUL.  A byte after an odd run
 * of backslashes is what one of them escapes (or stands outside any string):
 * malformed JSON whatever follows, so *escaped is set and nothing is made
 * (the marker there would read as an escaped backslash and valid text).
 */
static char *
mark_invalid_utf8(const uint8_t *in, size_t len, size_t *outlen, int *escaped)
{
	size_t i, o = 0, k, backslashes = 0;
	char *out = malloc(len * 6 + 1);

	*escaped = 0;
	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i += k) {
		if ((k = utf8_seq(in + i, len - i)) == 0) {
			if (backslashes % 2 == 1) {
				*escaped = 1;
				sodium_memzero(out, o);
				free(out);
				return NULL;
			}
			memcpy(out + o, "\\u0000", 6);
			o += 6;
			k = 1;
		} else {
			memcpy(out + o, in + i, k);
			o += k;
		}
		backslashes = in[i] == '\\' ? backslashes + 1 : 0;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

static int
depth(const json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;
	int d, max = 0;

	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v)
			if ((d = depth(v)) > max)
				max = d;
		return max + 1;
	}
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if ((d = depth(v)) > max)
				max = d;
		return max + 1;
	}
	return 0;
}

/* Find the first string (value or key) holding a NUL; its field path goes to e. */
static int
check_strings(const json_t *j, const char *path, struct api_err *e)
{
	char sub[64];
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_string(j)) {
		if (strlen(json_string_value(j)) != json_string_length(j))
			return api_error(e, 400, "invalid_field", path,
			    "text must be valid UTF-8 without NUL characters");
		return 0;
	}
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v) {
			snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
			/* A key with a NUL or bad byte has been cut at the NUL by jansson. */
			if (check_strings(v, sub, e) != 0)
				return -1;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			snprintf(sub, sizeof sub, "%s[%zu]", path, i);
			if (check_strings(v, sub, e) != 0)
				return -1;
		}
	}
	return 0;
}

int
body_json(struct request *rq, json_t **out, struct api_err *e)
{
	json_error_t jerr;
	json_t *j = NULL;
	char *marked = NULL;
	size_t mlen = 0, i;
	int bad_utf8 = 0, escaped = 0;

	*out = NULL;
	for (i = 0; i < rq->len; i += utf8_seq(rq->body + i, rq->len - i)) {
		if (utf8_seq(rq->body + i, rq->len - i) == 0) {
			bad_utf8 = 1;
			break;
		}
	}
	if (bad_utf8) {
		if ((marked = mark_invalid_utf8(rq->body, rq->len, &mlen, &escaped)) == NULL)
			return escaped ? api_error(e, 400, "invalid_json", NULL,
			                     "the body is not valid JSON: malformed")
			               : api_error(e, 503, "unavailable", NULL, "out of memory");
		j = json_loadb(marked, mlen, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
		sodium_memzero(marked, mlen);
		free(marked);
	} else {
		j = json_loadb((const char *)rq->body, rq->len,
		    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	}
	if (j == NULL) {
		int dup = json_error_code(&jerr) == json_error_duplicate_key;
		sodium_memzero(&jerr, sizeof jerr); /* its text can quote the body */
		return api_error(e, 400, "invalid_json", NULL, "the body is not valid JSON: %s",
		    dup ? "a key appears twice" : "malformed");
	}
	sodium_memzero(&jerr, sizeof jerr);
	if (!json_is_object(j)) {
		json_decref(j);
		return api_error(e, 400, "invalid_json", NULL, "the body must be a JSON object");
	}
	if (depth(j) > JSON_DEPTH_MAX) {
		json_decref(j);
		return api_error(
		    e, 400, "invalid_json", NULL, "nesting deeper than %d levels", JSON_DEPTH_MAX);
	}
	if (check_strings(j, "", e) != 0) {
		json_decref(j);
		return -1;
	}
	*out = j;
	return 0;
}

int
only_fields(const json_t *o, const char *const *allowed, const char *prefix, struct api_err *e)
{
	const char *k;
	const char *const *a;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, k) == 0)
				break;
		if (*a == NULL) {
			char f[64];
			snprintf(f, sizeof f, "%s%s", prefix, k);
			return api_error(e, 400, "unknown_field", f, "unknown field \"%s\"", f);
		}
	}
	return 0;
}

int
text_field(const json_t *o, const char *name, size_t min, size_t max, int required,
    const char **out, struct api_err *e)
{
	json_t *v = json_object_get(o, name);
	size_t n;

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return api_error(e, 400, "missing_field", name, "%s is required", name);
		return 0;
	}
	if (!json_is_string(v))
		return api_error(e, 400, "invalid_field", name, "%s must be text", name);
	n = utf8_len(json_string_value(v));
	if (n < min || n > max)
		return api_error(e, 400, "invalid_field", name, "%s must be %zu to %zu characters",
		    name, min, max);
	*out = json_string_value(v);
	return 0;
}

/*
 * A JSON string literal written straight from UTF-8 text without NUL: the
 * quotes, and escapes for '"', '\' and control characters.  For answers
 * whose strings are long and known (the receipt's QR code): jansson checks
 * and copies every character twice on the way.
 */
static const char hexd[] = "0123456789abcdef";

size_t
json_quoted_len(const char *s)
{
	size_t n = 2;

	for (; *s; s++)
		n += *s == '"' || *s == '\\' ? 2 : (unsigned char)*s < 0x20 ? 6 : 1;
	return n;
}

char *
json_quote(char *dst, const char *s)
{
	unsigned char c;

	*dst++ = '"';
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (c == '"' || c == '\\') {
			*dst++ = '\\';
			*dst++ = (char)c;
		} else if (c < 0x20) {
			memcpy(dst, "\\u00", 4);
			dst[4] = hexd[c >> 4];
			dst[5] = hexd[c & 15];
			dst += 6;
		} else
			*dst++ = (char)c;
	}
	*dst++ = '"';
	return dst;
}
