/* Server-side commands, run by the municipality's admin: init and key. */
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"
#include "mp_b64.h"
#include "mp_instance.h"
#include "mp_keyfile.h"
#include "mp_store.h"
#include "mp_token.h"

static const char init_usage[] =
    "meldpunt init --dir DIR --origin ORIGIN [--public-url URL] [--recovery-key B64U\n"
    "                [--recovery-name NAME]]\n"
    "  Without --public-url, follow-up links use http:// (https:// when meldpuntd serves TLS)\n"
    "  and meldpuntd's --listen address.\n"
    "  Creates a new instance directory: random database key, token pepper and log\n"
    "  signing key (mode 0600), the encrypted database, the configuration and the\n"
    "  policy file to edit.  Prints the log verifier key that auditors need.\n"
    "  --recovery-key B64U registers the offline recovery key's public box key (the\n"
    "  \"box\" of `meldpunt keygen --role recovery`) at once, so that every envelope\n"
    "  from the first one on is also sealed to it; --recovery-name names it\n"
    "  (default \"Recovery key\").";

static int open_store(struct mp_instance **in, struct mp_store **st, const char *dir);

/* A key name: 1 to 100 characters of UTF-8 on one line. */
static int
name_ok(const char *name)
{
	size_t cps = 0;
	const char *p;

	for (p = name; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
		cps += ((unsigned char)*p & 0xc0) != 0x80;
	}
	return cps >= 1 && cps <= MP_NAME_MAX && strlen(name) < sizeof(((struct mp_key *)0)->name);
}

/* Register the recovery key given to init; says so on stderr (stdout is the verifier key). */
static int
add_recovery(struct mp_store *st, const char *name, const uint8_t box[32])
{
	struct mp_key k;

	memset(&k, 0, sizeof k);
	memcpy(k.box_pk, box, 32);
	snprintf(k.name, sizeof k.name, "%s", name);
	snprintf(k.role, sizeof k.role, "recovery");
	mp_kid(k.kid, k.box_pk);
	mp_today(k.added);
	if (mp_store_key_add(st, &k) != 0)
		return -1;
	err1("added recovery key %s (kid %s): every envelope is also sealed to it", name, k.kid);
	return 0;
}

int
cmd_init(int argc, char **argv)
{
	const char *dir = NULL, *origin = NULL, *url = NULL, *recovery = NULL, *rname = NULL;
	const struct mp_opt opts[] = { { "dir", &dir, NULL }, { "origin", &origin, NULL },
		{ "public-url", &url, NULL }, { "recovery-key", &recovery, NULL },
		{ "recovery-name", &rname, NULL }, { NULL, NULL, NULL } };
	struct mp_instance *in = NULL;
	struct mp_store *st = NULL;
	char verifier[512], err[512];
	uint8_t box[32];
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, NULL, 0, &npos, init_usage)) != 0)
		return mp_opts_exit(r, init_usage, NULL);
	if (dir == NULL || origin == NULL)
		return usage_error(init_usage, "--dir and --origin are required");
	if (rname != NULL && recovery == NULL)
		return usage_error(init_usage, "--recovery-name goes with --recovery-key");
	/* Checked before anything is created: a half-made instance helps nobody. */
	if (recovery != NULL && mp_b64u_decode_exact(box, 32, recovery, strlen(recovery)) != 0)
		return usage_error(init_usage,
		    "--recovery-key must be a 32-byte box key in b64u "
		    "(the \"box\" of the recovery key's bundle)");
	if (rname == NULL)
		rname = "Recovery key";
	if (!name_ok(rname))
		return usage_error(init_usage,
		    "--recovery-name must be 1 to %d characters on one "
		    "line",
		    MP_NAME_MAX);
	if (mp_instance_create(dir, origin, url, verifier, sizeof verifier, err, sizeof err) != 0) {
		err1("%s", err);
		goto out;
	}
	if (recovery != NULL) {
		if (open_store(&in, &st, dir) != 0 || add_recovery(st, rname, box) != 0) {
			err1(
			    "the instance in %s was created, but without the recovery key; add it "
			    "with meldpunt key add --dir %s --role recovery --name NAME --box B64U",
			    dir, dir);
			goto out;
		}
	}
	printf("%s\n", verifier);
	err1("instance created in %s; auditors verify the log with the key above", dir);
	err1("next, register a caseworker's key: meldpunt key add --dir %s ...", dir);
	rc = 0;
out:
	mp_store_close(st);
	mp_instance_free(in);
	return rc;
}

