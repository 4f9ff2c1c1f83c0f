/*
 * The command-line tool reading what a server answers: case lists and
 * cases (with their envelopes, history and classification), keys,
 * collectives, the items a share finds, intake's answer, and an auditor's
 * checkpoints, leaves, proofs, opened events and statistics documents.
 *
 * libcurl is replaced here: each request the tool makes is answered by
 * meldpuntd's own handlers over a real store (fixture.h), except one,
 * whose answer is the input.  The input is
 *
 *	byte 0    the command (commands[] below)
 *	byte 1    which of its requests gets the input's answer (0: the first)
 *	byte 2    that answer's HTTP status (statuses[]; the last: no answer)
 *	the rest  that answer's body (placeholders as in fixture.h)
 *
 * A statistics document served is signed on request with the log's key,
 * and a checkpoint body served by the input is signed too when its tree is
 * small, so that what follows the signature check is reached as well (a
 * large tree would only measure the auditor's memory).  Whatever the
 * answers, a command ends with 0, 1 or 2, without a crash or a leak.
 *
 * FUZZ_CLI_SEEDS=DIR writes one seed per request of every command, with
 * the answer the server gave, into DIR, and exits.
 */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <stdarg.h>

#include "fixture.h"
#include "mp_note.h"
#include "../../cli/cli.h"

#define ARGS_MAX 24
#define ANSWERS_MAX 64

static const struct command {
	const char *name;
	int (*run)(int, char **);
	const char *args[ARGS_MAX];
} commands[] = {
	{ "cases", cmd_cases, { "cases", NULL } },
	{ "cases-json", cmd_cases,
	    { "cases", "--json", "--status", "intake", "--limit", "5", "--ground", "origin",
	        NULL } },
	{ "cases-overdue", cmd_cases,
	    { "cases", "--overdue", "--collective", "@COLLREF@", "--after", "@CASE2@", NULL } },
	{ "show-ref", cmd_case, { "case", "show", "@REF@", NULL } },
	{ "show-json", cmd_case, { "case", "show", "@CASE@", "--json", NULL } },
	{ "show-intake", cmd_case, { "case", "show", "@CASE2@", NULL } },
	{ "reply", cmd_case, { "case", "reply", "@CASE@", "--text", "Wij bellen u.", NULL } },
	{ "note", cmd_case, { "case", "note", "@REF@", "--text", "Gebeld.", "--json", NULL } },
	{ "status", cmd_case, { "case", "status", "@CASE@", "in_progress", NULL } },
	{ "classify", cmd_case,
	    { "case", "classify", "@CASE2@", "--grounds", "age,sex", "--domain", "housing",
	        "--manifestation", "remark", "--incident", "leiden", "--residence", "katwijk",
	        NULL } },
	{ "intake", cmd_intake,
	    { "intake", "--channel", "phone", "--text", "Aan de balie.", "--followup",
	        "--contact-email", "a@example.nl", "--preferred", "email", NULL } },
	{ "coll-create", cmd_collective, { "collective", "create", "--name", "Sportclub", NULL } },
	{ "coll-list", cmd_collective, { "collective", "list", NULL } },
	{ "coll-show", cmd_collective, { "collective", "show", "@COLLREF@", NULL } },
	{ "coll-add", cmd_collective, { "collective", "add", "@COLL@", "@CASE2@", "@REF@", NULL } },
	{ "coll-status", cmd_collective,
	    { "collective", "status", "@COLLREF@", "closed", "--closure", "mediation", NULL } },
	{ "coll-reply", cmd_collective,
	    { "collective", "reply", "@COLL@", "--text", "Aan allen.", NULL } },
	{ "share", cmd_share, { "share", "--with", "Dirk", NULL } },
	{ "audit", cmd_audit,
	    { "audit", "--key", "@VERIFIER@", "--year", "@YEAR@", "--auditor-key", "@AKEY@",
	        "--state", "@STATE@", NULL } },
	{ "audit-json", cmd_audit,
	    { "audit", "--key", "@VERIFIER@", "--year", "@YEAR@", "--auditor-key", "@AKEY@",
	        "--state", "@STATE@", "--json", NULL } },
	{ "stats", cmd_stats, { "stats", "--year", "@YEAR@", "--key", "@VERIFIER@", NULL } },
	{ "stats-csv", cmd_stats, { "stats", "--year", "@YEAR@", "--csv", "--lang", "en", NULL } },
	{ "stats-json", cmd_stats, { "stats", "--year", "@YEAR@", "--json", NULL } },
	{ "stats-merge", cmd_stats, { "stats", "merge", "--key", "@VERIFIER@", "@DOC@", NULL } },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const long statuses[] = { 200, 201, 400, 401, 404, 409, 503, 0 };
#define NSTATUSES (sizeof statuses / sizeof statuses[0])

/* The run's own placeholders: files and keys of the tool's side. */
static struct {
	char verifier[512];
	struct mp_verifier v;
	char key[300], akey[300], state[300], doc[300], docsig[310];
	FILE *null;
	/* This input's answer, and the request it goes to. */
	const uint8_t *body;
	size_t blen;
	long status;
	unsigned target, served;
	char *last_doc; /* the last statistics document served, to sign its .sig */
	size_t last_doclen;
	/* FUZZ_CLI_SEEDS: the answers given. */
	int recording;
	struct {
		long status;
		char *body;
	} answers[ANSWERS_MAX];
	size_t nanswers;
} cli;

/* --- the tool's files ------------------------------------------------------------------------ */

static void
write_file(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || (len > 0 && fwrite(p, 1, len, f) != len) || fclose(f) != 0)
		fx_die(path);
}

