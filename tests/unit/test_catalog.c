/*
 * The pages' text catalogs (policy/ui/<lang>.conf, as built into the binaries):
 * every language has exactly the Dutch keys, no empty text and the same
 * placeholders; the parser names the line of each kind of mistake; an
 * instance's override replaces texts and refuses unknown keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "../../server/extern.h"

/* The placeholders of a text, sorted and joined ("{a}{b}{b}"), found here independently of the parser. */
static void
placeholders(char *out, size_t outlen, const char *text)
{
	char names[32][40];
	const char *p, *e;
	size_t n = 0, i, j, len;
	char tmp[40];

	for (p = text; (p = strchr(p, '{')) != NULL && n < 32; p = e) {
		if ((e = strchr(p, '}')) == NULL)
			break;
		e++;
		len = (size_t)(e - p) < sizeof names[0] ? (size_t)(e - p) : sizeof names[0] - 1;
		memcpy(names[n], p, len);
		names[n++][len] = '\0';
	}
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			memcpy(tmp, names[j], sizeof tmp);
			memcpy(names[j], names[j - 1], sizeof tmp);
			memcpy(names[j - 1], tmp, sizeof tmp);
		}
	out[0] = '\0';
	for (i = 0; i < n; i++)
		strncat(out, names[i], outlen - strlen(out) - 1);
}

static int
blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t')
			return 0;
	return 1;
}

/* Compare one language's catalog with the Dutch one, key by key. */
static void
check_language(const char *lang, const struct ui_catalog *nl, const struct ui_catalog *c)
{
	char want[512], got[512];
	size_t i, missing = 0, extra = 0, empty = 0, diff = 0;

	for (i = 0; i < ui_catalog_size(nl); i++)
		if (ui_catalog_get(c, ui_catalog_key(nl, i)) == NULL && missing++ == 0)
			printf("# %s lacks \"%s\"\n", lang, ui_catalog_key(nl, i));
	for (i = 0; i < ui_catalog_size(c); i++) {
		const char *k = ui_catalog_key(c, i), *t = ui_catalog_text(c, i), *ref;

		if ((ref = ui_catalog_get(nl, k)) == NULL) {
			if (extra++ == 0)
				printf("# %s has the extra key \"%s\"\n", lang, k);
			continue;
		}
		if (blank(t) && empty++ == 0)
			printf("# %s: \"%s\" is empty\n", lang, k);
		placeholders(want, sizeof want, ref);
		placeholders(got, sizeof got, t);
		if (strcmp(want, got) != 0 && diff++ == 0)
			printf("# %s: \"%s\" has placeholders %s, Dutch %s\n", lang, k, got, want);
	}
	T_OK(missing == 0, "ui/%s.conf has every key of ui/nl.conf (%zu missing)", lang, missing);
	T_OK(extra == 0, "ui/%s.conf has no key that ui/nl.conf lacks (%zu extra)", lang, extra);
	T_OK(empty == 0, "ui/%s.conf has no empty text", lang);
	T_OK(diff == 0, "ui/%s.conf has the placeholders of ui/nl.conf in every text", lang);
	T_OK(ui_catalog_match(nl, c, got, sizeof got) == 0,
	    "the server's own check accepts ui/%s.conf (%s)", lang, got);
}

static void
expect_error(const char *text, const char *want)
{
	struct ui_catalog *c = NULL;
	char err[256] = "";
	int rc = ui_catalog_parse(&c, text, strlen(text), err, sizeof err);

	T_OK(rc == -1 && c == NULL && strstr(err, want) != NULL,
	    "a catalog with %s is refused: \"%s\" (got \"%s\")", want, want, err);
	ui_catalog_free(c);
}

static struct ui_catalog *
parse(const char *text)
{
	struct ui_catalog *c = NULL;
	char err[256];

	if (ui_catalog_parse(&c, text, strlen(text), err, sizeof err) != 0)
		printf("# parse: %s\n", err);
	return c;
}

/* json_quote: what it writes reads back, as JSON, as the same text. */
static void
test_json_quote(void)
{
	static const char *const texts[] = { "", "plain", "<svg viewBox=\"0 0 33 33\">",
		"back\\slash", "line\nbreak\ttab\x01\x1f", "\xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80",
		"http://x.example/f#ABCD-EFGH" };
	char buf[256], *end;
	json_t *j;
	size_t i;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		end = json_quote(buf, texts[i]);
		*end = '\0';
		j = json_loads(buf, JSON_DECODE_ANY, NULL);
		T_OK(j != NULL && json_is_string(j) &&
		        strcmp(json_string_value(j), texts[i]) == 0 &&
		        (size_t)(end - buf) == json_quoted_len(texts[i]),
		    "json_quote: text %zu reads back the same, in the length it said", i);
		json_decref(j);
	}
}

