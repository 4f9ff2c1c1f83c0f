/*
 * genlog DIR N: fill the instance in DIR with N cases received today, as a
 * busy year would: every case created (each with a small stand-in report
 * item), about 60% classified, 30% closed, 10% linked to one collective.
 * Written straight through the store API in large transactions, so that the
 * statistics and the audit can be measured over a log of millions of events
 * without waiting for millions of HTTP requests.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_instance.h"
#include "mp_policy.h"
#include "mp_store.h"

static const char *
pick(const struct mp_policy *p, enum mp_list_id l)
{
	return p->lists[l].v[randombytes_uniform((uint32_t)p->lists[l].n)].code;
}

int
main(int argc, char **argv)
{
	struct mp_instance *in = NULL;
	struct mp_store *st = NULL;
	struct mp_collective coll;
	char err[512], path[4200], day[11], id[MP_ID_LEN + 1], item[MP_ID_LEN + 1], ref[24];
	char cls[512];
	const char *grounds[2];
	long i, n;
	int rc = 1;

	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: genlog DIR N\n");
		return 2;
	}
	if (sodium_init() < 0 || mp_instance_load(&in, argv[1], err, sizeof err) != 0 ||
	    mp_instance_path(path, sizeof path, in, MP_INSTANCE_DB) != 0 ||
	    mp_store_open(&st, path, in->sec->db_key) != 0) {
		fprintf(stderr, "genlog: cannot open %s: %s\n", argv[1], err);
		goto out;
	}
	mp_today(day);
	if (mp_store_collective_create(st, "Landelijke uitspraak", day, &coll) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		const struct mp_policy *p = in->policy;
		struct mp_case_new c;

		if (i % 20000 == 0 && (i > 0 && mp_store_end(st, 1) != 0))
			goto out;
		if (i % 20000 == 0 && mp_store_begin(st) != 0)
			goto out;
		mp_new_id(id);
		mp_new_id(item);
		memset(&c, 0, sizeof c);
		c.id = id;
		c.day = day;
		c.channel = i % 7 == 0 ? "phone" : "web";
		c.language = "nl";
		c.anonymous = (int)(i % 3 != 0);
		c.item_id = item;
		c.envelope = "{}";
		if (mp_store_case_create(st, &c, ref) != 0)
			goto out;
		if (i % 10 < 6) {
			grounds[0] = pick(p, MP_GROUNDS);
			snprintf(cls, sizeof cls,
			    "{\"grounds\":[\"%s\"],\"domain\":\"%s\","
			    "\"manifestation\":\"%s\",\"incident_municipality\":\"%s\","
			    "\"residence_municipality\":\"%s\"}",
			    grounds[0], pick(p, MP_DOMAINS), pick(p, MP_MANIFESTATIONS),
			    pick(p, MP_MUNICIPALITIES), pick(p, MP_MUNICIPALITIES));
			if (mp_store_case_classify(st, id, cls, grounds, 1, day) != 0)
				goto out;
		}
		if (i % 10 < 3 &&
		    (mp_store_case_move(st, id, "received", "intake", NULL, day) != 0 ||
		        mp_store_case_move(st, id, "intake", "in_progress", NULL, day) != 0 ||
		        mp_store_case_move(
		            st, id, "in_progress", "closed", pick(p, MP_CLOSURES), day) != 0))
			goto out;
		if (i % 10 == 9 && mp_store_collective_link(st, coll.id, id, day) != 0)
			goto out;
	}
	if (mp_store_end(st, 1) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "genlog: failed at case %ld\n", i);
	mp_store_close(st);
	mp_instance_free(in);
	return rc;
}
