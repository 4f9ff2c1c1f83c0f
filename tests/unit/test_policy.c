/* The policy file parser: the default policy loads, and a broken file names its line and why. */
#include <stdio.h>
#include <string.h>

#include "../tap.h"
#include "mp_policy.h"

/* A small valid policy; each bad case below changes one thing in it. */
static const char base[] = "[languages]\n"
                           "nl ltr Nederlands\n"
                           "en ltr English\n"
                           "[grounds]\norigin nl: Herkomst | en: Origin\n"
                           "[domains]\nhousing nl: Huisvesting | en: Housing\n"
                           "[manifestations]\nrefusal nl: Weigering | en: Refusal\n"
                           "[municipalities]\nleiden nl: Leiden | en: Leiden\n"
                           "[roles]\nvictim nl: Slachtoffer | en: Victim\n"
                           "[wishes]\nadvice nl: Advies | en: Advice\n"
                           "[channels]\nweb nl: Website | en: Website\n"
                           "[statuses]\n"
                           "received nl: Ontvangen | en: Received\n"
                           "intake nl: Intake | en: Intake\n"
                           "registration_only nl: Geregistreerd | en: Registered\n"
                           "in_progress nl: Bezig | en: In progress\n"
                           "referred nl: Doorverwezen | en: Referred\n"
                           "closed nl: Gesloten | en: Closed\n"
                           "[closures]\nwithdrawn nl: Ingetrokken | en: Withdrawn\n"
                           "[notices]\npurged nl: Verwijderd | en: Removed\n"
                           "[transitions]\nreceived intake\nintake closed\n"
                           "[settings]\nhandling_days 28\nthreshold 5\nretention_closed_months 24\n"
                           "retention_inactive_months 60\n";

