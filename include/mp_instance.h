/*
 * mp_instance - the instance directory: config, secrets (mode 0600), the
 * database and the policy.  Created by `meldpunt init`, read by meldpuntd.
 */
#ifndef MP_INSTANCE_H
#define MP_INSTANCE_H

#include <stddef.h>
#include <stdint.h>

#include "mp_policy.h"

#define MP_INSTANCE_DB "meldpunt.db"
#define MP_INSTANCE_CONF "meldpunt.conf"
#define MP_INSTANCE_POLICY "policy.conf"

/* Secrets live in one sodium_malloc'ed, locked block. */
struct mp_secrets {
	uint8_t db_key[32];
	uint8_t pepper[32];
	uint8_t log_sk[64];
};

struct mp_instance {
	char dir[4096];
	char origin[256];
	char public_url[512]; /* "" until set: then http:// and the listen address */
	char timezone[64];
	uint8_t log_pk[32];
	struct mp_secrets *sec;
	struct mp_policy *policy;
};

/*
 * Create dir (it must not exist; mode 0700) with fresh secrets, config,
 * policy and a migrated database.  The log verifier key text is written to
 * verifier (may be NULL).  0, or -1 with err set.
 */
int mp_instance_create(const char *dir, const char *origin, const char *public_url, char *verifier,
    size_t vlen, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Load config, secrets and policy; set the process time zone.  0, or -1
 * with err set (a policy error names its line).
 */
int mp_instance_load(struct mp_instance **out, const char *dir, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void mp_instance_free(struct mp_instance *in);

/*
 * Set the public base URL (http:// or https://, no spaces, quotes or '#';
 * trailing slashes dropped).  0, or -1 if it is not such a URL.
 */
int mp_instance_set_public_url(struct mp_instance *in, const char *url);

/* path = dir/name; 0 or -1 on truncation. */
int mp_instance_path(char *out, size_t outlen, const struct mp_instance *in, const char *name);

/* Today in the instance's time zone, YYYY-MM-DD. */
void mp_today(char out[11]);
/* Seconds until tomorrow begins in the instance's time zone (1 or more). */
unsigned mp_seconds_to_tomorrow(void);
/* 1 if day is a real calendar date YYYY-MM-DD. */
int mp_day_ok(const char *day);
/* day plus n days (n may be negative) into out; 0, or -1 on a bad day. */
int mp_day_add(char out[11], const char *day, int n);
/* day plus n months, the day of month clamped to the month's end; 0 or -1. */
int mp_day_add_months(char out[11], const char *day, int n);

/* The retention cut-offs of the policy as of today. */
int mp_retention_cutoffs(
    const struct mp_policy *p, const char *today, char closed[11], char inactive[11]);

#endif