static const char key_usage[] =
    "meldpunt key add --dir DIR --role ROLE --name NAME --sign B64U --box B64U\n"
    "meldpunt key list --dir DIR\n"
    "meldpunt key revoke --dir DIR --kid KID\n"
    "  ROLE is caseworker, auditor, admin or recovery (a recovery key has no --sign).\n"
    "  The keys come from the bundle that `meldpunt keygen` prints.";

static int
open_store(struct mp_instance **in, struct mp_store **st, const char *dir)
{
	char err[512], path[PATH_MAX];

	*st = NULL;
	if (mp_instance_load(in, dir, err, sizeof err) != 0) {
		err1("%s", err);
		return -1;
	}
	if (mp_instance_path(path, sizeof path, *in, MP_INSTANCE_DB) != 0 ||
	    mp_store_open(st, path, (*in)->sec->db_key) != 0) {
		err1("cannot open the database in %s", dir);
		return -1;
	}
	return 0;
}

static int
print_key(void *arg, const struct mp_key *k)
{
	(void)arg;
	printf("%-22s  %-10s  %-8s  %s  %s\n", k->kid, k->role, k->active ? "active" : "revoked",
	    k->added, k->name);
	return 0;
}

static int
key_add(struct mp_store *st, const char *role, const char *name, const char *sign, const char *box)
{
	struct mp_key k;
	size_t cps = 0;
	const char *p;
	int rc;

	memset(&k, 0, sizeof k);
	for (p = name; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			err1("--name must not hold control characters");
			return EXIT_USER;
		}
		cps += ((unsigned char)*p & 0xc0) != 0x80;
	}
	if (!mp_role_ok(role)) {
		err1("--role must be caseworker, auditor, admin or recovery");
		return EXIT_USER;
	}
	if (*name == '\0' || cps > 100 || strlen(name) >= sizeof k.name) {
		err1("--name must be 1 to 100 characters");
		return EXIT_USER;
	}
	if ((strcmp(role, "recovery") == 0) != (sign == NULL)) {
		err1("%s",
		    sign == NULL ? "--sign is required for this role"
		                 : "a recovery key has no --sign");
		return EXIT_USER;
	}
	if (mp_b64u_decode_exact(k.box_pk, 32, box, strlen(box)) != 0 ||
	    (sign != NULL && mp_b64u_decode_exact(k.sign_pk, 32, sign, strlen(sign)) != 0)) {
		err1("--sign and --box must be 32-byte keys in b64u");
		return EXIT_USER;
	}
	k.has_sign = sign != NULL;
	snprintf(k.name, sizeof k.name, "%s", name);
	snprintf(k.role, sizeof k.role, "%s", role);
	mp_kid(k.kid, k.box_pk);
	mp_today(k.added);
	if ((rc = mp_store_key_add(st, &k)) == MP_STORE_CONFLICT) {
		err1("this key is already registered");
		return EXIT_USER;
	}
	if (rc != 0) {
		err1("cannot store the key");
		return EXIT_USER;
	}
	printf("added %s %s (kid %s)\n", role, name, k.kid);
	return 0;
}

int
cmd_key(int argc, char **argv)
{
	const char *dir = NULL, *role = NULL, *name = NULL, *sign = NULL, *box = NULL, *kid = NULL;
	const struct mp_opt opts[] = { { "dir", &dir, NULL }, { "role", &role, NULL },
		{ "name", &name, NULL }, { "sign", &sign, NULL }, { "box", &box, NULL },
		{ "kid", &kid, NULL }, { NULL, NULL, NULL } };
	struct mp_instance *in = NULL;
	struct mp_store *st = NULL;
	const char *sub = argc > 1 ? argv[1] : "";
	char day[11];
	int npos, r, rc = EXIT_USER;

	if (strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0 || strcmp(sub, "-h") == 0) {
		printf("usage: %s\n", key_usage);
		return 0;
	}
	if (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "revoke"))
		return usage_error(key_usage, "key needs add, list or revoke");
	if ((r = mp_opts_parse(argc - 1, argv + 1, opts, NULL, 0, &npos, key_usage)) != 0)
		return mp_opts_exit(r, key_usage, NULL);
	if (dir == NULL)
		return usage_error(key_usage, "--dir is required");
	if (strcmp(sub, "add") == 0 && (role == NULL || name == NULL || box == NULL))
		return usage_error(
		    key_usage, "key add needs --role, --name and --box (and --sign)");
	if (strcmp(sub, "revoke") == 0 && kid == NULL)
		return usage_error(key_usage, "key revoke needs --kid");
	if (open_store(&in, &st, dir) != 0)
		goto out;
	if (strcmp(sub, "add") == 0) {
		rc = key_add(st, role, name, sign, box);
	} else if (strcmp(sub, "list") == 0) {
		rc = mp_store_keys(st, 0, print_key, NULL) == 0 ? 0 : EXIT_USER;
	} else {
		mp_today(day);
		if ((rc = mp_store_key_revoke(st, kid, day)) != 0)
			err1("no active key with kid %s", kid);
		else
			printf("revoked %s\n", kid);
		rc = rc == 0 ? 0 : EXIT_USER;
	}
