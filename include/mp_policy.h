/*
 * mp_policy - the municipality's policy file (policy/policy.conf): code
 * lists with labels per language, allowed status moves and terms.
 */
#ifndef MP_POLICY_H
#define MP_POLICY_H

#include <jansson.h>
#include <stddef.h>

#define MP_POLICY_MAX_LANGS 16

struct mp_code {
	char *code;
	char *labels[MP_POLICY_MAX_LANGS]; /* by language index */
	int rtl;                           /* languages only */
};

struct mp_list {
	struct mp_code *v;
	size_t n;
};

enum mp_list_id {
	MP_LANGUAGES,
	MP_GROUNDS,
	MP_DOMAINS,
	MP_MANIFESTATIONS,
	MP_MUNICIPALITIES,
	MP_ROLES,
	MP_WISHES,
	MP_CHANNELS,
	MP_STATUSES,
	MP_CLOSURES,
	MP_NOTICES,
	MP_NLISTS
};

struct mp_transition {
	size_t from, to; /* indexes into the statuses */
};

/* What a route costs against the rate limits (docs/ABUSE.md). */
enum mp_limit_class {
	MP_LIMIT_REPORT,   /* report submissions: the API and the form */
	MP_LIMIT_FOLLOWUP, /* follow-up reads and reporters' messages */
	MP_LIMIT_SIGNED,   /* caseworkers' and auditors' signed routes */
	MP_LIMIT_PUBLIC,   /* the transparency log and the statistics */
	MP_LIMIT_NCLASSES
};

/* A token bucket: up to `requests` at once, refilled evenly over `seconds`. */
struct mp_rate {
	int requests;
	int seconds;
};

struct mp_limits {
	struct mp_rate client[MP_LIMIT_NCLASSES]; /* per client address (an IPv6 /64) */
	struct mp_rate all[MP_LIMIT_NCLASSES];    /* all clients together */
	struct mp_rate flood;    /* reports past this rate: a proof of work is asked */
	struct mp_rate unproven; /* reports taken without a proof during a flood */
	int pow_bits;            /* leading zero bits of a proof */
	int connections;         /* open connections per client address */
	int local_shared;        /* loopback without X-Forwarded-For: 0 exempt, 1 one client */
	int case_messages;       /* messages a case takes from its reporter in one day */
};

struct mp_policy {
	struct mp_list lists[MP_NLISTS];
	struct mp_transition *moves;
	size_t nmoves;
	int handling_days;
	int threshold;
	int retention_closed_months;
	int retention_inactive_months;
	struct mp_limits limits; /* [limits], optional: defaults where absent */
};

/*
 * Parse policy text.  0 with *out set; -1 with err holding
 * "line N: what is wrong" (the line is 0 for a whole-file problem).
 */
int mp_policy_parse(struct mp_policy **out, const char *text, size_t len, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void mp_policy_free(struct mp_policy *p);

/* The code's entry in list, or NULL. */
const struct mp_code *mp_policy_find(
    const struct mp_policy *p, enum mp_list_id list, const char *code);

/* Index of a language code, or -1. */
int mp_policy_lang(const struct mp_policy *p, const char *lang);

/* The code's label in lang (falling back to the first language). */
const char *mp_policy_label(const struct mp_policy *p, const struct mp_code *c, const char *lang);

/* 1 if from -> to is an allowed move. */
int mp_policy_move_ok(const struct mp_policy *p, const char *from, const char *to);

/* The policy as the JSON of GET /api/v1/policy. */
json_t *mp_policy_json(const struct mp_policy *p);

/*
 * s with the blanks at both ends cut off, in place (and a CR before the
 * line end): how the policy file and the pages' texts read their lines.
 */
char *mp_policy_trim(char *s);

/* The default policy carried in the binaries. */
const char *mp_default_policy(void);

#endif
