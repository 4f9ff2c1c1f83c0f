/*
 * The texts of the residents' pages: one catalog per language (policy/ui/<lang>.conf,
 * built into the binaries), which an instance may override key by key.
 *
 * A catalog is `key = text` lines.  The parser is strict, like the policy's:
 * an admin who edits a text is told the line and the reason, and a page
 * never shows half a catalog.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extern.h"
#include "mp_err.h"

#define KEY_MAX 64
#define PLACEHOLDER_MAX 32
#define TEXTS_MAX 1024
#define FILE_MAX (256 * KIB)

struct ui_text {
	char *key;
	char *text;
	int line;
};

struct ui_catalog {
	struct ui_text *v;
	size_t n;
};

struct ui {
	struct ui_catalog *cat[MP_POLICY_MAX_LANGS];
};

/*
 * Bytes of the well-formed UTF-8 sequence at s (n bytes left), or 0: the
 * ranges of the Unicode standard's table 3-7, so no overlong form, no
 * surrogate and nothing past U+10FFFF passes.
 */
size_t
utf8_char(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static int
key_ok(const char *k)
{
	size_t n = strlen(k), i;

	if (n == 0 || n > KEY_MAX || k[0] == '.' || k[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_' ||
		        k[i] == '.'))
			return 0;
	return 1;
}

/*
 * Check a text: UTF-8, no control characters, every brace part of a
 * {placeholder}.  0, or -1 with why set.
 */
static int
text_ok(const char *t, const char **why)
{
	const unsigned char *s = (const unsigned char *)t;
	size_t n = strlen(t), i = 0, k, j;

	while (i < n) {
		if ((k = utf8_char(s + i, n - i)) == 0) {
			*why = "the text is not valid UTF-8";
			return -1;
		}
		if (k == 1 && (s[i] < 0x20 || s[i] == 0x7f)) {
			*why = "the text holds a control character";
			return -1;
		}
		if (s[i] == '}') {
			*why = "a } without its {";
			return -1;
		}
		if (s[i] == '{') {
			for (j = i + 1; j < n && ((s[j] >= 'a' && s[j] <= 'z') || s[j] == '_'); j++)
				;
			if (j == i + 1 || j - i - 1 > PLACEHOLDER_MAX || j == n || s[j] != '}') {
				*why = "a { must start a {placeholder} of a-z and _";
				return -1;
			}
			k = j - i + 1;
		}
		i += k;
	}
	return 0;
}

static int
by_key(const void *a, const void *b)
{
	return strcmp(((const struct ui_text *)a)->key, ((const struct ui_text *)b)->key);
}

int
ui_catalog_parse(struct ui_catalog **out, const char *text, size_t len, char *err, size_t errlen)
{
	struct ui_catalog *c = NULL;
	struct ui_text *v;
	char *copy = NULL, *line, *next, *s, *eq, *key, *val;
	const char *why;
	int lineno = 0, rc = -1;
	size_t i;

	*out = NULL;
	if (memchr(text, '\0', len) != NULL)
		return mp_errf(err, errlen, "line 0: the file holds a NUL byte");
	if ((c = calloc(1, sizeof *c)) == NULL || (copy = malloc(len + 1)) == NULL) {
		mp_errf(err, errlen, "line 0: out of memory");
		goto out;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		s = mp_policy_trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			mp_errf(err, errlen, "line %d: a text is `key = text`", lineno);
			goto out;
		}
		*eq = '\0';
		key = mp_policy_trim(s);
		val = mp_policy_trim(eq + 1);
		if (!key_ok(key)) {
			mp_errf(err, errlen,
			    "line %d: \"%.*s\" is not a key (a-z, 0-9, _ and ., at most %d)",
			    lineno, KEY_MAX, key, KEY_MAX);
			goto out;
		}
		if (*val == '\0') {
			mp_errf(err, errlen, "line %d: \"%s\" has an empty text", lineno, key);
			goto out;
		}
		if (text_ok(val, &why) != 0) {
			mp_errf(err, errlen, "line %d: \"%s\": %s", lineno, key, why);
			goto out;
		}
		if (c->n == TEXTS_MAX) {
			mp_errf(err, errlen, "line %d: more than %d texts", lineno, TEXTS_MAX);
			goto out;
		}
		if ((v = realloc(c->v, (c->n + 1) * sizeof *v)) == NULL) {
			mp_errf(err, errlen, "line %d: out of memory", lineno);
			goto out;
		}
		c->v = v;
		v[c->n].line = lineno;
		v[c->n].key = strdup(key);
		v[c->n].text = strdup(val);
		c->n++;
		if (v[c->n - 1].key == NULL || v[c->n - 1].text == NULL) {
			mp_errf(err, errlen, "line %d: out of memory", lineno);
			goto out;
		}
	}
	if (c->n > 0)
		qsort(c->v, c->n, sizeof *c->v, by_key);
	for (i = 1; i < c->n; i++)
		if (strcmp(c->v[i - 1].key, c->v[i].key) == 0) {
			int a = c->v[i - 1].line, b = c->v[i].line;
			mp_errf(err, errlen, "line %d: \"%s\" appears twice (also line %d)",
			    a > b ? a : b, c->v[i].key, a > b ? b : a);
			goto out;
		}
	*out = c;
	c = NULL;
	rc = 0;
out:
	free(copy);
	ui_catalog_free(c);
	return rc;
}