static void
keyfile(char *path, size_t pathlen, const char *name, const struct mp_identity *id)
{
	char *text;

	snprintf(path, pathlen, "%s/%s.key", fx.dir, name);
	/* Argon2id at its least: the file is opened for every input. */
	if ((text = mp_keyfile_seal(id, "fuzz-passphrase", 15, crypto_pwhash_OPSLIMIT_MIN,
	         crypto_pwhash_MEMLIMIT_MIN)) == NULL)
		fx_die("mp_keyfile_seal");
	write_file(path, text, strlen(text));
	free(text);
}

static void
cli_setup(void)
{
	if (cli.null != NULL)
		return;
	fx_setup();
	keyfile(cli.key, sizeof cli.key, "anna", fx.anna);
	keyfile(cli.akey, sizeof cli.akey, "carla", fx.carla);
	snprintf(cli.state, sizeof cli.state, "%s/audit.checkpoint", fx.dir);
	snprintf(cli.doc, sizeof cli.doc, "%s/stats.json", fx.dir);
	snprintf(cli.docsig, sizeof cli.docsig, "%s.sig", cli.doc);
	if (mp_note_verifier_text(cli.verifier, sizeof cli.verifier, FX_ORIGIN, fx.in->log_pk) !=
	        0 ||
	    mp_note_verifier_parse(&cli.v, cli.verifier) != 0 ||
	    (cli.null = fopen("/dev/null", "w")) == NULL)
		fx_die("the tool's side");
	setenv("MELDPUNT_PASSPHRASE", "fuzz-passphrase", 1);
	setenv("HOME", fx.dir, 1);
	unsetenv("MELDPUNT_URL");
	unsetenv("MELDPUNT_KEY");
	unsetenv("MELDPUNT_CA");
	unsetenv("XDG_STATE_HOME");
}

/* An argument with the run's and the fixture's placeholders filled in (malloc'ed). */
static char *
arg(const char *s)
{
	const char *v = NULL;
	size_t len;

	if (strcmp(s, "@VERIFIER@") == 0)
		v = cli.verifier;
	else if (strcmp(s, "@AKEY@") == 0)
		v = cli.akey;
	else if (strcmp(s, "@STATE@") == 0)
		v = cli.state;
	else if (strcmp(s, "@DOC@") == 0)
		v = cli.doc;
	if (v != NULL)
		return strdup(v);
	return fx_expand((const uint8_t *)s, strlen(s), &len);
}

/* The document signed with the log's key: b64 and a newline, as the server serves it. */
static char *
sign_doc(const char *doc, size_t len)
{
	uint8_t sig[crypto_sign_BYTES];
	char *out = malloc(MP_B64_LEN(sizeof sig) + 1);

	if (out == NULL)
		fx_die("out of memory");
	crypto_sign_detached(sig, NULL, (const uint8_t *)doc, len, fx.in->sec->log_sk);
	if (mp_b64_encode(out, MP_B64_LEN(sizeof sig), sig, sizeof sig) != 0)
		fx_die("mp_b64_encode");
	out[MP_B64_LEN(sizeof sig) - 1] = '\n';
	out[MP_B64_LEN(sizeof sig)] = '\0';
	return out;
}

/*
 * A checkpoint body from the input (up to its blank line) as a note signed
 * with the log's key, when its tree has at most 2^16 leaves; else NULL.
 */
