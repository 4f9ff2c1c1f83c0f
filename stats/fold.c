/*
 * Folding the log's events into per-case state: a strict parser for the
 * exact v1 event bytes, and an open-addressing table of every case the log
 * names (of any year, so that an event for a case that was never created
 * is caught and a later event of an earlier year's case is skipped).
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define ID_LEN 22
#define NONE8 0xff
#define NONE16 0xffff

enum { F_USED = 1, F_YEAR = 2, F_ANON = 4, F_COLL = 8 };
enum { E_CREATED, E_CLASSIFIED, E_STATUS, E_COLLECTIVE, E_PURGED };

static const char *const type_names[] = { "created", "classified", "status", "collective",
	"purged" };

/*
 * One case: 48 bytes, so a million cases take 96 MiB at the table's
 * largest size.  Cases of other years keep only id, seq and month.
 */
struct case_st {
	char id[ID_LEN];
	uint8_t flags;
	uint8_t channel;
	uint32_t seq;
	uint32_t ym; /* the created event's month: year * 12 + month - 1 */
	uint8_t status, closure, domain, manif;
	uint16_t incident, residence;
	uint64_t grounds; /* bit i: ground row i */
};

struct mp_stats {
	struct mp_stats_layout *l;
	int year, k;
	struct case_st *tab;
	size_t cap, used; /* cap a power of two */
	/* A secret hash key, so that a server cannot choose ids that collide. */
	uint8_t hkey[crypto_shorthash_KEYBYTES];
};

struct slice {
	const char *s; /* NULL: absent */
	size_t n;
};

struct event {
	const char *id;
	uint32_t seq;
	int type;
	uint32_t ym;
	struct slice channel;
	int anonymous;
	struct slice grounds[MAX_GROUNDS];
	size_t ngrounds;
	int has_grounds;
	struct slice domain, manif, incident, residence;
	struct slice status, closure;
	const char *collective;
};

/* A cursor over the event bytes: nothing reads at or past e. */
struct cur {
	const char *b, *p, *e;
	char *err;
	size_t errlen;
};

static int
expect(struct cur *c, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(c->e - c->p) < n || memcmp(c->p, lit, n) != 0)
		return stats_err(c->err, c->errlen, "not a v1 event: expected %s at byte %zu", lit,
		    (size_t)(c->p - c->b));
	c->p += n;
	return 0;
}

/* Consume lit if it comes next; 1 if it did. */
static int
accept(struct cur *c, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(c->e - c->p) < n || memcmp(c->p, lit, n) != 0)
		return 0;
	c->p += n;
	return 1;
}

/*
 * The rest of a string whose opening quote is consumed, up to and past the
 * closing one.  Every value of an event is ASCII without escapes (codes,
 * ids, a month), so anything else is refused rather than decoded.
 */
static int
chars(struct cur *c, struct slice *out, const char *what)
{
	const char *start = c->p;

	while (c->p < c->e && *c->p != '"') {
		if ((unsigned char)*c->p < 0x20 || (unsigned char)*c->p > 0x7e || *c->p == '\\')
			return stats_err(c->err, c->errlen,
			    "not a v1 event: %s holds a byte that no "
			    "code has at byte %zu",
			    what, (size_t)(c->p - c->b));
		c->p++;
	}
	if (c->p == c->e)
		return stats_err(
		    c->err, c->errlen, "not a v1 event: %s ends without its quote", what);
	out->s = start;
	out->n = (size_t)(c->p - start);
	c->p++;
	return 0;
}

static int
is_b64u(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '-' || ch == '_';
}

static int
id_ok(const struct slice *s)
{
	size_t i;

	if (s->n != ID_LEN)
		return 0;
	for (i = 0; i < ID_LEN; i++)
		if (!is_b64u(s->s[i]))
			return 0;
	return 1;
}

