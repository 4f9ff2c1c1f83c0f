/*
 * meldpunt keygen: a person's keys, made on their own device.  The secret
 * keys only ever leave this process sealed under the passphrase.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mp_b64.h"
#include "mp_keyfile.h"
#include "util.h"

static const char keygen_usage[] =
    "meldpunt keygen --name NAME --out FILE [--role caseworker|auditor|admin|recovery]";

static const char keygen_help[] =
    "Make your personal keys: a signing key (it signs your requests to the server)\n"
    "and a separate box key (it opens reports and messages sealed to you).  Both\n"
    "are written to FILE, encrypted under a passphrase (Argon2id and\n"
    "XChaCha20-Poly1305); FILE is created with mode 0600 and never overwritten.\n"
    "The public key bundle is printed on standard output, and how an admin\n"
    "registers it on the server (meldpunt key add) on standard error.\n"
    "\n"
    "  --name NAME   your name as colleagues see it (1 to 100 characters)\n"
    "  --out FILE    the key file to create\n"
    "  --role ROLE   caseworker (default), auditor, admin, or recovery (the offline\n"
    "                key every envelope is also sealed to; keep it on paper or in\n"
    "                a safe)\n"
    "\n"
    "The passphrase (at least 8 characters) is asked twice on the terminal.\n"
    "Environment:\n"
    "  MELDPUNT_PASSPHRASE   the passphrase, asked once, for scripts and tests\n"
    "  MELDPUNT_KDF_FAST=1   weak Argon2id limits (the minimum operations and\n"
    "                        8 MiB) so that tests and demos run fast; NEVER for a\n"
    "                        real key: a stolen file would give up its passphrase\n"
    "                        far more easily\n";

/* Print s for a POSIX shell: in single quotes, each ' as '\''. */
static void
print_shell_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* The line the admin runs on the server to register the bundle. */
static void
print_key_add_hint(const struct mp_identity *id, const char *out)
{
	char sign[MP_B64U_LEN(32)], box[MP_B64U_LEN(32)];

	if (mp_b64u_encode(box, sizeof box, id->box_pk, 32) != 0 ||
	    mp_b64u_encode(sign, sizeof sign, id->sign_pk, 32) != 0)
		return;
	fprintf(stderr, "meldpunt: wrote %s; keep it and its passphrase safe.\n", out);
	fprintf(stderr, "meldpunt: the admin registers this key on the server with:\n");
	fprintf(stderr, "  meldpunt key add --dir DIR --role %s --name ", id->role);
	print_shell_quoted(stderr, id->name);
	if (id->has_sign)
		fprintf(stderr, " --sign %s", sign);
	fprintf(stderr, " --box %s\n", box);
}

int
cmd_keygen(int argc, char **argv)
{
	const char *name = NULL, *out = NULL, *role = NULL, *fast;
	struct mp_opt opts[] = {
		{ "name", &name, NULL },
		{ "out", &out, NULL },
		{ "role", &role, NULL },
		{ NULL, NULL, NULL },
	};
	struct mp_identity *id = NULL;
	char *pass = NULL, *file = NULL, *bundle = NULL;
	unsigned long long ops = 0;
	size_t plen = 0, mem = 0, ncp = 0, i;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, NULL, 0, &npos, keygen_usage)) != 0)
		return mp_opts_exit(r, keygen_usage, keygen_help);
	if (name == NULL || out == NULL)
		return usage_error(keygen_usage, "--name and --out are required");
	if (role == NULL)
		role = "caseworker";
	if (!mp_role_ok(role))
		return usage_error(keygen_usage,
		    "--role must be caseworker, auditor, admin or "
		    "recovery");
	if (mp_utf8_check(name, strlen(name), &ncp) != 0 || ncp < 1 || ncp > MP_NAME_MAX)
		return usage_error(
		    keygen_usage, "--name must be 1 to %d characters of UTF-8", MP_NAME_MAX);
	for (i = 0; name[i]; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return usage_error(keygen_usage, "--name must not hold control characters");
	}
	/* Fail before the passphrase is typed; the O_EXCL open below still decides. */
	if (access(out, F_OK) == 0) {
		err1("%s already exists; not overwriting it", out);
		goto out;
	}
	fast = getenv("MELDPUNT_KDF_FAST");
	if (fast != NULL && strcmp(fast, "1") == 0) {
		ops = crypto_pwhash_OPSLIMIT_MIN;
		mem = 8 * 1024 * 1024;
	}
	if ((id = mp_identity_new(name, role)) == NULL) {
		err1("cannot make new keys");
		goto out;
	}
	if (mp_passphrase_read(&pass, &plen, "New passphrase for the key file: ", MP_PASS_NEW) != 0)
		goto out;
	if ((file = mp_keyfile_seal(id, pass, plen, ops, mem)) == NULL) {
		err1("cannot encrypt the key file (out of memory?)");
		goto out;
	}
	if ((bundle = mp_identity_bundle(id)) == NULL) {
		err1("out of memory");
		goto out;
	}
	if (mp_write_file_new(out, file, strlen(file)) != 0)
		goto out;
	printf("%s\n", bundle);
	print_key_add_hint(id, out);
	rc = 0;
out:
	mp_secret_free(pass);
	mp_identity_free(id);
	free(file); /* holds only the sealed form */
	free(bundle);
	return rc;
}