static char *
sign_checkpoint(const char *body, size_t len)
{
	uint8_t sig[4 + crypto_sign_BYTES];
	char b64[MP_B64_LEN(sizeof sig)], *out, *end;
	const char *nl, *blank;
	unsigned long long size;
	size_t n, cap;

	blank = memmem(body, len, "\n\n", 2);
	n = blank != NULL ? (size_t)(blank - body) + 1 : len;
	if (n == 0 || body[n - 1] != '\n' || memchr(body, '\0', n) != NULL ||
	    (nl = memchr(body, '\n', n)) == NULL)
		return NULL;
	size = strtoull(nl + 1, &end, 10);
	if (end == nl + 1 || size > (1u << 16))
		return NULL;
	memcpy(sig, cli.v.keyhash, 4);
	crypto_sign_detached(sig + 4, NULL, (const uint8_t *)body, n, fx.in->sec->log_sk);
	cap = n + strlen(FX_ORIGIN) + sizeof b64 + 16;
	if (mp_b64_encode(b64, sizeof b64, sig, sizeof sig) != 0 || (out = malloc(cap)) == NULL)
		fx_die("sign_checkpoint");
	snprintf(out, cap, "%.*s\n\xe2\x80\x94 %s %s\n", (int)n, body, FX_ORIGIN, b64);
	return out;
}

/* --- libcurl, answered by the handlers ------------------------------------------------------ */

struct fake_curl {
	char *url;
	char *post;
	long post_set;
	curl_off_t max;
	size_t (*write)(char *, size_t, size_t, void *);
	void *write_data;
	int (*xfer)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
	void *xfer_data;
	long noprogress;
	long status;
};

CURL *
curl_easy_init(void)
{
	struct fake_curl *c = calloc(1, sizeof *c);

	if (c != NULL)
		c->noprogress = 1;
	return c;
}

void
curl_easy_reset(CURL *h)
{
	struct fake_curl *c = h;

	free(c->url);
	free(c->post);
	memset(c, 0, sizeof *c);
	c->noprogress = 1;
}

void
curl_easy_cleanup(CURL *h)
{
	struct fake_curl *c = h;

	if (c == NULL)
		return;
	free(c->url);
	free(c->post);
	free(c);
}

CURLcode
curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	struct fake_curl *c = h;
	va_list ap;
	void *p = NULL;
	long l = 0;
	curl_off_t o = 0;

	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		l = va_arg(ap, long);
	else if (opt < CURLOPTTYPE_OFF_T)
		p = va_arg(ap, void *);
	else
		o = va_arg(ap, curl_off_t);
	va_end(ap);
	switch (opt) {
	case CURLOPT_URL:
		free(c->url);
		if ((c->url = strdup(p)) == NULL)
			return CURLE_OUT_OF_MEMORY;
		break;
	case CURLOPT_POSTFIELDS:
		free(c->post);
		if ((c->post = strdup(p)) == NULL)
			return CURLE_OUT_OF_MEMORY;
		c->post_set = 1;
		break;
	case CURLOPT_MAXFILESIZE_LARGE:
		c->max = o;
		break;
	case CURLOPT_WRITEFUNCTION:
		c->write = (size_t(*)(char *, size_t, size_t, void *))p;
		break;
	case CURLOPT_WRITEDATA:
		c->write_data = p;
		break;
	case CURLOPT_XFERINFOFUNCTION:
		c->xfer = (int (*)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t))p;
		break;
	case CURLOPT_XFERINFODATA:
		c->xfer_data = p;
		break;
	case CURLOPT_NOPROGRESS:
		c->noprogress = l;
		break;
	default:
		break;
	}
	return CURLE_OK;
}

CURLcode
curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	struct fake_curl *c = h;
	va_list ap;
	long *l;

	va_start(ap, info);
	l = va_arg(ap, long *);
	va_end(ap);
	if (info != CURLINFO_RESPONSE_CODE)
		return CURLE_UNKNOWN_OPTION;
	*l = c->status;
	return CURLE_OK;
}

const char *
curl_easy_strerror(CURLcode code)
{
	(void)code;
	return "no answer (fuzz)";
}

struct curl_slist *
curl_slist_append(struct curl_slist *list, const char *s)
{
	struct curl_slist *n = calloc(1, sizeof *n), *l;

	if (n == NULL || (n->data = strdup(s)) == NULL) {
		free(n);
		return NULL;
	}
	if (list == NULL)
		return n;
	for (l = list; l->next != NULL; l = l->next)
		;
	l->next = n;
	return list;
}