/* A code value: "...", its quote already consumed. */
static int
code(struct cur *c, struct slice *out, const char *what)
{
	if (chars(c, out, what) != 0)
		return -1;
	if (!stats_code_ok(out->s, out->n))
		return stats_err(c->err, c->errlen, "not a v1 event: %s is not a code", what);
	return 0;
}

/* seq: 1 to 2^32 - 1, decimal without leading zeros. */
static int
number(struct cur *c, uint32_t *out)
{
	uint64_t v = 0;
	size_t n = 0;

	while (c->p < c->e && *c->p >= '0' && *c->p <= '9' && n <= 10) {
		v = v * 10 + (uint64_t)(*c->p - '0');
		c->p++;
		n++;
	}
	if (n == 0 || n > 10 || (n > 1 && c->p[-(ptrdiff_t)n] == '0') || v == 0 || v > UINT32_MAX)
		return stats_err(c->err, c->errlen,
		    "not a v1 event: seq is not a number from 1 to %lu", (unsigned long)UINT32_MAX);
	*out = (uint32_t)v;
	return 0;
}

/* YYYY-MM, year 0001 to 9999, month 01 to 12. */
static int
month(struct cur *c, uint32_t *ym)
{
	struct slice m;
	unsigned y = 0, mo;
	int i;

	if (chars(c, &m, "month") != 0)
		return -1;
	if (m.n != 7 || m.s[4] != '-')
		goto bad;
	for (i = 0; i < 7; i++)
		if (i != 4 && (m.s[i] < '0' || m.s[i] > '9'))
			goto bad;
	for (i = 0; i < 4; i++)
		y = y * 10 + (unsigned)(m.s[i] - '0');
	mo = (unsigned)(m.s[5] - '0') * 10 + (unsigned)(m.s[6] - '0');
	if (y == 0 || mo < 1 || mo > 12)
		goto bad;
	*ym = y * 12 + mo - 1;
	return 0;
bad:
	return stats_err(c->err, c->errlen, "not a v1 event: month is not a month (YYYY-MM)");
}

static int
parse_classified(struct cur *c, struct event *ev)
{
	static const char *const keys[] = { ",\"domain\":\"", ",\"manifestation\":\"",
		",\"incident_municipality\":\"", ",\"residence_municipality\":\"" };
	static const char *const what[] = { "domain", "manifestation", "incident_municipality",
		"residence_municipality" };
	struct slice *fields[] = { &ev->domain, &ev->manif, &ev->incident, &ev->residence };
	size_t i;

	if (accept(c, ",\"grounds\":[")) {
		ev->has_grounds = 1;
		do {
			if (ev->ngrounds == MAX_GROUNDS)
				return stats_err(c->err, c->errlen,
				    "not a v1 event: more than %d grounds", MAX_GROUNDS);
			if (expect(c, "\"") != 0 ||
			    code(c, &ev->grounds[ev->ngrounds], "a ground") != 0)
				return -1;
			ev->ngrounds++;
		} while (accept(c, ","));
		if (expect(c, "]") != 0)
			return -1;
	}
	/* Each field may be absent, but those present come in this order. */
	for (i = 0; i < 4; i++)
		if (accept(c, keys[i]) && code(c, fields[i], what[i]) != 0)
			return -1;
	return 0;
}