void
ui_catalog_free(struct ui_catalog *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->v[i].key);
		free(c->v[i].text);
	}
	free(c->v);
	free(c);
}

size_t
ui_catalog_size(const struct ui_catalog *c)
{
	return c->n;
}

const char *
ui_catalog_key(const struct ui_catalog *c, size_t i)
{
	return i < c->n ? c->v[i].key : NULL;
}

const char *
ui_catalog_text(const struct ui_catalog *c, size_t i)
{
	return i < c->n ? c->v[i].text : NULL;
}

static struct ui_text *
find(const struct ui_catalog *c, const char *key)
{
	struct ui_text k;

	k.key = (char *)key;
	return c->n ? bsearch(&k, c->v, c->n, sizeof *c->v, by_key) : NULL;
}

const char *
ui_catalog_get(const struct ui_catalog *c, const char *key)
{
	const struct ui_text *t = find(c, key);

	return t ? t->text : NULL;
}

/* How often the placeholder at ph ("{name}...") occurs in text; parsed texts close every {. */
static size_t
occurrences(const char *text, const char *ph)
{
	size_t len = (size_t)(strchr(ph, '}') - ph) + 1, n = 0;

	for (; (text = strchr(text, '{')) != NULL; text++)
		n += strncmp(text, ph, len) == 0;
	return n;
}

/* 1 if a and b hold the same placeholders, each as often. */
static int
same_placeholders(const char *a, const char *b)
{
	const char *p;

	for (p = a; (p = strchr(p, '{')) != NULL; p++)
		if (occurrences(a, p) != occurrences(b, p))
			return 0;
	for (p = b; (p = strchr(p, '{')) != NULL; p++)
		if (occurrences(a, p) != occurrences(b, p))
			return 0;
	return 1;
}

int
ui_catalog_match(const struct ui_catalog *ref, const struct ui_catalog *c, char *err, size_t errlen)
{
	size_t i = 0, j = 0;
	int d;

	/* Both lists are sorted: one merge walk finds what is missing, extra or different. */
	while (i < ref->n || j < c->n) {
		d = i == ref->n ? 1 : j == c->n ? -1 : strcmp(ref->v[i].key, c->v[j].key);
		if (d < 0)
			return mp_errf(err, errlen, "line 0: \"%s\" is missing", ref->v[i].key);
		if (d > 0)
			return mp_errf(err, errlen, "line %d: \"%s\" is not a key of the pages",
			    c->v[j].line, c->v[j].key);
		if (!same_placeholders(ref->v[i].text, c->v[j].text))
			return mp_errf(err, errlen,
			    "line %d: \"%s\" must have the placeholders of \"%s\"", c->v[j].line,
			    c->v[j].key, ref->v[i].text);
		i++;
		j++;
	}
	return 0;
}

int
ui_catalog_overlay(struct ui_catalog *c, const struct ui_catalog *over, char *err, size_t errlen)
{
	struct ui_text *t;
	char *s;
	size_t i;

	for (i = 0; i < over->n; i++) {
		if ((t = find(c, over->v[i].key)) == NULL)
			return mp_errf(err, errlen, "line %d: \"%s\" is not a key of the pages",
			    over->v[i].line, over->v[i].key);
		if (!same_placeholders(t->text, over->v[i].text))
			return mp_errf(err, errlen,
			    "line %d: \"%s\" must have the placeholders of \"%s\"", over->v[i].line,
			    over->v[i].key, t->text);
		if ((s = strdup(over->v[i].text)) == NULL)
			return mp_errf(err, errlen, "line 0: out of memory");
		free(t->text);
		t->text = s;
		t->line = over->v[i].line;
	}
	return 0;
}

static const char *
embedded(const struct mp_embedded_file *files, const char *name)
{
	for (; files->name != NULL; files++)
		if (strcmp(files->name, name) == 0)
			return files->text;
	return NULL;
}

const char *
embedded_static(const char *name)
{
	return embedded(mp_embedded_static, name);
}

/*
 * Parse the instance's DIR/ui/<name>: 0 with *out NULL when there is no such
 * file; -1 with err "ui/<name> line N: why".
 */