/* base with the first occurrence of `from` replaced by `to`. */
static void
variant(char *out, size_t outlen, const char *from, const char *to)
{
	const char *at = strstr(base, from);
	int n;

	if (at == NULL) {
		snprintf(out, outlen, "%s", base);
		return;
	}
	n = snprintf(out, outlen, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
	if (n < 0 || (size_t)n >= outlen)
		out[0] = '\0';
}

static void
expect_error(const char *from, const char *to, const char *want)
{
	struct mp_policy *p = NULL;
	char text[4096], err[256] = "";
	int rc;

	variant(text, sizeof text, from, to);
	rc = mp_policy_parse(&p, text, strlen(text), err, sizeof err);
	T_OK(rc == -1 && p == NULL, "a policy with %s is refused", want);
	T_OK(strstr(err, want) != NULL, "the error for it says \"%s\" (got \"%s\")", want, err);
	mp_policy_free(p);
}

/* base with [limits] and lines after its last line (line 37 is [limits]). */
static void
limits_error(const char *lines, const char *want)
{
	char to[512];

	snprintf(to, sizeof to, "retention_inactive_months 60\n[limits]\n%s", lines);
	expect_error("retention_inactive_months 60\n", to, want);
}

/* [limits]: optional, defaults where absent, each value checked. */
static void
limits(const char *def)
{
	const struct mp_limits *l;
	struct mp_policy *p = NULL;
	char text[4096], err[256] = "";

	if (mp_policy_parse(&p, def, strlen(def), err, sizeof err) == 0) {
		l = &p->limits;
		T_OK(l->client[MP_LIMIT_REPORT].requests == 10 &&
		        l->client[MP_LIMIT_REPORT].seconds == 3600,
		    "the default policy takes 10 reports an hour from one client");
		T_OK(l->all[MP_LIMIT_REPORT].requests == 2000 && l->flood.requests == 300 &&
		        l->flood.seconds == 600 && l->unproven.requests == 30,
		    "and 2000 in 10 minutes from all; a flood past 300 in 10 minutes, 30 without proof");
		T_OK(l->pow_bits == 16 && l->connections == 32 && l->local_shared == 0,
		    "16 bits of proof, 32 connections a client, loopback exempt");
		T_OK(l->case_messages == 20, "a case takes 20 messages a day from its reporter");
	}
	mp_policy_free(p);
	p = NULL;
	T_OK(mp_policy_parse(&p, base, strlen(base), err, sizeof err) == 0 &&
	        p->limits.client[MP_LIMIT_FOLLOWUP].requests == 120 && p->limits.pow_bits == 16 &&
	        p->limits.all[MP_LIMIT_SIGNED].requests == 60000 && p->limits.case_messages == 20,
	    "a policy without [limits] gets the default limits (%s)", err);
	mp_policy_free(p);
	p = NULL;
	snprintf(text, sizeof text,
	    "%s[limits]\nreport  5 60\n  all_public 7 86400\n"
	    "pow_bits 12\nlocal shared\nconnections 4\ncase_messages 5\n",
	    base);
	T_OK(mp_policy_parse(&p, text, strlen(text), err, sizeof err) == 0 &&
	        p->limits.client[MP_LIMIT_REPORT].requests == 5 &&
	        p->limits.client[MP_LIMIT_REPORT].seconds == 60 &&
	        p->limits.all[MP_LIMIT_PUBLIC].requests == 7 &&
	        p->limits.all[MP_LIMIT_PUBLIC].seconds == 86400 && p->limits.pow_bits == 12 &&
	        p->limits.local_shared == 1 && p->limits.connections == 4 &&
	        p->limits.case_messages == 5 && p->limits.client[MP_LIMIT_SIGNED].requests == 10000,
	    "[limits] lines set their values; the lines left out keep the defaults (%s)", err);
	mp_policy_free(p);

	limits_error("report 5\n", "line 38: report is `report requests seconds`");
	limits_error("report 0 60\n", "report is `report requests seconds`: requests from 1");
	limits_error("flood 5 86401\n", "flood is `flood requests seconds`");
	limits_error("flood 5 -1\n", "flood is `flood requests seconds`");
	limits_error("unproven 5 60 7\n", "too many values for \"unproven\"");
	limits_error("pow_bits 3\n", "pow_bits must be a whole number from 4 to 28");
	limits_error("pow_bits 29\n", "pow_bits must be a whole number from 4 to 28");
	limits_error("connections 0\n", "connections must be a whole number from 1 to 1024");
	limits_error("case_messages 0\n", "case_messages must be a whole number from 1 to 10000");
	limits_error(
	    "case_messages 10001\n", "case_messages must be a whole number from 1 to 10000");
	limits_error("pow_bits 12 13\n", "pow_bits must be a whole number");
	limits_error("local maybe\n", "local is `exempt` or `shared`");
	limits_error("reprot 5 60\n", "line 38: unknown limit \"reprot\"");
	limits_error("report 5 60\nreport 6 60\n", "line 39: limit \"report\" appears twice");
}

int
main(void)
{
	struct mp_policy *p = NULL;
	const struct mp_code *c;
	const char *def = mp_default_policy();
	char err[256] = "";
	json_t *j;

	T_OK(mp_policy_parse(&p, def, strlen(def), err, sizeof err) == 0,
	    "the default policy loads (%s)", err);
	if (p != NULL) {
		T_EQ_INT(
		    (long long)p->lists[MP_GROUNDS].n, 15LL, "the default policy has 15 grounds");
		T_EQ_INT((long long)p->lists[MP_MUNICIPALITIES].n, 15LL,
		    "13 municipalities plus elsewhere and unknown");
		c = mp_policy_find(p, MP_DOMAINS, "housing");
		T_OK(c != NULL && strcmp(mp_policy_label(p, c, "nl"), "Huisvesting") == 0,
		    "domain housing is Huisvesting in Dutch");
		T_OK(c != NULL && strcmp(mp_policy_label(p, c, "xx"), "Huisvesting") == 0,
		    "an unknown language falls back to the first");
		T_OK(mp_policy_move_ok(p, "received", "intake"), "received -> intake is allowed");
		T_OK(!mp_policy_move_ok(p, "received", "closed"), "received -> closed is not");
		T_OK(!mp_policy_move_ok(p, "closed", "intake"), "a closed case does not reopen");
		j = mp_policy_json(p);
		T_OK(json_is_array(json_object_get(j, "grounds")) &&
		        json_is_array(json_object_get(j, "transitions")),
		    "the policy serves as JSON");
		json_decref(j);
		mp_policy_free(p);
	}
	p = NULL;
	T_OK(mp_policy_parse(&p, base, strlen(base), err, sizeof err) == 0,
	    "the small test policy loads (%s)", err);
	mp_policy_free(p);

	expect_error("origin nl: Herkomst | en: Origin", "origin nl: Herkomst",
	    "line 5: \"origin\" has no label in \"en\"");
	expect_error("origin nl:", "Origin nl:", "line 5: \"Origin\" is not a code");
	expect_error(
	    "en: Origin\n", "de: Origin\n", "line 5: language \"de\" is not in [languages]");
	expect_error("[domains]", "[domainz]", "line 6: unknown section [domainz]");
	expect_error("[domains]\n", "[domains\n", "line 6: a section header");
	expect_error("intake closed\n", "intake gone\n", "\"gone\" is not in [statuses]");
	expect_error("threshold 5", "threshold five", "threshold must be a whole number");
	expect_error("threshold 5", "treshold 5", "unknown setting \"treshold\"");
	expect_error("referred nl: Doorverwezen | en: Referred\n", "", "must have \"referred\"");
	expect_error("[closures]\nwithdrawn nl: Ingetrokken | en: Withdrawn\n", "",
	    "section [closures] is missing");
	expect_error(
	    "[grounds]\n", "[grounds]\norigin nl: X | en: Y\n", "code \"origin\" appears twice");
	expect_error("[domains]\n", "[languages]\nde ltr Deutsch\n[domains]\n",
	    "line 7: [languages] must come before");
	expect_error("nl ltr Nederlands", "nl up Nederlands", "a language is `code ltr|rtl name`");
	expect_error("[languages]", "stray text\n[languages]", "line 1: text before the first");
	limits(def);
	return t_done();
}
