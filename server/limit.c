/*
 * Rate limits and proofs of work (docs/ABUSE.md), in memory only.
 *
 * A client is its address (IPv6: its /64), hashed with a key drawn at random
 * and replaced every day.  The tables hold those hashes, token counts and
 * the seconds of a clock that starts at boot: never an address, never a
 * time of day, and nothing that links one day's hashes to the next day's.
 * Every table has a fixed size, allocated once when the service starts; a
 * full one forgets the client that lost least by being forgotten.
 *
 * A proof of work is asked only during a flood of reports: a challenge is a
 * MAC over the minute and the difficulty, so the server checks it without
 * remembering whom it gave it to; spent proofs are remembered until their
 * challenge expires, so that none is taken twice.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extern.h"
#include "mp_b64.h"

#define CLIENT_SLOTS 16384 /* (client, class) buckets */
#define CLIENT_PROBE 8
#define CONN_SLOTS 4096 /* above the connection limit: never full */
#define CONN_PROBE 16
#define CONN_CLASS 0xff  /* hashed apart from the request classes */
#define SPENT_SLOTS 8192 /* above all_report for POW_MINUTES: never full */
#define SPENT_PROBE 16
#define POW_MINUTES 10     /* a challenge is good for this many minutes */
#define CHALLENGE_BYTES 21 /* minute (4, big-endian), bits (1), MAC (16) */
#define CHALLENGE_TEXT 28  /* its b64u */
#define NONCE_MAX 64
#define PROOF_MAX (CHALLENGE_TEXT + 1 + NONCE_MAX)
#define ID_MAX 65 /* a kind byte and 64 bytes */

struct bucket {
	double tokens;
	double at; /* monotonic seconds of the last refill */
};

struct slot {
	uint8_t key[16]; /* keyed hash of the class and the client */
	int used;
	int cls;
	struct bucket b;
};

struct conn_slot {
	uint8_t key[16];
	unsigned count; /* open connections; 0: a free slot */
};

struct spent {
	uint8_t hash[16]; /* the tail of the proof's SHA-256 */
	uint32_t minute;  /* its challenge's */
	int used;
};

struct limits {
	pthread_mutex_t lock;
	struct mp_limits pol;
	uint8_t day_key[32];
	long long day; /* of day_key, in days since 1970 (UTC) */
	uint8_t pow_key[32];
	struct bucket all[MP_LIMIT_NCLASSES];
	struct bucket flood, unproven;
	int flooding;
	struct slot slots[CLIENT_SLOTS];
	struct conn_slot conns[CONN_SLOTS];
	struct spent spent[SPENT_SLOTS];
};

enum who {
	WHO_LOCAL,  /* loopback, no X-Forwarded-For, local exempt: no limits */
	WHO_SHARED, /* counts against the limits of all clients only */
	WHO_ADDR,   /* a client of its own */
};

struct client {
	enum who who;
	uint8_t id[ID_MAX]; /* 4 or 6 then the address bytes; 0 then a header's text */
	size_t len;
};

enum verdict { POW_OK, POW_BAD, POW_FULL };

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long long
limit_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec;
}

static uint32_t
minute(double now)
{
	return (uint32_t)(now / 60);
}

struct limits *
limits_new(const struct mp_policy *p)
{
	struct limits *l;
	double now = now_seconds();
	int i;

	if ((l = calloc(1, sizeof *l)) == NULL)
		return NULL;
	if (pthread_mutex_init(&l->lock, NULL) != 0) {
		free(l);
		return NULL;
	}
	l->pol = p->limits;
	l->day = -1;
	randombytes_buf(l->pow_key, sizeof l->pow_key);
	for (i = 0; i < MP_LIMIT_NCLASSES; i++) {
		l->all[i].tokens = l->pol.all[i].requests;
		l->all[i].at = now;
	}
	l->flood.tokens = l->pol.flood.requests;
	l->unproven.tokens = l->pol.unproven.requests;
	l->flood.at = l->unproven.at = now;
	return l;
}

