/*
 * meldpunt command-line tool: commands share this header.  Each command
 * takes its own argv (argv[0] is the command word) and returns the exit
 * status: 0 success, 1 user error (one line on stderr), 2 bad usage.
 */
#ifndef MP_CLI_H
#define MP_CLI_H

#define EXIT_USER 1
#define EXIT_USAGE 2

/* cli/instance.c: the server side, run by an admin on the server machine. */
int cmd_init(int argc, char **argv);  /* meldpunt init --dir DIR --origin ORIGIN ... */
int cmd_key(int argc, char **argv);   /* meldpunt key add|list|revoke --dir DIR ... */
int cmd_purge(int argc, char **argv); /* meldpunt purge --dir DIR [--today DAY] */

/* cli/keygen.c: a person's own device. */
int cmd_keygen(int argc, char **argv);

/* A caseworker's device, signed requests to --url (cli/casework.h). */
int cmd_cases(int argc, char **argv);      /* cli/caseworker.c */
int cmd_case(int argc, char **argv);       /* case show|reply|note|status|classify */
int cmd_intake(int argc, char **argv);     /* cli/intake.c */
int cmd_collective(int argc, char **argv); /* cli/collective.c */
int cmd_share(int argc, char **argv);      /* cli/share.c */

/* cli/audit.c: an auditor's device, with the log's verifier key. */
int cmd_audit(int argc, char **argv);

/* cli/stats.c: anyone, the public statistics and their signatures. */
int cmd_stats(int argc, char **argv); /* meldpunt stats --year Y | stats merge ... */

#endif
