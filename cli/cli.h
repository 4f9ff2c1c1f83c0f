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
int cmd_init(int argc, char **argv);  /* meldpunt init --dir DIR --origin ORIGIN [--public-url URL] */
int cmd_key(int argc, char **argv);   /* meldpunt key add|list|revoke --dir DIR ... */

/* cli/caseworker.c: a caseworker's device, signed requests to --url. */
int cmd_keygen(int argc, char **argv);
int cmd_cases(int argc, char **argv);
int cmd_case(int argc, char **argv);  /* case show|reply|status */

#endif