static int
parse_event(struct event *ev, const char *b, size_t len, char *err, size_t errlen)
{
	struct cur c = { b, b, b + len, err, errlen };
	struct slice id, type, coll;
	size_t i;

	memset(ev, 0, sizeof *ev);
	if (expect(&c, "{\"v\":1,\"case\":\"") != 0 || chars(&c, &id, "case") != 0)
		return -1;
	if (!id_ok(&id))
		return stats_err(err, errlen, "not a v1 event: case is not a case id");
	ev->id = id.s;
	if (expect(&c, ",\"seq\":") != 0 || number(&c, &ev->seq) != 0 ||
	    expect(&c, ",\"type\":\"") != 0 || chars(&c, &type, "type") != 0)
		return -1;
	for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (type.n == strlen(type_names[i]) && memcmp(type.s, type_names[i], type.n) == 0)
			break;
	if (i == sizeof type_names / sizeof type_names[0])
		return stats_err(err, errlen, "not a v1 event: unknown type");
	ev->type = (int)i;
	if (expect(&c, ",\"month\":\"") != 0 || month(&c, &ev->ym) != 0)
		return -1;

	switch (ev->type) {
	case E_CREATED:
		if (expect(&c, ",\"channel\":\"") != 0 || code(&c, &ev->channel, "channel") != 0 ||
		    expect(&c, ",\"anonymous\":") != 0)
			return -1;
		if (accept(&c, "true"))
			ev->anonymous = 1;
		else if (expect(&c, "false") != 0)
			return -1;
		break;
	case E_CLASSIFIED:
		if (parse_classified(&c, ev) != 0)
			return -1;
		break;
	case E_STATUS:
		if (expect(&c, ",\"status\":\"") != 0 || code(&c, &ev->status, "status") != 0 ||
		    (accept(&c, ",\"closure\":\"") && code(&c, &ev->closure, "closure") != 0))
			return -1;
		/* Closing needs a closure code (API.md), and only closing has one. */
		if ((ev->status.n == 6 && memcmp(ev->status.s, "closed", 6) == 0) !=
		    (ev->closure.s != NULL))
			return stats_err(err, errlen,
			    "not a v1 event: a closure code goes with status "
			    "closed, and only with it");
		break;
	case E_COLLECTIVE:
		if (expect(&c, ",\"collective\":\"") != 0 || chars(&c, &coll, "collective") != 0)
			return -1;
		if (!id_ok(&coll))
			return stats_err(err, errlen, "not a v1 event: collective is not an id");
		ev->collective = coll.s;
		break;
	default:
		break;
	}
	if (expect(&c, "}") != 0)
		return -1;
	if (c.p != c.e)
		return stats_err(err, errlen, "not a v1 event: bytes after its end at byte %zu",
		    (size_t)(c.p - c.b));
	return 0;
}

/* parse_event with err cleared first. */
static int
event_read(struct event *ev, const uint8_t *event, size_t len, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return parse_event(ev, (const char *)event, len, err, errlen);
}

int
mp_stats_event_ok(const uint8_t *event, size_t len, char *err, size_t errlen)
{
	struct event ev;

	return event_read(&ev, event, len, err, errlen);
}

static uint64_t
hash_id(const struct mp_stats *s, const char *id)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v = 0;
	int i;

	crypto_shorthash(h, (const unsigned char *)id, ID_LEN, s->hkey);
	for (i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return v;
}

