/*
 * meldpuntd's handlers without their HTTP layer, for the harnesses that
 * drive them: a fresh instance in a temporary directory, a real store with
 * a few cases, and requests written as text:
 *
 *	METHOD TARGET\n
 *	Name: value\n            (headers, any number)
 *	\n
 *	body
 *
 * Placeholders in the text (@CASE@, @TOKEN@, ... see fx_vars) become the
 * ids, tokens and envelopes of that store, so that a seed reaches past the
 * look-ups a fuzzer could never guess.  Signed routes are signed here with
 * a registered key unless the text brings its own Signature headers
 * (X-Signer: anna|carla|mallory picks the key).
 *
 * Every request runs inside one change of the store that is undone after
 * it, so each input meets the same store.  What is checked for each one is
 * what the API promises: the handler answers 2xx, or an error whose code is
 * one of API.md's with that code's status; never a 500 (a handler that
 * failed without saying why) nor a 503 (the store is healthy here).
 *
 * Included by one harness each (it defines functions).  Without
 * FX_REAL_MHD it also stands in for libmicrohttpd's look-up of query
 * arguments and headers.
 */
#include <ftw.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../contract_errors.h"

#include "../../server/extern.h"
#include "mp_b64.h"
#include "mp_envelope.h"
#include "mp_keyfile.h"
#include "mp_sig.h"
#include "mp_token.h"
#include "mp_wipe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FX_ORIGIN "fuzz.meldpunt.example/log"
#define FX_URL "http://fuzz.meldpunt.example"
#define FX_VARS 24
#define FX_HEADERS 4096

/* Which routes a harness drives. */
enum fx_family {
	FX_GET = 1,   /* GET routes of the API */
	FX_POST = 2,  /* POST routes of the API */
	FX_PAGES = 4, /* the residents' pages */
};

/* A harness's own look at every page or answer made (may be NULL). */
static void (*fx_look)(const char *body, size_t len);

static struct {
	char dir[256];
	struct mp_instance *in;
	struct server srv;
	struct mp_identity *anna, *bram, *carla, *dirk, *mallory, *rec;
	struct {
		const char *name;
		char *value;
	} vars[FX_VARS];
	size_t nvars;
	char *checkpoint; /* the log's, between case A and case B */
} fx;

/* --- failing loudly ------------------------------------------------------------------ */

static void fx_die(const char *what) __attribute__((noreturn));

/* Straight to the descriptor: a harness may have pointed stderr elsewhere. */
static void
fx_die(const char *what)
{
	dprintf(2, "fuzz fixture: %s\n", what);
	abort();
}

static void
fx_var(const char *name, const char *value)
{
	if (fx.nvars == FX_VARS || (fx.vars[fx.nvars].value = strdup(value)) == NULL)
		fx_die("too many placeholders");
	fx.vars[fx.nvars++].name = name;
}

/* --- the routes: server/http.c's table ------------------------------------------------- */

static const struct route *
fx_route(const char *method, const char *target, char *param)
{
	return route_find(method, target, param, NULL, 0);
}

static int
fx_in_family(const struct route *r, int family)
{
	int api = strncmp(r->pattern, "/api/", 5) == 0 || strcmp(r->pattern, "/healthz") == 0;

	if (!api)
		return (family & FX_PAGES) != 0;
	return (family & (strcmp(r->method, "GET") == 0 ? FX_GET : FX_POST)) != 0;
}

/* --- libmicrohttpd's look-ups, over the text's target and headers ---------------------- */

struct fx_conn {
	const char *query;   /* after '?', or NULL */
	const char *headers; /* "Name: value\n" lines */
	char *given[64];     /* values handed out, freed after the request */
	size_t ngiven;
};