static int
load_file(struct ui_catalog **out, const char *dir, const char *name, char *err, size_t errlen)
{
	char path[4200], why[300];
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;
	ssize_t r;
	int fd, rc = -1, n;

	*out = NULL;
	n = snprintf(path, sizeof path, "%s/ui/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof path)
		return mp_errf(err, errlen, "%s: path too long", dir);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		return mp_errf(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > FILE_MAX) {
		mp_errf(err, errlen, "%s: not a regular file of at most %d bytes", path, FILE_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		mp_errf(err, errlen, "out of memory");
		goto out;
	}
	while (got < (size_t)sb.st_size && (r = read(fd, buf + got, (size_t)sb.st_size - got)) > 0)
		got += (size_t)r;
	if (got != (size_t)sb.st_size) {
		mp_errf(err, errlen, "%s: short read", path);
		goto out;
	}
	if (ui_catalog_parse(out, buf, got, why, sizeof why) != 0) {
		mp_errf(err, errlen, "%s %s", path, why);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

static int
load_embedded(struct ui_catalog **out, const char *lang, char *err, size_t errlen)
{
	const char *text = embedded(mp_embedded_ui, lang);
	char why[300];

	*out = NULL;
	if (text == NULL)
		return 0;
	if (ui_catalog_parse(out, text, strlen(text), why, sizeof why) != 0)
		return mp_errf(err, errlen, "the built-in texts ui/%s.conf %s", lang, why);
	return 0;
}

/* Prefix a catalog check's "line N: ..." with the file it concerns. */
static int
in_file(char *err, size_t errlen, const char *dir, const char *name, const char *why)
{
	return mp_errf(err, errlen, "%s/ui/%s %s", dir, name, why);
}

/* One language: built-in texts, then DIR/ui/common.conf, then DIR/ui/<lang>.conf. */
static int
load_lang(struct ui_catalog **out, const struct ui_catalog *ref, const struct ui_catalog *common,
    const char *dir, const char *lang, char *err, size_t errlen)
{
	struct ui_catalog *c = NULL, *own = NULL;
	char name[64], why[300];
	int rc = -1;

	*out = NULL;
	snprintf(name, sizeof name, "%.50s.conf", lang);
	if (load_embedded(&c, lang, err, errlen) != 0 ||
	    load_file(&own, dir, name, err, errlen) != 0)
		goto out;
	if (c == NULL && own == NULL) {
		mp_errf(err, errlen,
		    "language \"%s\" has no texts for the pages: add %s/ui/%s with every "
		    "key of the Dutch texts (policy/ui/nl.conf)",
		    lang, dir, name);
		goto out;
	}
	if (c == NULL) {
		/* A language the binaries do not carry: its own file is the whole catalog. */
		c = own;
		own = NULL;
		if (ui_catalog_match(ref, c, why, sizeof why) != 0) {
			in_file(err, errlen, dir, name, why);
			goto out;
		}
	}
	if (common != NULL && ui_catalog_overlay(c, common, why, sizeof why) != 0) {
		in_file(err, errlen, dir, "common.conf", why);
		goto out;
	}
	if (own != NULL && ui_catalog_overlay(c, own, why, sizeof why) != 0) {
		in_file(err, errlen, dir, name, why);
		goto out;
	}
	if (ui_catalog_match(ref, c, why, sizeof why) != 0) {
		mp_errf(err, errlen, "the texts for \"%s\" %s", lang, why);
		goto out;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	ui_catalog_free(c);
	ui_catalog_free(own);
	return rc;
}

int
ui_load(struct ui **out, const struct mp_instance *in, char *err, size_t errlen)
{
	const struct mp_list *langs = &in->policy->lists[MP_LANGUAGES];
	struct ui_catalog *ref = NULL, *common = NULL;
	struct ui *u = NULL;
	size_t i;
	int rc = -1;

	*out = NULL;
	/* The Dutch texts name every key the pages use: the reference for all others. */
	if (load_embedded(&ref, "nl", err, errlen) != 0)
		goto out;
	if (ref == NULL) {
		mp_errf(err, errlen, "the built-in Dutch texts are missing");
		goto out;
	}
	if (load_file(&common, in->dir, "common.conf", err, errlen) != 0 ||
	    (u = calloc(1, sizeof *u)) == NULL)
		goto out;
	for (i = 0; i < langs->n; i++)
		if (load_lang(&u->cat[i], ref, common, in->dir, langs->v[i].code, err, errlen) != 0)
			goto out;
	*out = u;
	u = NULL;
	rc = 0;
out:
	ui_free(u);
	ui_catalog_free(ref);
	ui_catalog_free(common);
	return rc;
}

void
ui_free(struct ui *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < MP_POLICY_MAX_LANGS; i++)
		ui_catalog_free(u->cat[i]);
	free(u);
}

const struct ui_catalog *
ui_lang(const struct ui *u, int li)
{
	return li >= 0 && li < MP_POLICY_MAX_LANGS ? u->cat[li] : NULL;
}