/* The slot of id: its case, or the empty slot where it would go. */
static struct case_st *
slot(struct case_st *tab, size_t cap, uint64_t h, const char *id)
{
	size_t i = (size_t)h & (cap - 1);

	while ((tab[i].flags & F_USED) && memcmp(tab[i].id, id, ID_LEN) != 0)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

/* Double the table; -1 when out of memory (the old table stays). */
static int
grow(struct mp_stats *s)
{
	struct case_st *tab, *to;
	size_t cap, i;

	if (s->cap > SIZE_MAX / 2 / sizeof *tab)
		return -1;
	cap = s->cap * 2;
	if ((tab = calloc(cap, sizeof *tab)) == NULL)
		return -1;
	for (i = 0; i < s->cap; i++) {
		if (!(s->tab[i].flags & F_USED))
			continue;
		to = slot(tab, cap, hash_id(s, s->tab[i].id), s->tab[i].id);
		*to = s->tab[i];
	}
	free(s->tab);
	s->tab = tab;
	s->cap = cap;
	return 0;
}

struct mp_stats *
mp_stats_new(const struct mp_stats_layout *l, int year, int k)
{
	const char *const *rows[NT];
	size_t n[NT];
	struct mp_stats *s;
	int t;

	if (l == NULL || year < 1 || year > 9999 || k < 1 || k > 1000 || sodium_init() < 0)
		return NULL;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	for (t = 0; t < NT; t++) {
		rows[t] = (const char *const *)l->rows[t].v;
		n[t] = l->rows[t].n;
	}
	s->year = year;
	s->k = k;
	s->cap = 64; /* grows by doubling; small, since a server may fold for each request */
	if ((s->l = stats_layout_new(rows, n)) == NULL ||
	    (s->tab = calloc(s->cap, sizeof *s->tab)) == NULL) {
		mp_stats_free(s);
		return NULL;
	}
	crypto_shorthash_keygen(s->hkey);
	return s;
}

void
mp_stats_free(struct mp_stats *s)
{
	if (s == NULL)
		return;
	mp_stats_layout_free(s->l);
	free(s->tab);
	free(s);
}

/* The index of a code an event names in table t (synthetic rows excluded), or SIZE_MAX. */
static size_t
find(const struct mp_stats *s, int t, const struct slice *v)
{
	size_t i = stats_list_find(&s->l->rows[t], v->s, v->n);

	return i < s->l->nev[t] ? i : SIZE_MAX;
}

/*
 * Resolve the codes of an event of a case of this year into st (a copy of
 * the case's state); -1 with err naming the first unknown code.
 */
static int
resolve(
    const struct mp_stats *s, const struct event *ev, struct case_st *st, char *err, size_t errlen)
{
	static const char *const mnames[] = { "incident_municipality", "residence_municipality" };
	const struct slice *mun[] = { &ev->incident, &ev->residence };
	uint16_t *mdst[] = { &st->incident, &st->residence };
	size_t i, j;

	switch (ev->type) {
	case E_CREATED:
		if ((i = find(s, T_CHANNEL, &ev->channel)) == SIZE_MAX)
			return stats_err(err, errlen,
			    "case %.22s: channel %.*s is not in the layout", ev->id,
			    (int)ev->channel.n, ev->channel.s);
		st->channel = (uint8_t)i;
		st->status = (uint8_t)s->l->received;
		st->flags |= ev->anonymous ? F_ANON : 0;
		break;
	case E_CLASSIFIED:
		/* The latest classification replaces the whole earlier one. */
		st->grounds = 0;
		for (j = 0; j < ev->ngrounds; j++) {
			if ((i = find(s, T_GROUND, &ev->grounds[j])) == SIZE_MAX)
				return stats_err(err, errlen,
				    "case %.22s: ground %.*s is not in the layout", ev->id,
				    (int)ev->grounds[j].n, ev->grounds[j].s);
			if (st->grounds & ((uint64_t)1 << i))
				return stats_err(err, errlen,
				    "case %.22s: ground %.*s is named twice", ev->id,
				    (int)ev->grounds[j].n, ev->grounds[j].s);
			st->grounds |= (uint64_t)1 << i;
		}
		st->domain = st->manif = NONE8;
		if (ev->domain.s != NULL) {
			if ((i = find(s, T_DOMAIN, &ev->domain)) == SIZE_MAX)
				return stats_err(err, errlen,
				    "case %.22s: domain %.*s is not in the layout", ev->id,
				    (int)ev->domain.n, ev->domain.s);
			st->domain = (uint8_t)i;
		}
		if (ev->manif.s != NULL) {
			if ((i = find(s, T_MANIF, &ev->manif)) == SIZE_MAX)
				return stats_err(err, errlen,
				    "case %.22s: manifestation %.*s is not in the "
				    "layout",
				    ev->id, (int)ev->manif.n, ev->manif.s);
			st->manif = (uint8_t)i;
		}
		for (j = 0; j < 2; j++) {
			*mdst[j] = NONE16;
			if (mun[j]->s == NULL)
				continue;
			if ((i = stats_list_find(&s->l->munis, mun[j]->s, mun[j]->n)) == SIZE_MAX)
				return stats_err(err, errlen,
				    "case %.22s: %s %.*s is not in the layout", ev->id, mnames[j],
				    (int)mun[j]->n, mun[j]->s);
			*mdst[j] = (uint16_t)i;
		}
		break;
	case E_STATUS:
		if ((i = find(s, T_STATUS, &ev->status)) == SIZE_MAX)
			return stats_err(err, errlen,
			    "case %.22s: status %.*s is not in the layout", ev->id,
			    (int)ev->status.n, ev->status.s);
		st->status = (uint8_t)i;
		st->closure = NONE8;
		if (ev->closure.s != NULL) {
			if ((i = find(s, T_CLOSURE, &ev->closure)) == SIZE_MAX)
				return stats_err(err, errlen,
				    "case %.22s: closure %.*s is not in the layout", ev->id,
				    (int)ev->closure.n, ev->closure.s);
			st->closure = (uint8_t)i;
		}
		break;
	case E_COLLECTIVE:
		st->flags |= F_COLL;
		break;
	default:
		/* A purge removes contents, never the case from the figures. */
		break;
	}
	return 0;
}

int
mp_stats_event_known(
    const struct mp_stats *s, const uint8_t *event, size_t len, char *err, size_t errlen)
{
	struct event ev;
	struct case_st st;

	if (event_read(&ev, event, len, err, errlen) != 0)
		return -1;
	memset(&st, 0, sizeof st);
	return resolve(s, &ev, &st, err, errlen);
}

/* Grounds named twice, for a case whose codes are not resolved (another year's). */
static int
grounds_repeat(const struct event *ev)
{
	size_t i, j;

	for (i = 0; i < ev->ngrounds; i++)
		for (j = 0; j < i; j++)
			if (ev->grounds[i].n == ev->grounds[j].n &&
			    memcmp(ev->grounds[i].s, ev->grounds[j].s, ev->grounds[i].n) == 0)
				return 1;
	return 0;
}

int
mp_stats_add(struct mp_stats *s, const uint8_t *event, size_t len, char *err, size_t errlen)
{
	struct case_st st, *at;
	struct event ev;
	uint64_t h;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (event == NULL)
		return stats_err(err, errlen, "no event");
	if (parse_event(&ev, (const char *)event, len, err, errlen) != 0)
		return -1;
	h = hash_id(s, ev.id);
	at = slot(s->tab, s->cap, h, ev.id);

	/* Everything is checked on a copy; the table changes only when all is well. */
	if (ev.type == E_CREATED) {
		if (at->flags & F_USED)
			return stats_err(err, errlen, "case %.22s: created twice", ev.id);
		if (ev.seq != 1)
			return stats_err(err, errlen,
			    "case %.22s: its created event has seq %lu, not 1", ev.id,
			    (unsigned long)ev.seq);
		memset(&st, 0, sizeof st);
		memcpy(st.id, ev.id, ID_LEN);
		st.flags = F_USED;
		st.ym = ev.ym;
		st.closure = st.domain = st.manif = NONE8;
		st.incident = st.residence = NONE16;
		if (ev.ym / 12 == (uint32_t)s->year)
			st.flags |= F_YEAR;
	} else {
		if (!(at->flags & F_USED))
			return stats_err(err, errlen,
			    "case %.22s: a %s event before its created event", ev.id,
			    type_names[ev.type]);
		if ((uint64_t)ev.seq != (uint64_t)at->seq + 1)
			return stats_err(err, errlen, "case %.22s: seq %lu after seq %lu", ev.id,
			    (unsigned long)ev.seq, (unsigned long)at->seq);
		if (ev.ym < at->ym)
			return stats_err(err, errlen,
			    "case %.22s: a %s event in a month before the case "
			    "was created",
			    ev.id, type_names[ev.type]);
		st = *at;
	}
	st.seq = ev.seq;
	if (st.flags & F_YEAR) {
		if (resolve(s, &ev, &st, err, errlen) != 0)
			return -1;
	} else if (grounds_repeat(&ev)) {
		/* Another year's codes may have left the policy since; their form still counts. */
		return stats_err(err, errlen, "case %.22s: a ground is named twice", ev.id);
	}

	if (ev.type == E_CREATED) {
		/* At most three quarters full, so that probes stay short. */
		if ((s->used + 1) * 4 > s->cap * 3) {
			if (grow(s) != 0)
				return stats_err(err, errlen, "out of memory");
			at = slot(s->tab, s->cap, h, ev.id);
		}
		s->used++;
	}
	*at = st;
	return 0;
}

/* One more in *cell; no log comes near the limit, but a guard is cheap. */
static void
bump(int64_t *cell)
{
	if (*cell < INT64_MAX)
		(*cell)++;
}

int
stats_fold_doc(const struct mp_stats *s, struct stats_doc *d)
{
	const struct mp_stats_layout *l = s->l;
	const struct case_st *c;
	size_t i, g, ns = l->rows[T_MUNI].n, n;
	int t, r_here, i_here;

	memset(d, 0, sizeof *d);
	d->borrowed = 1;
	d->year = s->year;
	d->threshold = s->k;
	for (t = 0; t < NT; t++) {
		d->t[t].codes = l->rows[t].v;
		d->t[t].n = n = l->rows[t].n;
		if ((d->t[t].cells = calloc(n * (t == T_MUNI ? NCOLS : 1) + 1, sizeof(int64_t))) ==
		    NULL)
			return -1;
	}
	for (i = 0; i < s->cap; i++) {
		c = &s->tab[i];
		if (!(c->flags & F_YEAR))
			continue;
		bump(&d->cases);
		if (c->grounds == 0) {
			bump(&d->t[T_GROUND].cells[l->nev[T_GROUND]]);
		} else {
			for (g = 0; g < l->nev[T_GROUND]; g++)
				if (c->grounds & ((uint64_t)1 << g))
					bump(&d->t[T_GROUND].cells[g]);
		}
		bump(&d->t[T_DOMAIN].cells[c->domain == NONE8 ? l->nev[T_DOMAIN] : c->domain]);
		bump(&d->t[T_MANIF].cells[c->manif == NONE8 ? l->nev[T_MANIF] : c->manif]);
		bump(&d->t[T_CHANNEL].cells[c->channel]);
		bump(&d->t[T_STATUS].cells[c->status]);
		bump(&d->t[T_CLOSURE].cells[c->closure == NONE8 ? l->nev[T_CLOSURE] : c->closure]);
		bump(&d->t[T_ANON].cells[(c->flags & F_ANON) ? 0 : 1]);
		bump(&d->t[T_KIND].cells[(c->flags & F_COLL) ? 1 : 0]);

		/*
		 * An absent municipality is unknown, and neither elsewhere nor unknown
		 * is served (docs/STATISTICS.md, "Municipalities").
		 */
		r_here = c->residence != NONE16 && c->residence < ns;
		i_here = c->incident != NONE16 && c->incident < ns;
		if (r_here && c->incident == c->residence)
			bump(&d->t[T_MUNI].cells[(size_t)c->residence * NCOLS + 0]);
		else if (r_here)
			bump(&d->t[T_MUNI].cells[(size_t)c->residence * NCOLS + 1]);
		if (i_here && c->incident != c->residence)
			bump(&d->t[T_MUNI].cells[(size_t)c->incident * NCOLS + 2]);
	}
	for (t = 0; t < NT; t++) {
		if (t == T_MUNI) {
			for (i = 0; i < ns * NCOLS; i++)
				d->t[t].total[i % NCOLS] += d->t[t].cells[i];
		} else {
			/* Every table's total is the number of cases, ground's too. */
			d->t[t].total[0] = d->cases;
		}
	}
	return 0;
}