void
limits_free(struct limits *l)
{
	if (l == NULL)
		return;
	pthread_mutex_destroy(&l->lock);
	sodium_memzero(l, sizeof *l);
	free(l);
}

/* --- who is asking ------------------------------------------------------------------ */

/* Fill c->id from an address of family (AF_INET: 4 bytes, AF_INET6: 16); 1 if loopback. */
static int
address_id(struct client *c, int family, const uint8_t *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (family == AF_INET6 && memcmp(a, mapped, sizeof mapped) == 0)
		return address_id(c, AF_INET, a + sizeof mapped);
	if (family == AF_INET) {
		c->id[0] = 4;
		memcpy(c->id + 1, a, 4);
		c->len = 5;
		return a[0] == 127;
	}
	/* A /64 is one household's or one host's: its addresses cost nothing to change. */
	c->id[0] = 6;
	memcpy(c->id + 1, a, 8);
	c->len = 9;
	return memcmp(a, in6addr_loopback.s6_addr, 16) == 0;
}

/* 1 if sa is loopback, 0 if not, -1 for no IP address; c->id filled. */
static int
sockaddr_id(struct client *c, const struct sockaddr *sa)
{
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET)
		return address_id(c, AF_INET,
		    (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return address_id(c, AF_INET6,
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
	return -1;
}

/*
 * The client a proxy on loopback names: the last entry of X-Forwarded-For,
 * the one the proxy itself added (those before it come from the client).
 */
static void
forwarded_id(struct client *c, const char *xff)
{
	const char *s = strrchr(xff, ',');
	char text[64];
	uint8_t a[16];
	size_t n;

	s = s ? s + 1 : xff;
	while (*s == ' ' || *s == '\t')
		s++;
	for (n = strlen(s); n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'); n--)
		;
	if (n < sizeof text) {
		memcpy(text, s, n);
		text[n] = '\0';
		if (inet_pton(AF_INET, text, a) == 1) {
			address_id(c, AF_INET, a);
			goto out;
		}
		if (inet_pton(AF_INET6, text, a) == 1) {
			address_id(c, AF_INET6, a);
			goto out;
		}
	}
	/* Not an address: the text itself stands for the client. */
	c->id[0] = 0;
	if (n > ID_MAX - 1)
		n = ID_MAX - 1;
	memcpy(c->id + 1, s, n);
	c->len = n + 1;
out:
	sodium_memzero(text, sizeof text);
	sodium_memzero(a, sizeof a);
}

static void
request_client(const struct limits *l, struct request *rq, struct client *c)
{
	const union MHD_ConnectionInfo *ci;
	const char *xff;
	int loop;

	memset(c, 0, sizeof *c);
	ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	loop = ci != NULL ? sockaddr_id(c, ci->client_addr) : -1;
	if (loop == 0) {
		c->who = WHO_ADDR;
		return;
	}
	/* Only a process on this host can be trusted to say who its client is. */
	if (loop == 1 && (xff = request_header(rq, "X-Forwarded-For")) != NULL) {
		forwarded_id(c, xff);
		c->who = WHO_ADDR;
		return;
	}
	c->who = loop == 1 && !l->pol.local_shared ? WHO_LOCAL : WHO_SHARED;
}

/* --- buckets ---------------------------------------------------------------------------- */

static void
refill(struct bucket *b, const struct mp_rate *r, double now)
{
	if (now > b->at)
		b->tokens += (now - b->at) * r->requests / r->seconds;
	if (b->tokens > r->requests)
		b->tokens = r->requests;
	b->at = now;
}

/* Whole seconds until b holds a token again (b refilled just now), at least 1. */
static unsigned
wait_for(const struct bucket *b, const struct mp_rate *r)
{
	double s = (1.0 - b->tokens) * r->seconds / r->requests;
	unsigned n;

	if (s < 1)
		return 1;
	n = (unsigned)s;
	return (double)n < s ? n + 1 : n;
}

/* A new day: a new key, and the old day's hashes are forgotten (open connections aside). */
static void
new_day(struct limits *l)
{
	long long day = (long long)time(NULL) / 86400;

	if (day == l->day)
		return;
	l->day = day;
	randombytes_buf(l->day_key, sizeof l->day_key);
	sodium_memzero(l->slots, sizeof l->slots);
}

static void
client_key(const struct limits *l, const struct client *c, int cls, uint8_t key[16])
{
	crypto_generichash_state st;
	uint8_t b = (uint8_t)cls;

	crypto_generichash_init(&st, l->day_key, sizeof l->day_key, 16);
	crypto_generichash_update(&st, &b, 1);
	crypto_generichash_update(&st, c->id, c->len);
	crypto_generichash_final(&st, key, 16);
	sodium_memzero(&st, sizeof st);
}

static size_t
slot_index(const uint8_t *h, size_t n)
{
	return ((size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 | (size_t)h[3] << 24) % n;
}

/* How full a bucket would be now, 0 to 1: a full one lost nothing if forgotten. */
static double
fullness(const struct limits *l, const struct slot *s, double now)
{
	const struct mp_rate *r = &l->pol.client[s->cls];
	double t = s->b.tokens + (now - s->b.at) * r->requests / r->seconds;

	return t >= r->requests ? 1.0 : t / r->requests;
}

/* The bucket of (client, class): found, or made in a free slot or in the idlest one. */
static struct bucket *
client_bucket(struct limits *l, const uint8_t key[16], int cls, double now)
{
	size_t at = slot_index(key, CLIENT_SLOTS), i;
	struct slot *s, *v = NULL;

	for (i = 0; i < CLIENT_PROBE; i++) {
		s = &l->slots[(at + i) % CLIENT_SLOTS];
		if (s->used && memcmp(s->key, key, 16) == 0)
			return &s->b;
		if (v != NULL && !v->used)
			continue;
		if (v == NULL || !s->used || fullness(l, s, now) > fullness(l, v, now) ||
		    (fullness(l, s, now) == fullness(l, v, now) && s->b.at < v->b.at))
			v = s;
	}
	memcpy(v->key, key, 16);
	v->used = 1;
	v->cls = cls;
	v->b.tokens = l->pol.client[cls].requests;
	v->b.at = now;
	return &v->b;
}

/* --- proofs of work --------------------------------------------------------------------- */

static void
pow_mac(const struct limits *l, const uint8_t ch[CHALLENGE_BYTES], uint8_t mac[16])
{
	crypto_generichash(mac, 16, ch, 5, l->pow_key, sizeof l->pow_key);
}

static void
challenge(const struct limits *l, double now, char *out, size_t outlen)
{
	uint32_t m = minute(now);
	uint8_t ch[CHALLENGE_BYTES];

	ch[0] = (uint8_t)(m >> 24);
	ch[1] = (uint8_t)(m >> 16);
	ch[2] = (uint8_t)(m >> 8);
	ch[3] = (uint8_t)m;
	ch[4] = (uint8_t)l->pol.pow_bits;
	pow_mac(l, ch, ch + 5);
	if (mp_b64u_encode(out, outlen, ch, sizeof ch) != 0)
		out[0] = '\0';
}

int
limit_challenge_bits(const char *text)
{
	uint8_t ch[CHALLENGE_BYTES];

	if (strlen(text) != CHALLENGE_TEXT ||
	    mp_b64u_decode_exact(ch, sizeof ch, text, CHALLENGE_TEXT) != 0)
		return 0;
	return ch[4];
}

static int
zero_bits(const uint8_t h[32])
{
	int n = 0, i, b;

	for (i = 0; i < 32; i++) {
		if (h[i] == 0) {
			n += 8;
			continue;
		}
		for (b = 7; b >= 0 && !(h[i] >> b & 1); b--)
			n++;
		break;
	}
	return n;
}

static int
nonce_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NONCE_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		        (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/* Remember a proof until its challenge expires; a second time is a replay. */
static enum verdict
spend(struct limits *l, const uint8_t h[32], uint32_t m, uint32_t cur)
{
	/* The head of h is zeros by construction: its tail tells proofs apart. */
	const uint8_t *tail = h + 16;
	size_t at = slot_index(tail, SPENT_SLOTS), i;
	struct spent *s, *free_slot = NULL;
	int live;

	for (i = 0; i < SPENT_PROBE; i++) {
		s = &l->spent[(at + i) % SPENT_SLOTS];
		live = s->used && cur - s->minute < POW_MINUTES;
		if (live && memcmp(s->hash, tail, 16) == 0)
			return POW_BAD;
		if (!live && free_slot == NULL)
			free_slot = s;
	}
	if (free_slot == NULL)
		return POW_FULL;
	memcpy(free_slot->hash, tail, 16);
	free_slot->minute = m;
	free_slot->used = 1;
	return POW_OK;
}

/* "challenge.nonce": ours, not expired, SHA-256(challenge || nonce) with the bits, not spent. */
static enum verdict
pow_check(struct limits *l, const char *proof, double now)
{
	const char *dot = strchr(proof, '.');
	uint8_t ch[CHALLENGE_BYTES], mac[16], h[32];
	uint32_t m, cur = minute(now);
	crypto_hash_sha256_state st;

	if (dot == NULL || (size_t)(dot - proof) != CHALLENGE_TEXT || !nonce_ok(dot + 1) ||
	    mp_b64u_decode_exact(ch, sizeof ch, proof, CHALLENGE_TEXT) != 0)
		return POW_BAD;
	pow_mac(l, ch, mac);
	if (sodium_memcmp(mac, ch + 5, sizeof mac) != 0)
		return POW_BAD;
	m = (uint32_t)ch[0] << 24 | (uint32_t)ch[1] << 16 | (uint32_t)ch[2] << 8 | ch[3];
	if (m > cur || cur - m >= POW_MINUTES)
		return POW_BAD;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)proof, CHALLENGE_TEXT);
	crypto_hash_sha256_update(&st, (const uint8_t *)dot + 1, strlen(dot + 1));
	crypto_hash_sha256_final(&st, h);
	if (zero_bits(h) < ch[4])
		return POW_BAD;
	return spend(l, h, m, cur);
}

/* The value of name in a url-encoded body, copied as sent (a proof needs no escapes). */
static int
form_value(const uint8_t *body, size_t len, const char *name, char *out, size_t outlen)
{
	size_t i = 0, n = strlen(name), end, vlen;

	while (body != NULL && i < len) {
		for (end = i; end < len && body[end] != '&'; end++)
			;
		if (end - i > n && memcmp(body + i, name, n) == 0 && body[i + n] == '=') {
			vlen = end - i - n - 1;
			if (vlen >= outlen)
				return -1;
			memcpy(out, body + i + n + 1, vlen);
			out[vlen] = '\0';
			return 0;
		}
		i = end + 1;
	}
	out[0] = '\0';
	return 0;
}

/* The proof sent with a report: the form's pow field or the API's Meldpunt-Pow header. */
static void
request_proof(struct request *rq, char *out, size_t outlen)
{
	const char *h;

	if (rq->route->fn == h_page_report) {
		if (form_value(rq->body, rq->len, "pow", out, outlen) != 0)
			snprintf(out, outlen, "-");
		return;
	}
	if ((h = request_header(rq, "Meldpunt-Pow")) == NULL)
		h = "";
	if (strlen(h) >= outlen)
		h = "-";
	snprintf(out, outlen, "%s", h);
}

/* --- the checks --------------------------------------------------------------------------- */

static int
route_class(const struct request *rq)
{
	const struct route *r = rq->route;

	if (r == NULL)
		return -1;
	if (r->auth != AUTH_PUBLIC)
		return MP_LIMIT_SIGNED;
	if (r->fn == h_report || r->fn == h_page_report)
		return MP_LIMIT_REPORT;
	if (r->fn == h_followup || r->fn == h_followup_message || r->fn == h_page_status ||
	    r->fn == h_page_message)
		return MP_LIMIT_FOLLOWUP;
	if (strncmp(r->pattern, "/api/v1/log/", 12) == 0 ||
	    strncmp(r->pattern, "/api/v1/stats/", 14) == 0)
		return MP_LIMIT_PUBLIC;
	/* The pages and files served from memory, the policy, /healthz: none. */
	return -1;
}

static int
refuse(struct api_err *e, unsigned retry, const char *why)
{
	api_error(e, 429, "rate_limited", NULL, "%s; try again in %u seconds", why, retry);
	e->retry = retry;
	e->pow[0] = '\0';
	return -1;
}

/* Update the flood state: on when the reports' bucket runs dry, off when it is half full. */
static void
flood_state(struct limits *l, double now)
{
	refill(&l->flood, &l->pol.flood, now);
	if (l->flood.tokens < 1)
		l->flooding = 1;
	else if (l->flood.tokens * 2 >= l->pol.flood.requests)
		l->flooding = 0;
}

/* Reports during a flood: a proof of work, or one of the few taken without. */
static int
report_gate(struct limits *l, struct request *rq, double now, struct api_err *e)
{
	char proof[PROOF_MAX + 1];
	enum verdict v;
	int rc = 0;

	/* Every report that gets this far counts towards a flood, whatever becomes of it. */
	refill(&l->flood, &l->pol.flood, now);
	l->flood.tokens = l->flood.tokens >= 1 ? l->flood.tokens - 1 : 0;
	flood_state(l, now);
	if (!l->flooding)
		return 0;
	request_proof(rq, proof, sizeof proof);
	if (proof[0] != '\0') {
		if ((v = pow_check(l, proof, now)) == POW_OK)
			goto out;
		if (v == POW_FULL) {
			rc = refuse(e, 60, "too many reports at once");
			goto out;
		}
		refill(&l->unproven, &l->pol.unproven, now);
		rc = refuse(e, wait_for(&l->unproven, &l->pol.unproven),
		    "the proof of work is "
		    "wrong, expired or used before; solve the challenge in Meldpunt-Pow-Challenge");
		challenge(l, now, e->pow, sizeof e->pow);
		goto out;
	}
	refill(&l->unproven, &l->pol.unproven, now);
	if (l->unproven.tokens >= 1) {
		l->unproven.tokens -= 1;
		goto out;
	}
	rc = refuse(e, wait_for(&l->unproven, &l->pol.unproven),
	    "very many reports are coming "
	    "in; send a proof of work for the challenge in Meldpunt-Pow-Challenge");
	challenge(l, now, e->pow, sizeof e->pow);
out:
	sodium_memzero(proof, sizeof proof);
	return rc;
}

int
limit_request(struct limits *l, struct request *rq, struct api_err *e)
{
	struct bucket *mine = NULL, *all;
	struct client c;
	uint8_t key[16];
	double now;
	int cls, rc = -1;

	if (l == NULL || (cls = route_class(rq)) < 0)
		return 0;
	request_client(l, rq, &c);
	if (c.who == WHO_LOCAL) {
		sodium_memzero(&c, sizeof c);
		return 0;
	}
	pthread_mutex_lock(&l->lock);
	new_day(l);
	now = now_seconds();
	if (c.who == WHO_ADDR) {
		client_key(l, &c, cls, key);
		mine = client_bucket(l, key, cls, now);
		refill(mine, &l->pol.client[cls], now);
		if (mine->tokens < 1) {
			refuse(e, wait_for(mine, &l->pol.client[cls]),
			    "too many requests from "
			    "this address");
			goto out;
		}
	}
	all = &l->all[cls];
	refill(all, &l->pol.all[cls], now);
	if (all->tokens < 1) {
		refuse(e, wait_for(all, &l->pol.all[cls]), "the service is very busy");
		goto out;
	}
	/* A refused proof still costs its client: guessing is not free. */
	if (mine != NULL)
		mine->tokens -= 1;
	if (cls == MP_LIMIT_REPORT && report_gate(l, rq, now, e) != 0)
		goto out;
	all->tokens -= 1;
	rc = 0;
out:
	pthread_mutex_unlock(&l->lock);
	sodium_memzero(&c, sizeof c);
	sodium_memzero(key, sizeof key);
	return rc;
}

int
limit_form_challenge(struct limits *l, struct request *rq, char *out, size_t outlen)
{
	struct client c;
	double now;
	int bits = 0;

	out[0] = '\0';
	if (l == NULL || rq->conn == NULL)
		return 0;
	request_client(l, rq, &c);
	if (c.who != WHO_LOCAL) {
		pthread_mutex_lock(&l->lock);
		now = now_seconds();
		flood_state(l, now);
		if (l->flooding) {
			challenge(l, now, out, outlen);
			bits = out[0] != '\0' ? l->pol.pow_bits : 0;
		}
		pthread_mutex_unlock(&l->lock);
	}
	sodium_memzero(&c, sizeof c);
	return bits;
}

/* --- connections ------------------------------------------------------------------------- */

/* The live slot of key; with add, else a free one taken for it.  NULL if none. */
static struct conn_slot *
conn_find(struct limits *l, const uint8_t key[16], int add)
{
	size_t at = slot_index(key, CONN_SLOTS), i;
	struct conn_slot *s, *free_slot = NULL;

	for (i = 0; i < CONN_PROBE; i++) {
		s = &l->conns[(at + i) % CONN_SLOTS];
		if (s->count > 0 && memcmp(s->key, key, 16) == 0)
			return s;
		if (s->count == 0 && free_slot == NULL)
			free_slot = s;
	}
	if (!add || free_slot == NULL)
		return NULL;
	memcpy(free_slot->key, key, 16);
	return free_slot;
}

/*
 * Before libmicrohttpd takes a connection: refused when its address has its
 * share open already.  Loopback is not counted: a proxy there carries
 * everybody's connections (and must hold off slow clients itself).
 */
enum MHD_Result
limit_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct limits *l = cls;
	struct conn_slot *s;
	enum MHD_Result ok = MHD_YES;
	struct client c;
	uint8_t key[16];

	(void)addrlen;
	memset(&c, 0, sizeof c);
	if (l == NULL || sockaddr_id(&c, addr) != 0)
		goto out;
	pthread_mutex_lock(&l->lock);
	new_day(l);
	client_key(l, &c, CONN_CLASS, key);
	if ((s = conn_find(l, key, 0)) != NULL && s->count >= (unsigned)l->pol.connections)
		ok = MHD_NO;
	pthread_mutex_unlock(&l->lock);
	sodium_memzero(key, sizeof key);
out:
	sodium_memzero(&c, sizeof c);
	return ok;
}

/* Count a connection when it starts, in the slot its socket context remembers until it closes. */
void
limit_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	struct limits *l = cls;
	struct conn_slot *s;
	struct client c;
	uint8_t key[16];
	uintptr_t i;

	if (l == NULL)
		return;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if ((i = (uintptr_t)*socket_context) == 0)
			return;
		pthread_mutex_lock(&l->lock);
		if (i <= CONN_SLOTS && l->conns[i - 1].count > 0)
			l->conns[i - 1].count--;
		pthread_mutex_unlock(&l->lock);
		*socket_context = NULL;
		return;
	}
	*socket_context = NULL;
	memset(&c, 0, sizeof c);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || sockaddr_id(&c, ci->client_addr) != 0)
		goto out;
	pthread_mutex_lock(&l->lock);
	new_day(l);
	client_key(l, &c, CONN_CLASS, key);
	/* No free slot (it cannot happen below the connection limit): not counted. */
	if ((s = conn_find(l, key, 1)) != NULL) {
		s->count++;
		*socket_context = (void *)((uintptr_t)(s - l->conns) + 1);
	}
	pthread_mutex_unlock(&l->lock);
	sodium_memzero(key, sizeof key);
out:
	sodium_memzero(&c, sizeof c);
}
