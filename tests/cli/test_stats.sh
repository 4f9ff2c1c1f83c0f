#!/bin/sh
# `meldpunt stats` (docs/STATISTICS.md): merging signed documents of several services
# (good merge, CSV, a tampered document, a wrong key, a missing key, different years,
# the same service twice, bad usage), and fetching a year's statistics from a real
# meldpuntd (table, --json byte for byte, --csv, --out, --key) and from a server that
# serves a tampered document or another year's.
#
# Signed test documents come from a small C program built here against the library:
# it folds a few cases with the statistics module and signs the document with an
# Ed25519 key made from a seed.
#
# Usage: sh tests/cli/test_stats.sh [BUILD_DIR]      (default build)
#   KEEP=1 keeps the temp dir.  Prints "ok - " / "not ok - " lines.
B=$(cd "${1:-build}" && pwd) || exit 2
ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
M=$B/meldpunt
T=$(mktemp -d "${TMPDIR:-/tmp}/mp-stats.XXXXXX") || exit 2
pid=
spid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$spid" ] && kill "$spid" 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$T"' EXIT
unset MELDPUNT_URL MELDPUNT_KEY
export MELDPUNT_KDF_FAST=1 MELDPUNT_PASSPHRASE='correct horse battery'
fails=0
passes=0

say() {
	if [ "$1" -eq 0 ]; then echo "ok - $2"; passes=$((passes + 1))
	else echo "not ok - $2"; fails=$((fails + 1)); cat "$T/out" "$T/err" 2>/dev/null | sed 's/^/#   /' | head -12; fi
}
# run WANT DESC CMD...: the command exits with WANT (stdout in $T/out, stderr in $T/err)
run() { w=$1; d=$2; shift 2; "$@" >"$T/out" 2>"$T/err"; say $(($? != w)) "$d"; }
has() { grep -q -- "$1" "$T/out"; say $? "$2"; }
err_has() { grep -q -- "$1" "$T/err"; say $? "$2"; }
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@" 2>/dev/null; }
# wait_http URL: up to 5 s for an answer
wait_http() { i=0; while [ $i -lt 50 ] && ! curl -s -o /dev/null "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done; }

# ---- signed documents ----
cat >"$T/mkdoc.c" <<'EOF'
/* mkdoc ORIGIN YEAR SEED OUT NCASES: a signed statistics document; prints its verifier key. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_b64.h"
#include "mp_note.h"
#include "mp_policy.h"
#include "mp_stats.h"

int
main(int argc, char **argv)
{
	struct mp_policy *p = NULL;
	struct mp_stats_layout *l;
	struct mp_stats *s;
	uint8_t seed[32] = { 0 }, pk[32], sk[64], sig[64], root[32] = { 9 };
	char err[256], ev[512], id[23], verifier[512], b64[128], path[1024], *doc;
	const char *def = mp_default_policy();
	int i, n, year;
	FILE *f;

	if (argc != 6 || sodium_init() < 0 || mp_policy_parse(&p, def, strlen(def), err, sizeof err))
		return 2;
	year = atoi(argv[2]);
	n = atoi(argv[5]);
	seed[0] = (uint8_t)atoi(argv[3]);
	crypto_sign_seed_keypair(pk, sk, seed);
	l = mp_stats_layout_policy(p);
	s = mp_stats_new(l, year, 5);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof id, "doc%02dxxxxxxxxxxxxx%04d", seed[0] % 100, i);
		snprintf(ev, sizeof ev, "{\"v\":1,\"case\":\"%s\",\"seq\":1,\"type\":\"created\","
		    "\"month\":\"%d-03\",\"channel\":\"web\",\"anonymous\":false}", id, year);
		if (mp_stats_add(s, (uint8_t *)ev, strlen(ev), err, sizeof err) != 0)
			return fprintf(stderr, "%s\n", err), 1;
		snprintf(ev, sizeof ev, "{\"v\":1,\"case\":\"%s\",\"seq\":2,\"type\":\"classified\","
		    "\"month\":\"%d-03\",\"grounds\":[\"origin\"],\"domain\":\"housing\","
		    "\"manifestation\":\"remark\",\"incident_municipality\":\"leiden\","
		    "\"residence_municipality\":\"leiden\"}", id, year);
		if (mp_stats_add(s, (uint8_t *)ev, strlen(ev), err, sizeof err) != 0)
			return fprintf(stderr, "%s\n", err), 1;
	}
	if ((doc = mp_stats_document(s, argv[1], (uint64_t)n * 2, root, 0)) == NULL)
		return 1;
	crypto_sign_detached(sig, NULL, (uint8_t *)doc, strlen(doc), sk);
	if (mp_b64_encode(b64, sizeof b64, sig, sizeof sig) != 0 ||
	    mp_note_verifier_text(verifier, sizeof verifier, argv[1], pk) != 0)
		return 1;
	f = fopen(argv[4], "w");
	fputs(doc, f);
	fclose(f);
	snprintf(path, sizeof path, "%s.sig", argv[4]);
	f = fopen(path, "w");
	fprintf(f, "%s\n", b64);
	fclose(f);
	printf("%s\n", verifier);
	return 0;
}
EOF
# An ASan build of the library needs the sanitizers at link time too.
SAN=
nm "$B/libmeldpunt.a" 2>/dev/null | grep -q '__asan_' && SAN="-fsanitize=address,undefined"
# shellcheck disable=SC2046,SC2086 # pkg-config prints several words; SAN is empty or one flag
${CC:-cc} -std=c11 -D_GNU_SOURCE $SAN -I"$ROOT/include" -o "$T/mkdoc" "$T/mkdoc.c" "$B/libmeldpunt.a" \
    $(pkg-config --libs libsodium sqlcipher libmicrohttpd jansson) -lpthread 2>"$T/err"
say $? "the signing helper builds against the library"
# The helper frees nothing before it exits: no leak report for it under ASan.
mk() { ASAN_OPTIONS=detect_leaks=0 "$T/mkdoc" "$@"; }
VA=$(mk a.example/log 2026 1 "$T/A.json" 12)
VB=$(mk b.example/log 2026 2 "$T/B.json" 7)
VC=$(mk c.example/log 2027 3 "$T/C.json" 6)
mk a.example/log 2026 2 "$T/Awrong.json" 12 >/dev/null   # origin a, signed by b's key
mk b.example/log 2026 2 "$T/B2.json" 3 >/dev/null        # b's key, a second document
[ -n "$VA" ] && [ -n "$VB" ] && [ -n "$VC" ] && [ -s "$T/A.json.sig" ]; say $? "three services' signed documents"

# ---- merge ----
run 0 "stats merge: two services of one year" "$M" stats merge --key "$VA" --key "$VB" "$T/A.json" "$T/B.json"
cp "$T/out" "$T/merged.json"
[ "$(js "$T/merged.json" "d['origins']")" = "['a.example/log', 'b.example/log']" ]; say $? "... origins lists both, in order"
[ "$(js "$T/merged.json" "d['cases']")" = 19 ]; say $? "... cases add up (12 + 7)"
[ "$(js "$T/merged.json" "d['tables']['municipality']['rows']['leiden'][0]")" = 19 ]; say $? "... and cells (leiden, both here)"
[ "$(js "$T/merged.json" "[s['tree_size'] for s in d['sources']]")" = "[24, 14]" ]; say $? "... each source keeps its tree size"
run 0 "stats merge --csv" "$M" stats merge --csv --key "$VB" --key "$VA" "$T/A.json" "$T/B.json"
head -c 3 "$T/out" | od -An -tx1 | grep -q 'ef bb bf'; say $? "... starts with the UTF-8 byte order mark"
has "year;provisional;table;code;label;column;column_label;value;suppressed" "... then the header row"
has "2026;0;domain;housing;Huisvesting;cases;Aantal zaken;19;0" "... Dutch labels by default"
run 0 "stats merge --csv --lang en" "$M" stats merge --csv --lang en --key "$VA" --key "$VB" "$T/A.json" "$T/B.json"
has "2026;0;domain;housing;Housing;cases;Cases;19;0" "... English labels"
echo "$VA" >"$T/va.key"
run 0 "--key takes a file that holds the verifier key" "$M" stats merge --key "$T/va.key" --key="$VB" "$T/A.json" "$T/B.json"

sed 's/"cases": 12,/"cases": 13,/' "$T/A.json" >"$T/At.json"
cp "$T/A.json.sig" "$T/At.json.sig"
run 1 "a tampered document is refused" "$M" stats merge --key "$VA" --key "$VB" "$T/At.json" "$T/B.json"
err_has "At.json: the signature does not verify with the key of a.example/log" "... naming the file and what failed"
[ ! -s "$T/out" ]; say $? "... and nothing is printed"
run 1 "a document signed by another key is refused" "$M" stats merge --key "$VA" --key "$VB" "$T/Awrong.json" "$T/B.json"
err_has "Awrong.json: the signature does not verify" "... naming the file"
run 1 "a document whose origin has no --key is refused" "$M" stats merge --key "$VB" "$T/A.json" "$T/B.json"
err_has "A.json names the log a.example/log, and no --key is for it" "... saying so"
run 1 "documents of different years are refused" "$M" stats merge --key "$VA" --key "$VC" "$T/A.json" "$T/C.json"
err_has "C.json is of 2027, .*A.json of 2026" "... naming both years"
run 1 "the same service twice is refused" "$M" stats merge --key "$VB" "$T/B.json" "$T/B2.json"
err_has "b.example/log is in more than one document" "... saying which"
run 1 "a merged document is not merged again (no service signed it)" "$M" stats merge --key "$VA" "$T/merged.json"
rm "$T/B.json.sig"
run 1 "a missing signature file is an error" "$M" stats merge --key "$VA" --key "$VB" "$T/A.json" "$T/B.json"
err_has "B.json.sig" "... naming it"

run 2 "stats merge without --key is bad usage" "$M" stats merge "$T/A.json"
run 2 "stats merge without files is bad usage" "$M" stats merge --key "$VA"
run 2 "a malformed --key is bad usage" "$M" stats merge --key nonsense "$T/A.json"
run 2 "stats without --year is bad usage" "$M" stats
run 2 "--csv with --json is bad usage" "$M" stats --year 2026 --csv --json
run 2 "an unknown --lang is bad usage" "$M" stats --year 2026 --csv --lang xx
run 0 "stats --help" "$M" stats --help
has "stats merge" "... describes merge"
run 0 "stats merge --help" "$M" stats merge --help
"$M" --help >"$T/out"
has "meldpunt stats --year" "meldpunt --help names stats"

# ---- fetching from a real meldpuntd ----
Y=$(date +%Y)
"$M" init --dir "$T/inst" --origin stats.example/log >"$T/verifier" 2>/dev/null
V=$(cat "$T/verifier")
# Reports are taken only while a caseworker key can open them.
"$M" keygen --name anna --out "$T/anna.key" >"$T/anna.json" 2>/dev/null
"$M" key add --dir "$T/inst" --role caseworker --name anna --sign "$(js "$T/anna.json" "d['sign']")" \
    --box "$(js "$T/anna.json" "d['box']")" >/dev/null
base=$((25000 + $$ % 10000))
for port in $base $((base + 1)) $((base + 2)) $((base + 3)); do
	curl -s -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && continue
	"$B/meldpuntd" --dir "$T/inst" --listen 127.0.0.1:$port >"$T/server.log" 2>&1 &
	pid=$!
	wait_http "http://127.0.0.1:$port/healthz"
	curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
	kill $pid 2>/dev/null; pid=
done
[ -n "$pid" ]; say $? "meldpuntd starts"
U=http://127.0.0.1:$port
for g in origin origin religion; do
	curl -s -H 'Content-Type: application/json' -d "{\"description\":\"x\",\"grounds\":[\"$g\"]}" \
	    "$U/api/v1/reports" >/dev/null
done
# The checkpoint may lag the newest event by up to a second.
i=0
while [ $i -lt 30 ]; do
	"$M" stats --year "$Y" --url "$U" --json >"$T/out" 2>/dev/null
	[ "$(js "$T/out" "d['cases']" 2>/dev/null)" = 3 ] && break
	sleep 0.1; i=$((i + 1))
done
run 0 "stats --year --key: fetched and verified" "$M" stats --year "$Y" --url "$U" --key "$V"
has "^Statistics $Y of stats.example/log (provisional" "... a table that names year, origin and that it is provisional"
has "^3 cases" "... the number of cases"
has "^  leiden  *0  *0  *0$" "... municipality rows with three columns"
has "^  web  *-$" "... suppressed cells as -"
has "^  total  *3$" "... and totals"
[ ! -s "$T/err" ]; say $? "... and nothing on stderr"
run 0 "stats --json" "$M" stats --year "$Y" --url "$U" --key "$V" --json
curl -s "$U/api/v1/stats/$Y" >"$T/served.json"
cmp -s "$T/out" "$T/served.json"; say $? "... prints the served document byte for byte"
run 0 "stats --csv" "$M" stats --year "$Y" --url "$U" --key "$V" --csv
# A report's own grounds are the reporter's view, not a classification: all 3 are unclassified.
has "$Y;1;ground;not_classified;Niet geclassificeerd;cases;Aantal zaken;;1" "... with provisional 1 and a suppressed cell"
run 0 "stats --out" "$M" stats --year "$Y" --url "$U" --key "$V" --out "$T/saved.json" --json
cmp -s "$T/saved.json" "$T/served.json" && [ -s "$T/saved.json.sig" ]; say $? "... writes the document and its signature"
run 0 "a saved document merges with its key" "$M" stats merge --key "$V" "$T/saved.json"
run 1 "stats --out does not overwrite" "$M" stats --year "$Y" --url "$U" --out "$T/saved.json"
"$M" init --dir "$T/other" --origin other.example/log >"$T/verifier2" 2>/dev/null
run 1 "another log's key is refused" "$M" stats --year "$Y" --url "$U" --key "$(cat "$T/verifier2")"
err_has "names the log stats.example/log, not other.example/log" "... naming both logs"
[ ! -s "$T/out" ]; say $? "... and nothing is printed"
run 0 "without --key the statistics print" "$M" stats --year "$Y" --url "$U"
err_has "not checked" "... with a note that nothing was checked"
MELDPUNT_URL=$U run 0 "the URL comes from MELDPUNT_URL" "$M" stats --year "$Y" --json
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
run 1 "a server that cannot be reached is an error" "$M" stats --year "$Y" --url "$U"
err_has "cannot reach" "... saying so"

# ---- a server that lies: static files ----
mkdir -p "$T/www/api/v1/stats"
sed 's/"cases": 3,/"cases": 4,/' "$T/saved.json" >"$T/www/api/v1/stats/$Y"
cp "$T/saved.json.sig" "$T/www/api/v1/stats/$Y.sig"
cp "$T/saved.json" "$T/www/api/v1/stats/2020"
cp "$T/saved.json.sig" "$T/www/api/v1/stats/2020.sig"
for sport in $((port + 10)) $((port + 11)) $((port + 12)); do
	python3 -m http.server "$sport" --bind 127.0.0.1 --directory "$T/www" >/dev/null 2>&1 &
	spid=$!
	wait_http "http://127.0.0.1:$sport/"
	curl -s -o /dev/null "http://127.0.0.1:$sport/" && break
	kill $spid 2>/dev/null; spid=
done
if [ -n "$spid" ]; then
	S=http://127.0.0.1:$sport
	run 1 "a tampered served document is refused" "$M" stats --year "$Y" --url "$S" --key "$V"
	err_has "the signature does not verify" "... saying so"
	run 1 "another year's document is refused" "$M" stats --year 2020 --url "$S"
	err_has "answered with the statistics of $Y, not 2020" "... naming both years"
	run 1 "a missing year is an error" "$M" stats --year 2019 --url "$S"
	err_has "HTTP 404" "... with the HTTP status"
else
	echo "not ok - a static file server starts (python3 -m http.server)"; fails=$((fails + 1))
fi

echo "# $passes passed, $fails failed"
[ "$fails" -eq 0 ]
