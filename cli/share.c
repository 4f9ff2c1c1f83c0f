/*
 * meldpunt share: give a colleague (or the recovery key) every item this
 * key can open and they cannot.  Each item key K is opened here with the
 * caller's box key, sealed to the colleague's box key and wiped; the server
 * only ever sees the new sealed copy (docs/CASEWORK.md, "Sharing").
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "casework.h"
#include "cli.h"
#include "client.h"
#include "mp_b64.h"
#include "mp_envelope.h"
#include "mp_keyfile.h"
#include "mp_token.h"
#include "util.h"

#define PAGE "1000"      /* items per GET /api/v1/recipients (the route's maximum) */
#define SHARE_BATCH 5000 /* items per POST /api/v1/recipients (the route takes 20,000) */
#define BUNDLE_MAX (64 * 1024)
#define SEALED_BYTES (32 + crypto_box_SEALBYTES)

static const char share_usage[] =
    "meldpunt share --with BUNDLE_OR_KID_OR_NAME [--json] " MP_CLIENT_USAGE;

static const char share_help[] =
    "Share with a colleague every item (report, message, note) that your key can\n"
    "open and theirs cannot yet: a new colleague's key opens nothing sealed\n"
    "before it was registered until someone shares it.  Each item's key is opened\n"
    "here, sealed to the colleague's box key and wiped; the server never sees it.\n"
    "Items you cannot open yourself are counted; another colleague can share them.\n"
    "\n"
    "  --with WHO   the colleague: the file with the key bundle that meldpunt keygen\n"
    "               printed for them (safest: the key comes from them), their key id\n"
    "               (kid, 22 characters, from meldpunt key list; checked against the\n"
    "               key the server lists), or their name as registered (then the\n"
    "               server's word for their key is taken: check the kid it prints)\n"
    "  --json       print {\"kid\", \"name\", \"shared\", \"added\", \"unopened\"}\n" MP_CLIENT_HELP;

/* The colleague: their box key, kid and name (a copy of the server's bundle). */
struct target {
	uint8_t pk[32];
	char kid[MP_KID_TEXT_LEN + 1];
	json_t *bundle;
};

/* The box key of a bundle file: 1 if `with` is one, 0 if there is no such file, -1 (printed). */
static int
bundle_file(const char *with, uint8_t pk[32])
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	json_t *j = NULL;
	const char *box;
	int rc = -1;

	if (stat(with, &st) != 0)
		return 0;
	if (mp_read_file(with, BUNDLE_MAX, &text, &len) != 0)
		goto out;
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	box = cw_str(j, "box", "");
	if (!json_is_object(j) || mp_b64u_decode_exact(pk, 32, box, strlen(box)) != 0) {
		err1("%s is not a key bundle (the JSON that meldpunt keygen prints)", with);
		goto out;
	}
	rc = 1;
out:
	json_decref(j);
	mp_secret_free(text);
	return rc;
}

/* Find the colleague among the server's active keys; 0, or an exit status (printed). */
static int
find_target(struct target *t, const json_t *keys, const char *with, const uint8_t *file_pk,
    const struct mp_identity *me)
{
	const char *role, *box, *name;
	char kid[MP_KID_TEXT_LEN + 1], mine[MP_KID_TEXT_LEN + 1];
	uint8_t pk[32];
	const json_t *k, *found = NULL;
	size_t i, matches = 0;

	json_array_foreach(keys, i, k) {
		box = cw_str(k, "box", "");
		if (mp_b64u_decode_exact(pk, 32, box, strlen(box)) != 0)
			continue;
		mp_kid(kid, pk);
		name = cw_str(k, "name", "");
		if ((file_pk != NULL && sodium_memcmp(pk, file_pk, 32) == 0) ||
		    (file_pk == NULL && (strcmp(kid, with) == 0 || strcasecmp(name, with) == 0))) {
			if (found == NULL || sodium_memcmp(pk, t->pk, 32) != 0)
				matches++;
			found = k;
			memcpy(t->pk, pk, 32);
			memcpy(t->kid, kid, sizeof kid);
		}
	}
	if (found == NULL) {
		if (file_pk != NULL)
			err1("the key in %s is not an active key on the server (an admin registers "
			     "it with meldpunt key add)",
			    with);
		else
			err1("no active key has the kid or name '%s'", with);
		return EXIT_USER;
	}
	if (matches > 1) {
		err1("several keys are named '%s'; give the kid instead (meldpunt key list)", with);
		return EXIT_USER;
	}
	role = cw_str(found, "role", "");
	if (strcmp(role, "caseworker") != 0 && strcmp(role, "recovery") != 0) {
		err1("%s is an %s key; only caseworker and recovery keys open cases", t->kid, role);
		return EXIT_USER;
	}
	mp_kid(mine, me->box_pk);
	if (strcmp(mine, t->kid) == 0) {
		err1("that is your own key");
		return EXIT_USER;
	}
	t->bundle = json_incref((json_t *)found);
	return 0;
}