static int
fx_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* libmicrohttpd's unescaping of arguments: '+' is a space, %XX a byte, a bad % stays. */
static char *
fx_unescape(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t i, o = 0;

	if (out == NULL)
		fx_die("out of memory");
	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && fx_hex((unsigned char)s[i + 1]) >= 0 &&
		    fx_hex((unsigned char)s[i + 2]) >= 0) {
			out[o++] = (char)(fx_hex((unsigned char)s[i + 1]) * 16 +
			    fx_hex((unsigned char)s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

static const char *
fx_give(struct fx_conn *c, char *v)
{
	if (c->ngiven == sizeof c->given / sizeof c->given[0]) {
		free(v);
		return NULL;
	}
	return c->given[c->ngiven++] = v;
}

static const char *fx_arg(struct fx_conn *c, const char *key) __attribute__((unused));

static const char *
fx_arg(struct fx_conn *c, const char *key)
{
	const char *p = c->query, *amp, *eq;
	size_t n, klen;
	char *k;
	int same;

	while (p != NULL && *p != '\0') {
		amp = p + strcspn(p, "&");
		eq = memchr(p, '=', (size_t)(amp - p));
		klen = (size_t)((eq != NULL ? eq : amp) - p);
		k = fx_unescape(p, klen);
		same = strcasecmp(k, key) == 0;
		free(k);
		if (same) {
			if (eq == NULL)
				return NULL; /* "?key" without a value */
			n = (size_t)(amp - eq - 1);
			return fx_give(c, fx_unescape(eq + 1, n));
		}
		p = *amp != '\0' ? amp + 1 : amp;
	}
	return NULL;
}

static const char *
fx_header(struct fx_conn *c, const char *name)
{
	const char *p = c->headers, *nl, *colon, *v, *e;
	size_t n = strlen(name);
	char *copy;

	for (; p != NULL && *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		colon = memchr(p, ':', (size_t)(nl - p));
		if (colon == NULL || (size_t)(colon - p) != n || strncasecmp(p, name, n) != 0)
			continue;
		for (v = colon + 1; v < nl && (*v == ' ' || *v == '\t'); v++)
			;
		for (e = nl; e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'); e--)
			;
		if ((copy = strndup(v, (size_t)(e - v))) == NULL)
			fx_die("out of memory");
		return fx_give(c, copy);
	}
	return NULL;
}

#ifndef FX_REAL_MHD
const char *
MHD_lookup_connection_value(
    struct MHD_Connection *connection, enum MHD_ValueKind kind, const char *key)
{
	struct fx_conn *c = (struct fx_conn *)connection;

	if (kind == MHD_GET_ARGUMENT_KIND)
		return fx_arg(c, key);
	if (kind == MHD_HEADER_KIND)
		return fx_header(c, key);
	return NULL;
}
#endif

/* --- the instance ---------------------------------------------------------------------- */

/* Register id's keys in the store, as `meldpunt key add` does. */
static void
fx_register(const struct mp_identity *id)
{
	struct mp_key k;

	memset(&k, 0, sizeof k);
	snprintf(k.name, sizeof k.name, "%s", id->name);
	snprintf(k.role, sizeof k.role, "%s", id->role);
	memcpy(k.sign_pk, id->sign_pk, 32);
	memcpy(k.box_pk, id->box_pk, 32);
	k.has_sign = id->has_sign;
	mp_kid(k.kid, k.box_pk);
	mp_today(k.added);
	if (mp_store_key_add(fx.srv.st, &k) != 0)
		fx_die("mp_store_key_add");
}

/*
 * The same keys for a name in every run, so that what a seed holds (an
 * answer with envelopes sealed to Anna, a kid) means the same each time.
 */
static struct mp_identity *
fx_key(const char *name, const char *role)
{
	struct mp_identity *id = mp_identity_new(name, role);
	uint8_t seed[32];

	if (id == NULL)
		fx_die("mp_identity_new");
	crypto_generichash(seed, sizeof seed, (const uint8_t *)name, strlen(name), NULL, 0);
	if (id->has_sign)
		crypto_sign_seed_keypair(id->sign_pk, id->sign_sk, seed);
	seed[0] ^= 1;
	crypto_box_seed_keypair(id->box_pk, id->box_sk, seed);
	return id;
}

static void
fx_kid_var(const char *name, const struct mp_identity *id)
{
	char kid[MP_KID_TEXT_LEN + 1];

	mp_kid(kid, id->box_pk);
	fx_var(name, kid);
}

/* A fixed id: b64u of 16 bytes of text. */
static void
fx_id(char out[MP_ID_LEN + 1], const char *bytes16)
{
	if (mp_b64u_encode(out, MP_ID_LEN + 1, (const uint8_t *)bytes16, 16) != 0)
		fx_die("mp_b64u_encode");
}

/* Plaintext sealed as kind for case_id to the staff (and the reporter's pk); compact JSON. */
static char *
fx_seal(const char *kind, const char *case_id, const uint8_t *reporter, const char *text)
{
	struct mp_box_pk rcpt[4];
	size_t n = 0;
	char *s;
	json_t *env;

	memcpy(rcpt[n++].pk, fx.anna->box_pk, 32);
	memcpy(rcpt[n++].pk, fx.bram->box_pk, 32);
	memcpy(rcpt[n++].pk, fx.rec->box_pk, 32);
	if (reporter != NULL)
		memcpy(rcpt[n++].pk, reporter, 32);
	if ((env = mp_envelope_seal(kind, case_id, (const uint8_t *)text, strlen(text), rcpt, n)) ==
	        NULL ||
	    (s = json_dumps(env, JSON_COMPACT)) == NULL)
		fx_die("mp_envelope_seal");
	json_decref(env);
	return s;
}

static void
fx_seal_var(const char *name, const char *kind, const char *case_id, const uint8_t *reporter,
    const char *text)
{
	char *s = fx_seal(kind, case_id, reporter, text);

	fx_var(name, s);
	free(s);
}

/* A case with its report, as report_submit makes one (with a token) or an intake (without). */
static void
fx_case(const char *id, const char *item, const char *channel, const char *report,
    uint8_t reporter_pk[32])
{
	char token[MP_TOKEN_TEXT_LEN + 1], url[600], day[11], ref[24], *env;
	struct mp_case_new nc;
	uint8_t tag[32];

	mp_today(day);
	env = fx_seal("report", id, NULL, report);
	memset(&nc, 0, sizeof nc);
	nc.id = id;
	nc.day = day;
	nc.channel = channel;
	nc.language = "nl";
	nc.anonymous = reporter_pk == NULL;
	nc.item_id = item;
	nc.envelope = env;
	if (reporter_pk != NULL) {
		if (token_issue(&fx.srv, token, url, sizeof url, tag, reporter_pk) != 0)
			fx_die("token_issue");
		nc.token_tag = tag;
		nc.reporter_pk = reporter_pk;
		fx_var("@TOKEN@", token);
	}
	if (mp_store_case_create(fx.srv.st, &nc, ref) != 0)
		fx_die("mp_store_case_create");
	free(env);
}

/*
 * A, a report from the web with a token, classified, taken in, with a
 * caseworker's message and in a collective; B, an intake by phone without
 * a token; the log's checkpoint between the two (an auditor's state).
 */
static void
fx_cases(void)
{
	static const char report[] =
	    "{\"description\":\"Ik werd geweigerd bij de ingang.\","
	    "\"language\":\"nl\",\"role\":\"victim\",\"wish\":\"advice\",\"location\":\"Centrum\","
	    "\"incident_municipality\":\"leiden\",\"residence_municipality\":\"elsewhere\","
	    "\"grounds\":[\"origin\",\"religion\"],\"domain\":\"hospitality\","
	    "\"manifestation\":\"refusal\",\"contact\":{\"name\":\"A\",\"preferred\":\"email\","
	    "\"email\":\"a@example.nl\"},\"received\":\"2026-01-05\"}";
	const char *grounds[] = { "origin" };
	char a[MP_ID_LEN + 1], b[MP_ID_LEN + 1], id[MP_ID_LEN + 1], day[11], *env;
	char b64[MP_B64U_LEN(80)];
	struct mp_collective coll;
	struct mp_case c;
	uint8_t pk[32], K[32], sealed[80], root[32];
	uint64_t size;
	json_t *j;

	mp_today(day);
	fx_id(a, "meldpunt/case-A.");
	fx_id(b, "meldpunt/case-B.");
	fx_id(id, "meldpunt/item-A.");
	fx_case(a, id, "web", report, pk);
	fx_var("@CASE@", a);
	fx_var("@ITEM@", id);
	if (mp_store_case_get(fx.srv.st, a, &c) != 0)
		fx_die("mp_store_case_get");
	fx_var("@REF@", c.ref);
	mp_case_clear(&c);
	fx_seal_var("@MSG@", "message", a, pk, "{\"text\":\"Hoe gaat het?\",\"author\":\"Anna\"}");
	fx_seal_var("@NOTE@", "note", a, NULL, "{\"text\":\"Gebeld.\",\"author\":\"Anna\"}");
	/* A caseworker's message, its item key re-sealed to Dirk, who came after it: a share. */
	env = fx_seal("message", a, pk, "{\"text\":\"Wij nemen contact op.\",\"author\":\"Anna\"}");
	fx_id(id, "meldpunt/item-M.");
	if (mp_store_item_add(fx.srv.st, a, id, "message", "caseworker", day, env, 0) != 0 ||
	    (j = json_loads(env, 0, NULL)) == NULL ||
	    mp_envelope_item_key(K, j, fx.anna->box_pk, fx.anna->box_sk) != 0 ||
	    crypto_box_seal(sealed, K, sizeof K, fx.dirk->box_pk) != 0 ||
	    mp_b64u_encode(b64, sizeof b64, sealed, sizeof sealed) != 0)
		fx_die("the message of case A");
	fx_var("@ITEMM@", id);
	fx_var("@SEALED@", b64);
	sodium_memzero(K, sizeof K);
	json_decref(j);
	free(env);
	if (mp_store_case_classify(fx.srv.st, a,
	        "{\"grounds\":[\"origin\"],"
	        "\"domain\":\"hospitality\",\"manifestation\":\"refusal\",\"incident_municipality\":"
	        "\"leiden\",\"residence_municipality\":\"elsewhere\"}",
	        grounds, 1, day) != 0 ||
	    mp_store_case_move(fx.srv.st, a, "received", "intake", NULL, day) != 0)
		fx_die("the classification of case A");
	if (log_checkpoint(&fx.srv, &fx.checkpoint, &size, root) != 0)
		fx_die("log_checkpoint");

	fx_id(id, "meldpunt/item-B.");
	fx_case(b, id, "phone", "{\"description\":\"Telefoon.\"}", NULL);
	fx_var("@CASE2@", b);
	fx_var("@ITEM2@", id);
	/* A case id and a report envelope for an intake that never happened. */
	fx_id(id, "meldpunt/case-N.");
	fx_var("@NEWID@", id);
	fx_seal_var("@REPORT@", "report", id, NULL, "{\"description\":\"Balie.\"}");

	if (mp_store_collective_create(fx.srv.st, "Bar Centrum", day, &coll) != 0 ||
	    mp_store_collective_link(fx.srv.st, coll.id, a, day) != 0)
		fx_die("the collective");
	fx_var("@COLL@", coll.id);
	fx_var("@COLLREF@", coll.ref);
	day[4] = '\0';
	fx_var("@YEAR@", day);
}

static int
fx_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The instance goes when the harness ends (a crash leaves it, with the crash). */
static void
fx_cleanup(void)
{
	if (fx.dir[0] != '\0')
		(void)nftw(fx.dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static void
fx_setup(void)
{
	char err[512], path[512];
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	if (fx.in != NULL)
		return;
	if (sodium_init() < 0)
		fx_die("sodium_init");
	snprintf(fx.dir, sizeof fx.dir, "%s/meldpunt-fuzz-XXXXXX", base);
	if (mkdtemp(fx.dir) == NULL)
		fx_die("mkdtemp");
	atexit(fx_cleanup);
	snprintf(path, sizeof path, "%s/inst", fx.dir);
	if (mp_instance_create(path, FX_ORIGIN, FX_URL, NULL, 0, err, sizeof err) != 0 ||
	    mp_instance_load(&fx.in, path, err, sizeof err) != 0)
		fx_die(err);
	fx.srv.in = fx.in;
	if (mp_instance_path(path, sizeof path, fx.in, MP_INSTANCE_DB) != 0 ||
	    mp_store_open(&fx.srv.st, path, fx.in->sec->db_key) != 0)
		fx_die("mp_store_open");
	if ((fx.srv.replay = replay_new()) == NULL || (fx.srv.log = log_new()) == NULL ||
	    ui_load(&fx.srv.ui, fx.in, err, sizeof err) != 0)
		fx_die("the server's caches and texts");
	fx.anna = fx_key("Anna", "caseworker");
	fx.bram = fx_key("Bram", "caseworker");
	fx.carla = fx_key("Carla", "auditor");
	fx.rec = fx_key("Herstel", "recovery");
	fx.mallory = fx_key("Mallory", "caseworker"); /* never registered */
	fx.dirk = fx_key("Dirk", "caseworker");
	fx_register(fx.anna);
	fx_register(fx.bram);
	fx_register(fx.carla);
	fx_register(fx.rec);
	fx_cases();
	/* Dirk joins after the cases: their items are shared with him. */
	fx_register(fx.dirk);
	fx_kid_var("@KIDA@", fx.anna);
	fx_kid_var("@KIDC@", fx.carla);
	fx_kid_var("@KIDD@", fx.dirk);
	fx_kid_var("@KIDR@", fx.rec);
}

/* --- placeholders ------------------------------------------------------------------------- */

/* data with every placeholder replaced; malloc'ed, NUL-terminated, its length in *outlen. */
static char *
fx_expand(const uint8_t *data, size_t size, size_t *outlen)
{
	size_t cap = size + 1, o = 0, i, k, n;
	char *out = malloc(cap), *bigger;

	if (out == NULL)
		fx_die("out of memory");
	for (i = 0; i < size;) {
		for (k = 0; data[i] == '@' && k < fx.nvars; k++) {
			n = strlen(fx.vars[k].name);
			if (size - i >= n && memcmp(data + i, fx.vars[k].name, n) == 0)
				break;
		}
		if (data[i] == '@' && k < fx.nvars) {
			n = strlen(fx.vars[k].value);
			if (o + n + 1 > cap) {
				cap = (o + n + 1) * 2;
				if ((bigger = realloc(out, cap)) == NULL)
					fx_die("out of memory");
				out = bigger;
			}
			memcpy(out + o, fx.vars[k].value, n);
			o += n;
			i += strlen(fx.vars[k].name);
			continue;
		}
		if (o + 2 > cap) {
			cap = (o + 2) * 2;
			if ((bigger = realloc(out, cap)) == NULL)
				fx_die("out of memory");
			out = bigger;
		}
		out[o++] = (char)data[i++];
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* --- what every answer must be ------------------------------------------------------------- */

/* An error must be one of API.md's, with its status, and not the service failing. */
static void
fx_check_error(const struct api_err *e)
{
	if (e->code == NULL || e->status == 500 || e->status == 503 || e->message[0] == '\0') {
		dprintf(2, "fuzz fixture: %u %s: %s\n", e->status, e->code ? e->code : "(none)",
		    e->message);
		__builtin_trap();
	}
	if (contract_error_status(e->code) != (long)e->status) {
		dprintf(2, "fuzz fixture: %u %s is not in API.md\n", e->status, e->code);
		__builtin_trap();
	}
}

static void
fx_check_reply(const struct route *rt, const struct reply *out)
{
	int page = strncmp(rt->pattern, "/api/", 5) != 0 && strcmp(rt->pattern, "/healthz") != 0;

	if (out->json == NULL && out->body == NULL && out->text == NULL)
		__builtin_trap();
	/* A page answers an error as a page with its status; the API only with 2xx here. */
	if (page ? (out->status != 200 && out->status != 400 && out->status != 404 &&
	               out->status != 409 && out->status != 413)
	         : (out->status < 200 || out->status > 299)) {
		dprintf(2, "fuzz fixture: %s answered %u\n", rt->pattern, out->status);
		__builtin_trap();
	}
}

/* --- one request ------------------------------------------------------------------------------ */

static const struct mp_identity *
fx_signer(struct fx_conn *c, const struct route *rt)
{
	const char *who = fx_header(c, "X-Signer");

	if (who != NULL && strcmp(who, "mallory") == 0)
		return fx.mallory;
	if (who != NULL && strcmp(who, "anna") == 0)
		return fx.anna;
	if (who != NULL && strcmp(who, "carla") == 0)
		return fx.carla;
	return rt->auth == AUTH_AUDITOR ? fx.carla : fx.anna;
}

/* Signature headers over the request, appended to hdrs. */
static void
fx_sign(char *hdrs, size_t hlen, const struct mp_identity *id, const char *method,
    const char *target, const uint8_t *body, size_t len)
{
	char sig_input[MP_SIG_PARAMS_LEN + 16], signature[128], digest[MP_SIG_DIGEST_LEN];
	char path[2048];
	const char *q = strchr(target, '?');
	size_t plen = q != NULL ? (size_t)(q - target) : strlen(target), used = strlen(hdrs);
	int n;

	if (plen >= sizeof path)
		return;
	memcpy(path, target, plen);
	path[plen] = '\0';
	if (mp_sig_sign(sig_input, sizeof sig_input, signature, sizeof signature, digest,
	        sizeof digest, method, path, q != NULL ? q : "?", len > 0 ? body : NULL, len,
	        (long long)time(NULL), id->sign_pk, id->sign_sk) != 0)
		return; /* a target with control characters: left unsigned */
	n = snprintf(hdrs + used, hlen - used, "Signature-Input: %s\nSignature: %s\n%s%s%s",
	    sig_input, signature, len > 0 ? "Content-Digest: " : "", len > 0 ? digest : "",
	    len > 0 ? "\n" : "");
	if (n < 0 || (size_t)n >= hlen - used)
		hdrs[used] = '\0';
}

/* The answer as http.c would send it: its body (malloc'ed) and status. */
static char *
fx_answer(int rc, const struct reply *out, const struct api_err *e, unsigned *status)
{
	json_t *j;
	char *s;

	if (rc == 0) {
		*status = out->status;
		if (out->json != NULL)
			return json_dumps(out->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
		return strdup(out->body != NULL ? out->body : out->text);
	}
	*status = e->status;
	j = json_pack("{s:{s:s, s:s}}", "error", "code", e->code, "message", e->message);
	if (j != NULL && e->field[0] != '\0')
		json_object_set_new(json_object_get(j, "error"), "field", json_string(e->field));
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

/*
 * Run the request text in data (placeholders expanded) when its route is of
 * family, and check the answer.  With answer not NULL, the answer's body
 * (malloc'ed) and status come back there.  0, or -1 when no route of
 * family takes the request.
 */
static int
fx_call(const uint8_t *data, size_t size, int family, char **answer, unsigned *status)
{
	struct reply out = { 0, NULL, NULL, NULL, NULL, 0 };
	struct api_err e;
	const struct route *rt;
	struct request rq;
	struct fx_conn conn;
	char *text, *line_end, *sp, *hend, *method, *target, hdrs[FX_HEADERS], *page;
	size_t len, blen, i;
	const uint8_t *body;
	int rc, ran = -1;

	fx_setup();
	text = fx_expand(data, size, &len);
	/* As http.c starts it: a handler that fails without saying why leaves this. */
	memset(&e, 0, sizeof e);
	e.status = 500;
	e.code = "unavailable";
	memset(&rq, 0, sizeof rq);
	memset(&conn, 0, sizeof conn);
	/* "METHOD TARGET\n" */
	if ((line_end = memchr(text, '\n', len)) == NULL ||
	    (sp = memchr(text, ' ', (size_t)(line_end - text))) == NULL)
		goto out;
	*sp = '\0';
	*line_end = '\0';
	method = text;
	target = sp + 1;
	if (strlen(target) != (size_t)(line_end - target) || target[0] != '/' ||
	    (rt = fx_route(method, target, rq.param)) == NULL || !fx_in_family(rt, family))
		goto out;
	/* Headers up to a blank line, then the body (which may hold NUL bytes). */
	hend = line_end + 1;
	while (hend < text + len && *hend != '\n') {
		char *nl = memchr(hend, '\n', (size_t)(text + len - hend));
		hend = nl != NULL ? nl + 1 : text + len;
	}
	i = (size_t)(hend - (line_end + 1));
	if (i >= sizeof hdrs / 2 || memchr(line_end + 1, '\0', i) != NULL)
		goto out;
	memcpy(hdrs, line_end + 1, i);
	hdrs[i] = '\0';
	body = hend < text + len ? (const uint8_t *)hend + 1 : (const uint8_t *)(text + len);
	blen = (size_t)((const uint8_t *)(text + len) - body);
	if (blen > rt->limit)
		goto out; /* http.c answers 413 before a handler sees it */
	conn.headers = hdrs;
	conn.query = strchr(target, '?') != NULL ? strchr(target, '?') + 1 : NULL;
	rq.uri = target;
	rq.method = method;
	rq.conn = (struct MHD_Connection *)&conn;
	rq.route = rt;
	if (blen > 0) {
		if ((rq.body = malloc(blen + 1)) == NULL)
			fx_die("out of memory");
		memcpy(rq.body, body, blen);
		rq.body[blen] = '\0';
		rq.len = rq.cap = blen;
	}
	if (rt->auth != AUTH_PUBLIC && fx_header(&conn, "Signature") == NULL)
		fx_sign(hdrs, sizeof hdrs, fx_signer(&conn, rt), method, target, rq.body, rq.len);
	/* A fresh log cache: the undone changes of the last input must leave nothing behind. */
	log_free(fx.srv.log);
	if ((fx.srv.log = log_new()) == NULL || mp_store_begin(fx.srv.st) != 0)
		fx_die("mp_store_begin");
	if (rt->auth != AUTH_PUBLIC && auth_check(&fx.srv, &rq, &e) != 0)
		rc = -1;
	else
		rc = rt->fn(&fx.srv, &rq, &out, &e);
	mp_store_end(fx.srv.st, 0);
	/* FX_TRACE=1: what each input got, to see how far the seeds reach. */
	if (getenv("FX_TRACE") != NULL)
		dprintf(2, "fx: %s %s: %u %s %s\n", method, rt->pattern,
		    rc == 0 ? out.status : e.status, rc == 0 ? "" : e.code,
		    rc == 0 ? "" : e.message);
	if (rc != 0) {
		fx_check_error(&e);
		/* What http.c sends instead on the pages' routes. */
		if (strncmp(target, "/api/", 5) != 0 &&
		    (page = page_error(&fx.srv, &rq, &e)) != NULL) {
			if (fx_look != NULL)
				fx_look(page, strlen(page));
			mp_wipe_free(page);
		}
	} else {
		fx_check_reply(rt, &out);
		if (fx_look != NULL && out.body != NULL)
			fx_look(out.body, strlen(out.body));
	}
	if (answer != NULL && (*answer = fx_answer(rc, &out, &e, status)) == NULL)
		fx_die("out of memory");
	json_decref(out.json);
	mp_wipe_free(out.body);
	ran = 0;
out:
	if (rq.body != NULL)
		mp_wipe_free(rq.body);
	for (i = 0; i < conn.ngiven; i++)
		free(conn.given[i]);
	free(text);
	return ran;
}

static void fx_request(const uint8_t *data, size_t size, int family) __attribute__((unused));

static void
fx_request(const uint8_t *data, size_t size, int family)
{
	(void)fx_call(data, size, family, NULL, NULL);
}