void
curl_slist_free_all(struct curl_slist *list)
{
	struct curl_slist *next;

	for (; list != NULL; list = next) {
		next = list->next;
		free(list->data);
		free(list);
	}
}

CURLcode
curl_global_init(long flags)
{
	(void)flags;
	return CURLE_OK;
}

void
curl_global_cleanup(void)
{
}

/* The handlers' answer to the request, and what the tool is given instead when it is the target. */
static char *
answer(struct fake_curl *c, const char *pq, size_t *len)
{
	char *req, *ans = NULL, *signed_note;
	unsigned status = 0;
	size_t rlen;
	int n;

	if (cli.served++ == cli.target && !cli.recording) {
		c->status = cli.status;
		ans = fx_expand(cli.body, cli.blen, len);
		if (strcmp(pq, "/api/v1/log/checkpoint") == 0 &&
		    (signed_note = sign_checkpoint(ans, *len)) != NULL) {
			free(ans);
			ans = signed_note;
			*len = strlen(ans);
		}
		return ans;
	}
	/* A signature of the document served before it. */
	if (strncmp(pq, "/api/v1/stats/", 14) == 0 && strstr(pq, ".sig") != NULL &&
	    cli.last_doc != NULL) {
		c->status = 200;
		ans = sign_doc(cli.last_doc, cli.last_doclen);
		*len = strlen(ans);
		return ans;
	}
	n = snprintf(NULL, 0, "%s %s\n\n%s", c->post_set ? "POST" : "GET", pq,
	    c->post != NULL ? c->post : "");
	if (n < 0 || (req = malloc((size_t)n + 1)) == NULL)
		fx_die("out of memory");
	snprintf(req, (size_t)n + 1, "%s %s\n\n%s", c->post_set ? "POST" : "GET", pq,
	    c->post != NULL ? c->post : "");
	rlen = (size_t)n;
	if (fx_call((const uint8_t *)req, rlen, FX_GET | FX_POST | FX_PAGES, &ans, &status) != 0) {
		status = 404;
		ans = strdup(
		    "{\"error\":{\"code\":\"not_found\",\"message\":\"no such resource\"}}");
	}
	free(req);
	c->status = (long)status;
	*len = strlen(ans);
	return ans;
}

CURLcode
curl_easy_perform(CURL *h)
{
	struct fake_curl *c = h;
	const char *pq;
	char *ans;
	size_t len, at, k;
	CURLcode rc = CURLE_OK;

	if (c->url == NULL || strncmp(c->url, FX_URL, strlen(FX_URL)) != 0)
		return CURLE_COULDNT_CONNECT;
	pq = c->url + strlen(FX_URL);
	if ((ans = answer(c, pq, &len)) == NULL)
		fx_die("out of memory");
	if (cli.recording && cli.nanswers < ANSWERS_MAX) {
		cli.answers[cli.nanswers].status = c->status;
		cli.answers[cli.nanswers++].body = strdup(ans);
	}
	if (strncmp(pq, "/api/v1/stats/", 14) == 0 && strstr(pq, ".sig") == NULL) {
		free(cli.last_doc);
		if ((cli.last_doc = malloc(len + 1)) == NULL)
			fx_die("out of memory");
		memcpy(cli.last_doc, ans, len + 1);
		cli.last_doclen = len;
	}
	if (c->status == 0) {
		rc = CURLE_COULDNT_CONNECT;
		goto out;
	}
	if (c->max > 0 && (curl_off_t)len > c->max) {
		rc = CURLE_FILESIZE_EXCEEDED;
		goto out;
	}
	if (!c->noprogress && c->xfer != NULL &&
	    c->xfer(c->xfer_data, (curl_off_t)len, (curl_off_t)len, 0, 0) != 0) {
		rc = CURLE_ABORTED_BY_CALLBACK;
		goto out;
	}
	/* In pieces as libcurl hands them over. */
	for (at = 0; at < len; at += k) {
		k = len - at < CURL_MAX_WRITE_SIZE ? len - at : CURL_MAX_WRITE_SIZE;
		if (c->write != NULL ? c->write(ans + at, 1, k, c->write_data) != k
		                     : fwrite(ans + at, 1, k, c->write_data) != k) {
			rc = CURLE_WRITE_ERROR;
			goto out;
		}
	}
out:
	free(ans);
	return rc;
}