/*
 * One item of GET /api/v1/recipients: open K from the caller's own entry,
 * seal it to the colleague, wipe it.  1 when it went onto `items`, 0 when
 * the caller cannot open it, -1 on a failure (printed).
 */
static int
reseal(json_t *items, const json_t *item, const struct target *t, const struct mp_identity *me)
{
	uint8_t *K = NULL, sealed[SEALED_BYTES];
	char text[MP_B64U_LEN(SEALED_BYTES)];
	json_t *env = NULL, *add;
	int rc = -1;

	if (!mp_id_ok(cw_str(item, "item", ""))) {
		err1("the server sent a malformed item");
		goto out;
	}
	/* mp_envelope_item_key reads only the recipients of an envelope. */
	if ((env = json_pack("{s:O}", "recipients", json_object_get(item, "recipients"))) == NULL ||
	    (K = sodium_malloc(32)) == NULL) {
		err1("out of memory");
		goto out;
	}
	if (mp_envelope_item_key(K, env, me->box_pk, me->box_sk) != 0) {
		rc = 0;
		goto out;
	}
	if (crypto_box_seal(sealed, K, 32, t->pk) != 0 ||
	    mp_b64u_encode(text, sizeof text, sealed, sizeof sealed) != 0) {
		err1("cannot seal an item key");
		goto out;
	}
	add = json_pack("{s:s, s:[{s:s, s:s}]}", "item", cw_str(item, "item", ""), "add", "kid",
	    t->kid, "sealed", text);
	if (add == NULL || json_array_append_new(items, add) != 0) {
		err1("out of memory");
		goto out;
	}
	rc = 1;
out:
	if (K != NULL)
		sodium_free(K); /* wipes */
	json_decref(env);
	return rc;
}

/* POST /api/v1/recipients for items[first..first+n); adds the server's count to *added. */
static int
post_batch(struct mp_client *c, const json_t *items, size_t first, size_t n, size_t *added)
{
	json_t *batch = NULL, *body = NULL, *resp = NULL;
	long status;
	size_t i;
	int rc = -1;

	if ((batch = json_array()) == NULL) {
		err1("out of memory");
		goto out;
	}
	for (i = first; i < first + n; i++) {
		if (json_array_append(batch, json_array_get(items, i)) != 0) {
			err1("out of memory");
			goto out;
		}
	}
	if ((body = json_pack("{s:O}", "items", batch)) == NULL) {
		err1("out of memory");
		goto out;
	}
	if (mp_client_request(c, "POST", "/api/v1/recipients", body, &status, &resp) != 0)
		goto out;
	if (json_is_integer(json_object_get(resp, "added")))
		*added += (size_t)json_integer_value(json_object_get(resp, "added"));
	rc = 0;
out:
	json_decref(batch);
	json_decref(body);
	json_decref(resp);
	return rc;
}

