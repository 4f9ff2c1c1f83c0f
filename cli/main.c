/* meldpunt: the command-line tool.  Dispatches to the commands of cli.h. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mp_store.h"
#include "util.h"
#include "version.h"

/* cli/backup.c: backup and restore of an instance, on the server machine. */
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "init", cmd_init },
	{ "key", cmd_key },
	{ "purge", cmd_purge },
	{ "backup", cmd_backup },
	{ "restore", cmd_restore },
	{ "keygen", cmd_keygen },
	{ "cases", cmd_cases },
	{ "case", cmd_case },
	{ "intake", cmd_intake },
	{ "collective", cmd_collective },
	{ "share", cmd_share },
	{ "audit", cmd_audit },
	{ "stats", cmd_stats },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char usage_text[] =
    "usage: meldpunt <command> [options]   (meldpunt <command> --help for more)\n"
    "\n"
    "On the server machine (an admin, with the instance directory):\n"
    "  meldpunt init --dir DIR --origin ORIGIN [--public-url URL] [--recovery-key B64U]\n"
    "  meldpunt key add --dir DIR --role ROLE --name NAME --sign B64U --box B64U\n"
    "  meldpunt key list --dir DIR\n"
    "  meldpunt key revoke --dir DIR --kid KID\n"
    "  meldpunt purge --dir DIR [--today YYYY-MM-DD] [--dry-run]   retention, by hand\n"
    "  meldpunt backup --dir DIR OUT                      one encrypted file, server running\n"
    "  meldpunt restore --dir NEWDIR BACKUP               a new instance from a backup\n"
    "\n"
    "On your own device (a caseworker, with a personal key file):\n"
    "  meldpunt keygen --name NAME --out FILE [--role caseworker|auditor|admin|recovery]\n"
    "  meldpunt cases [--status S] [--overdue] [--collective ID] [--ground CODE]\n"
    "                 [--limit N] [--after CURSOR]\n"
    "  meldpunt case show CASE                            report, messages, notes, history\n"
    "  meldpunt case reply CASE [--text T | --file F]     to the reporter (else stdin)\n"
    "  meldpunt case note CASE [--text T | --file F]      internal, caseworkers only\n"
    "  meldpunt case status CASE STATUS [--closure CODE]\n"
    "  meldpunt case classify CASE --grounds a,b --domain D --manifestation M\n"
    "                 --incident CODE --residence CODE\n"
    "  meldpunt intake --channel phone|email|post|walk_in [--text T | --file F]\n"
    "                 [--followup [--qr FILE]] [--contact-name N] ...  (see --help)\n"
    "  meldpunt collective create --name NAME | list | show ID\n"
    "  meldpunt collective add ID CASE... [--from-file F]\n"
    "  meldpunt collective status ID STATUS [--closure CODE]\n"
    "  meldpunt collective reply ID [--text T | --file F]  one envelope per reporter\n"
    "  meldpunt share --with BUNDLE_OR_KID_OR_NAME        give a colleague your items\n"
    "\n"
    "An auditor, with the log's verifier key and an auditor key file:\n"
    "  meldpunt audit --key VERIFIER --year YYYY [--auditor-key FILE] [--state FILE]\n"
    "                 [--stats FILE]\n"
    "                 check the log, its events and the year's statistics\n"
    "\n"
    "Anyone (the statistics are public):\n"
    "  meldpunt stats --year YYYY [--key VERIFIER] [--out FILE] [--csv | --json]\n"
    "  meldpunt stats merge --key VERIFIER... FILE...   several services' documents\n"
    "  meldpunt --version                               this build and its schema\n"
    "\n"
    "A CASE is its reference (2026-0042) or id; a collective ID its reference\n"
    "(C2026-0001) or id.  Commands that talk to the server take --json (output for\n"
    "scripts), --url URL (default $MELDPUNT_URL, else http://127.0.0.1:8080) and\n"
    "--key FILE (default $MELDPUNT_KEY).\n"
    "\n"
    "Environment: MELDPUNT_URL, MELDPUNT_KEY, MELDPUNT_PASSPHRASE (instead of asking\n"
    "on the terminal), MELDPUNT_CA (a PEM file of the authorities to trust for https\n"
    "instead of the system's), MELDPUNT_KDF_FAST (keygen; tests and demos only), TZ\n"
    "(days; default Europe/Amsterdam).\n"
    "Exit status: 0 success, 1 error (one line on stderr), 2 bad usage.\n";

/*
 * stdout's buffer is ours, so that the plaintext of a report printed
 * through it can be wiped before exit (util.h: mp_cli_harden does the same
 * for jansson).
 */
static char outbuf[16384];

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* `meldpunt help [COMMAND]` */
static int
help(int argc, char **argv)
{
	const struct command *cmd;
	char *args[3];

	if (argc < 3) {
		fputs(usage_text, stdout);
		return 0;
	}
	if ((cmd = find_command(argv[2])) == NULL) {
		err1("unknown command '%s'", argv[2]);
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	args[0] = argv[2];
	args[1] = (char *)"--help";
	args[2] = NULL;
	return cmd->run(2, args);
}

int
main(int argc, char **argv)
{
	const struct command *cmd;
	int rc;

	if (sodium_init() < 0) {
		err1("cannot initialise libsodium");
		return EXIT_USER;
	}
	mp_cli_harden();
	setvbuf(stdout, outbuf, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, sizeof outbuf);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		err1("cannot initialise libcurl");
		return EXIT_USER;
	}

	if (argc < 2) {
		fputs(usage_text, stderr);
		rc = EXIT_USAGE;
	} else if (strcmp(argv[1], "--version") == 0) {
		printf("meldpunt %s (database schema %d)\n", MP_BUILD_VERSION,
		    mp_store_schema_version());
		rc = 0;
	} else if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		rc = help(argc, argv);
	} else if ((cmd = find_command(argv[1])) != NULL) {
		rc = cmd->run(argc - 1, argv + 1);
	} else {
		err1("unknown command '%s'", argv[1]);
		fputs(usage_text, stderr);
		rc = EXIT_USAGE;
	}

	if (fflush(stdout) != 0 || ferror(stdout)) {
		err1("cannot write to standard output");
		if (rc == 0)
			rc = EXIT_USER;
	}
	sodium_memzero(outbuf, sizeof outbuf);
	curl_global_cleanup();
	return rc;
}