/* --- one command ----------------------------------------------------------------------------- */

static int
run(const struct command *cmd)
{
	char *argv[ARGS_MAX + 8];
	FILE *out = stdout, *err = stderr;
	int argc = 0, i, rc;

	for (i = 0; cmd->args[i] != NULL; i++)
		if ((argv[argc++] = arg(cmd->args[i])) == NULL)
			fx_die("out of memory");
	if (cmd->run != cmd_stats || strcmp(cmd->args[1], "merge") != 0) {
		argv[argc++] = strdup("--url");
		argv[argc++] = strdup(FX_URL);
	}
	if (cmd->run != cmd_audit && cmd->run != cmd_stats) {
		argv[argc++] = strdup("--key");
		argv[argc++] = strdup(cli.key);
	}
	argv[argc] = NULL;
	/* Each audit finds the checkpoint seen before case B was made. */
	write_file(cli.state, fx.checkpoint, strlen(fx.checkpoint));
	cli.served = 0;
	free(cli.last_doc);
	cli.last_doc = NULL;
	stdout = stderr = cli.null;
	rc = cmd->run(argc, argv);
	stdout = out;
	stderr = err;
	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(cli.last_doc);
	cli.last_doc = NULL;
	return rc;
}

/* FUZZ_CLI_SEEDS: the text with the fixture's values put back as placeholders. */
static char *
unexpand(const char *s)
{
	static const char *const names[] = { "@CASE@", "@CASE2@", "@ITEM@", "@ITEM2@", "@ITEMM@",
		"@COLL@", "@COLLREF@", "@REF@", "@TOKEN@", "@KIDA@", "@KIDC@", "@KIDD@", "@KIDR@",
		"@NEWID@" };
	char *out = strdup(s), *at;
	const char *v;
	size_t i, k, vl, nl;

	for (i = 0; out != NULL && i < sizeof names / sizeof names[0]; i++) {
		for (k = 0; k < fx.nvars && strcmp(fx.vars[k].name, names[i]) != 0; k++)
			;
		if (k == fx.nvars)
			continue;
		v = fx.vars[k].value;
		vl = strlen(v);
		nl = strlen(names[i]);
		while (vl >= nl && (at = strstr(out, v)) != NULL) {
			memcpy(at, names[i], nl);
			memmove(at + nl, at + vl, strlen(at + vl) + 1);
		}
	}
	return out;
}

static void
write_seeds(const char *dir)
{
	char path[600], *body;
	uint8_t head[3];
	size_t i, k, s;
	FILE *f;

	cli.recording = 1;
	for (i = 0; i < NCOMMANDS; i++) {
		cli.nanswers = 0;
		dprintf(2, "%s: exit %d, %zu requests\n", commands[i].name, run(&commands[i]),
		    cli.nanswers);
		for (k = 0; k < cli.nanswers; k++) {
			for (s = 0; s < NSTATUSES && statuses[s] != cli.answers[k].status; s++)
				;
			head[0] = (uint8_t)i;
			head[1] = (uint8_t)k;
			head[2] = (uint8_t)(s % NSTATUSES);
			snprintf(path, sizeof path, "%s/%s-%zu", dir, commands[i].name, k);
			if ((body = unexpand(cli.answers[k].body)) == NULL ||
			    (f = fopen(path, "wb")) == NULL)
				fx_die(path);
			fwrite(head, 1, sizeof head, f);
			fputs(body, f);
			fclose(f);
			free(body);
			free(cli.answers[k].body);
		}
	}
	_exit(0); /* libFuzzer takes exit() for a failure */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct command *cmd;
	const char *dir;
	int rc;

	cli_setup();
	if ((dir = getenv("FUZZ_CLI_SEEDS")) != NULL)
		write_seeds(dir);
	if (size < 3)
		return 0;
	cmd = &commands[data[0] % NCOMMANDS];
	cli.target = data[1];
	cli.status = statuses[data[2] % NSTATUSES];
	cli.body = data + 3;
	cli.blen = size - 3;
	if (cmd->run == cmd_stats && strcmp(cmd->args[1], "merge") == 0) {
		/* Another service's document, signed by the key given. */
		char *sig;

		write_file(cli.doc, cli.body, cli.blen);
		sig = sign_doc((const char *)cli.body, cli.blen);
		write_file(cli.docsig, sig, strlen(sig));
		free(sig);
	}
	rc = run(cmd);
	if (rc < 0 || rc > 2)
		__builtin_trap();
	return 0;
}