out:
	mp_store_close(st);
	mp_instance_free(in);
	return rc;
}

static const char purge_usage[] =
    "meldpunt purge --dir DIR [--today YYYY-MM-DD] [--dry-run]\n"
    "  The retention purge, by hand (meldpuntd also runs it at start and daily; this\n"
    "  is safe while it runs): removes the report, messages and notes of cases closed\n"
    "  retention_closed_months ago or earlier, and of open cases without activity for\n"
    "  retention_inactive_months (policy.conf).  The case rows, their classification\n"
    "  and history stay for the figures; the database and its WAL are rewritten so\n"
    "  that no page keeps the removed envelopes.  Prints how many cases it purged.\n"
    "  There is no undo.\n"
    "  --dry-run  only lists the cases it would purge (reference, status, day),\n"
    "             and changes nothing\n"
    "  --today DAY  counts the retention terms from DAY instead of today; with\n"
    "             --dry-run, to see what a policy change (or the coming months) would\n"
    "             remove.  Without --dry-run it removes them now.";

/* One line of --dry-run: reference, status and the day its term counts from. */
static int
purge_due_line(void *arg, const struct mp_case *c)
{
	int *n = arg;

	if (strcmp(c->status, "closed") == 0)
		printf("%s  closed on %s\n", c->ref, c->closed);
	else
		printf("%s  %s, last change on %s\n", c->ref, c->status, c->updated);
	(*n)++;
	return 0;
}

int
cmd_purge(int argc, char **argv)
{
	const char *dir = NULL, *day = NULL;
	int dry = 0;
	const struct mp_opt opts[] = { { "dir", &dir, NULL }, { "today", &day, NULL },
		{ "dry-run", NULL, &dry }, { NULL, NULL, NULL } };
	struct mp_instance *in = NULL;
	struct mp_store *st = NULL;
	char today[11], closed[11], inactive[11], day_now[11];
	int npos, r, n = 0, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, NULL, 0, &npos, purge_usage)) != 0)
		return mp_opts_exit(r, purge_usage, NULL);
	if (dir == NULL)
		return usage_error(purge_usage, "--dir is required");
	if (day != NULL && !mp_day_ok(day))
		return usage_error(purge_usage, "--today must be a day YYYY-MM-DD");
	if (open_store(&in, &st, dir) != 0)
		goto out;
	/* mp_instance_load set the instance's time zone, so "today" is its day. */
	if (day != NULL)
		snprintf(today, sizeof today, "%s", day);
	else
		mp_today(today);
	if (mp_retention_cutoffs(in->policy, today, closed, inactive) != 0) {
		err1("cannot work out the retention days for %s", today);
		goto out;
	}
	if (dry) {
		if (mp_store_purge_due(st, closed, inactive, purge_due_line, &n) != 0) {
			err1("%s", "cannot read the cases (is the database busy? try again)");
			goto out;
		}
		printf("would purge %d case%s (closed on or before %s, or inactive since %s or "
		       "earlier); nothing was changed\n",
		    n, n == 1 ? "" : "s", closed, inactive);
		rc = 0;
		goto out;
	}
	/* The cut-offs follow --today; the purge itself is recorded on the real day. */
	mp_today(day_now);
	if ((r = mp_store_purge(st, day_now, closed, inactive, &n)) != 0) {
		err1("%s",
		    r == MP_STORE_FULL ? "the purge failed: the disk is full"
		                       : "the purge failed (is the database busy? try again)");
		goto out;
	}
	printf("purged %d case%s (closed on or before %s, or inactive since %s or earlier)\n", n,
	    n == 1 ? "" : "s", closed, inactive);
	rc = 0;
out:
	mp_store_close(st);
	mp_instance_free(in);
	return rc;
}