int
main(void)
{
	const char *def = mp_default_policy();
	const struct mp_embedded_file *f;

	struct ui_catalog *nl = NULL, *c, *o;
	struct mp_policy *pol = NULL;
	char err[256] = "", key[96];
	size_t i, n = 0;

	for (f = mp_embedded_ui; f->name != NULL; f++)
		if (strcmp(f->name, "nl") == 0)
			nl = parse(f->text);
	if (!T_OK(nl != NULL, "the Dutch catalog is built in and parses"))
		return t_done();
	T_OK(ui_catalog_size(nl) > 50, "the Dutch catalog has the pages' texts (%zu)",
	    ui_catalog_size(nl));
	for (f = mp_embedded_ui; f->name != NULL; f++, n++) {
		if (!T_OK((c = parse(f->text)) != NULL, "ui/%s.conf parses", f->name))
			continue;
		check_language(f->name, nl, c);
		ui_catalog_free(c);
	}

	/* The policy's languages and the catalogs are the same set. */
	if (T_OK(mp_policy_parse(&pol, def, strlen(def), err, sizeof err) == 0,
	        "the default policy loads (%s)", err)) {
		const struct mp_list *langs = &pol->lists[MP_LANGUAGES];

		T_EQ_INT((long long)n, (long long)langs->n,
		    "one catalog for each of the policy's languages");
		for (i = 0; i < langs->n; i++) {
			for (f = mp_embedded_ui; f->name != NULL; f++)
				if (strcmp(f->name, langs->v[i].code) == 0)
					break;
			T_OK(f->name != NULL, "policy language %s has a catalog", langs->v[i].code);
		}
		T_OK(mp_policy_find(pol, MP_LANGUAGES, "ar") &&
		        mp_policy_find(pol, MP_LANGUAGES, "ar")->rtl,
		    "Arabic is written right to left");
		for (i = 0; i < pol->lists[MP_WISHES].n; i++) {
			snprintf(
			    key, sizeof key, "form.wish.%s.help", pol->lists[MP_WISHES].v[i].code);
			T_OK(ui_catalog_get(nl, key) != NULL,
			    "the wish %s is explained in one line (%s)",
			    pol->lists[MP_WISHES].v[i].code, key);
		}
		mp_policy_free(pol);
	}

	/* The parser: each kind of mistake, with its line. */
	c = parse("# comment\n\n  a.b = Text with {n}  \r\nc_d=x\n");
	T_OK(c != NULL && ui_catalog_size(c) == 2 &&
	        strcmp(ui_catalog_get(c, "a.b"), "Text with {n}") == 0 &&
	        strcmp(ui_catalog_get(c, "c_d"), "x") == 0,
	    "comments, blank lines, spaces and CRLF are taken as the format says");
	ui_catalog_free(c);
	expect_error("a = x\nno equals sign\n", "line 2: a text is `key = text`");
	expect_error("A = x\n", "line 1: \"A\" is not a key");
	expect_error("a. = x\n", "line 1: \"a.\" is not a key");
	expect_error("a =   \n", "line 1: \"a\" has an empty text");
	expect_error("a = x\nb = y\na = z\n", "line 3: \"a\" appears twice (also line 1)");
	expect_error("a = a } here\n", "line 1: \"a\": a } without its {");
	expect_error("a = {Name}\n", "line 1: \"a\": a { must start a {placeholder}");
	expect_error("a = {open\n", "a { must start");
	expect_error("a = \xc3\x28\n", "line 1: \"a\": the text is not valid UTF-8");
	expect_error("a = \xed\xa0\x80 surrogate\n", "not valid UTF-8");
	expect_error("a = \xe0\x80\xaf overlong\n", "not valid UTF-8");
	expect_error("a = tab\there\n", "line 1: \"a\": the text holds a control character");
	{
		static const char nul[] = "a = x\0y\n";
		struct ui_catalog *z = NULL;

		T_OK(ui_catalog_parse(&z, nul, sizeof nul - 1, err, sizeof err) == -1 &&
		        strstr(err, "line 0: the file holds a NUL byte") != NULL,
		    "a catalog with a NUL byte is refused (%s)", err);
		ui_catalog_free(z);
	}

	/* The check meldpuntd runs at start, and an instance's override. */
	c = parse("a = one {x}\nb = two\n");
	o = parse("a = {x} een\nb = twee\nc = drie\n");
	T_OK(c && o && ui_catalog_match(c, o, err, sizeof err) == -1 &&
	        strstr(err, "\"c\" is not a key of the pages") != NULL,
	    "an extra key is named (%s)", err);
	ui_catalog_free(o);
	o = parse("a = een\n");
	T_OK(c && o && ui_catalog_match(c, o, err, sizeof err) == -1 &&
	        strstr(err, "\"a\" must have the placeholders") != NULL,
	    "a lost placeholder is named (%s)", err);
	ui_catalog_free(o);
	o = parse("a = {x} {x} een\nb = twee\n");
	T_OK(c && o && ui_catalog_match(c, o, err, sizeof err) == -1,
	    "a placeholder used twice where the reference has it once is refused");
	ui_catalog_free(o);
	o = parse("b = second\n");
	T_OK(c && o && ui_catalog_overlay(c, o, err, sizeof err) == 0 &&
	        strcmp(ui_catalog_get(c, "b"), "second") == 0 &&
	        strcmp(ui_catalog_get(c, "a"), "one {x}") == 0,
	    "an override replaces its keys' texts and leaves the others");
	ui_catalog_free(o);
	o = parse("\nzz = unknown\n");
	T_OK(c && o && ui_catalog_overlay(c, o, err, sizeof err) == -1 &&
	        strstr(err, "line 2: \"zz\" is not a key of the pages") != NULL,
	    "an override with an unknown key is refused with its line (%s)", err);
	ui_catalog_free(o);
	o = parse("a = {y}\n");
	T_OK(c && o && ui_catalog_overlay(c, o, err, sizeof err) == -1,
	    "an override that changes a text's placeholders is refused");
	ui_catalog_free(o);
	ui_catalog_free(c);

	ui_catalog_free(nl);
	test_json_quote();
	return t_done();
}