int
cmd_share(int argc, char **argv)
{
	struct mp_client_opts co = { NULL, NULL };
	const char *with = NULL, *next;
	int json = 0;
	struct mp_opt opts[] = {
		{ "with", &with, NULL },
		{ "json", NULL, &json },
		MP_CLIENT_OPTS(co),
		{ NULL, NULL, NULL },
	};
	struct target t;
	struct mp_client *c = NULL;
	const struct mp_identity *me;
	json_t *keys = NULL, *resp = NULL, *items = NULL, *page, *item, *out = NULL;
	char path[256], *after = NULL;
	uint8_t file_pk[32];
	size_t i, unopened = 0, added = 0, first, n;
	int npos, r, is_file, rc = EXIT_USER;

	memset(&t, 0, sizeof t);
	if ((r = mp_opts_parse(argc, argv, opts, NULL, 0, &npos, share_usage)) != 0)
		return mp_opts_exit(r, share_usage, share_help);
	if (with == NULL || *with == '\0')
		return usage_error(share_usage, "--with is required: whom to share with");
	if ((is_file = bundle_file(with, file_pk)) < 0)
		return EXIT_USER;
	if ((rc = cw_open_client(&c, &co)) != 0 || (rc = cw_get_keys(c, &keys)) != 0)
		goto out;
	me = mp_client_identity(c);
	if ((rc = find_target(&t, keys, with, is_file ? file_pk : NULL, me)) != 0)
		goto out;
	rc = EXIT_USER;
	if ((items = json_array()) == NULL) {
		err1("out of memory");
		goto out;
	}
	/* All pages first, then the posts: the cursor never moves under our own changes. */
	for (;;) {
		snprintf(path, sizeof path, "/api/v1/recipients?missing=%s&limit=" PAGE, t.kid);
		if (after != NULL && cw_add_query(path, sizeof path, "after", after) != 0)
			goto out;
		json_decref(resp);
		if (cw_get_list(c, path, "items", &resp, &page) != 0)
			goto out;
		json_array_foreach(page, i, item) {
			if ((r = reseal(items, item, &t, me)) < 0)
				goto out;
			unopened += r == 0;
		}
		free(after);
		after = NULL;
		next = cw_str(resp, "next", NULL);
		if (next == NULL || *next == '\0' || json_array_size(page) == 0)
			break;
		if ((after = strdup(next)) == NULL) {
			err1("out of memory");
			goto out;
		}
	}
	for (first = 0; first < json_array_size(items); first += SHARE_BATCH) {
		n = json_array_size(items) - first;
		if (post_batch(c, items, first, n < SHARE_BATCH ? n : SHARE_BATCH, &added) != 0) {
			if (first > 0)
				err1("%zu items were shared before this error; run share again for "
				     "the rest",
				    first);
			goto out;
		}
	}
	if (json) {
		out = json_pack("{s:s, s:s, s:I, s:I, s:I}", "kid", t.kid, "name",
		    cw_str(t.bundle, "name", ""), "shared", (json_int_t)json_array_size(items),
		    "added", (json_int_t)added, "unopened", (json_int_t)unopened);
		rc = out != NULL && cw_print_json(out) == 0 ? 0 : EXIT_USER;
		goto out;
	}
	if (json_array_size(items) == 0 && unopened == 0) {
		fputs("nothing to share: ", stdout);
		mp_print_line(stdout, cw_str(t.bundle, "name", "?"));
		printf(" (kid %s) can open every item already\n", t.kid);
	} else {
		printf("shared %zu item%s with ", json_array_size(items),
		    json_array_size(items) == 1 ? "" : "s");
		mp_print_line(stdout, cw_str(t.bundle, "name", "?"));
		printf(" (kid %s)", t.kid);
		if (unopened > 0)
			printf(
			    "; %zu item%s could not be opened with your key (a colleague who can "
			    "open them can share them)",
			    unopened, unopened == 1 ? "" : "s");
		putchar('\n');
	}
	rc = 0;
out:
	free(after);
	json_decref(out);
	json_decref(items);
	json_decref(resp);
	json_decref(keys);
	json_decref(t.bundle);
	mp_client_close(c);
	return rc;
}
