#!/bin/sh
# make scan: sh tests/scan/run.sh BUILD_DIR
#
# Web scanning of a running meldpuntd: a fresh instance with a caseworker
# key, meldpuntd on a free loopback port, wapiti over the pages and the GET
# routes, then sqlmap against every route that takes input (the form posts,
# ?lang=, the JSON API, the log and statistics routes and, signed by
# tests/scan/proxy.py, the caseworker and auditor routes).  Afterwards: is
# the server still up and still serving, does the database open with its key
# and pass SQLite's integrity checks, is there a crash on stderr, did any
# request get a 5xx or no answer.  Prints a summary; the full reports go to
# tests/out/scan/.  docs/SCAN.md describes it and the figures of a run.
#
# Exit 0 when the server survived intact and sqlmap confirmed no injection;
# 1 otherwise.  The scanners' other findings are listed, to be read.
#
# Environment:
#   SCAN_LEVEL, SCAN_RISK     sqlmap --level and --risk (default 3 and 2)
#   SCAN_SQLMAP_SECONDS       time limit of one sqlmap target (default 1200)
#   SCAN_WAPITI_SECONDS       wapiti's --max-scan-time (default 1800)
#   SCAN_WAPITI_ATTACK_SECONDS  its --max-attack-time, per module (default 300)
#   SCAN_TOOLS                "wapiti sqlmap" (default), or one of them
#   SCAN_ONLY                 an extended regular expression: only the sqlmap
#                             targets whose names match (names in the summary)
#   SCAN_OUT                  where the reports go (default tests/out/scan)
#   SCAN_KEEP=1               keeps the instance (it holds its keys) in a temporary directory
set -u
B=$(cd "${1:-build}" && pwd) || exit 2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SD=$ROOT/tests/scan
OUT=${SCAN_OUT:-$ROOT/tests/out/scan}
LEVEL=${SCAN_LEVEL:-3}
RISK=${SCAN_RISK:-2}
# Below level 4 sqlmap passes over any parameter named like "token" (it takes
# them for anti-CSRF tokens): the follow-up routes run at level 4 at least.
TOKEN_LEVEL=$((LEVEL > 4 ? LEVEL : 4))
LV=$LEVEL
SQLMAP_SECONDS=${SCAN_SQLMAP_SECONDS:-1200}
WAPITI_SECONDS=${SCAN_WAPITI_SECONDS:-1800}
WAPITI_ATTACK=${SCAN_WAPITI_ATTACK_SECONDS:-300}
TOOLS=${SCAN_TOOLS:-wapiti sqlmap}
ONLY=${SCAN_ONLY:-.}
PY=/usr/bin/python3
M=$B/meldpunt
export MELDPUNT_KDF_FAST=1 MELDPUNT_PASSPHRASE='scan caseworker passphrase'
unset MELDPUNT_URL MELDPUNT_KEY http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY

for tool in sqlmap wapiti sqlcipher curl $PY; do
	command -v "$tool" >/dev/null || { echo "scan: $tool is missing (make scan installs it)"; exit 1; }
done
$PY -c 'import cryptography' 2>/dev/null ||
	{ echo "scan: python3-cryptography is missing (make scan installs it)"; exit 1; }
[ -x "$B/meldpuntd" ] && [ -x "$M" ] || { echo "scan: build $B first"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/mp-scan.XXXXXX") || exit 1
spid='' ppid_='' cpid=''
cleanup() {
	for p in $cpid $spid $ppid_; do kill "$p" 2>/dev/null; done
	if [ -n "${SCAN_KEEP:-}" ]; then echo "scan: instance kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$OUT"
mkdir -p "$OUT/sqlmap" "$OUT/wapiti" || exit 1
CHECKS=$OUT/checks.txt
: >"$CHECKS"
START=$(date +%s)

# check NAME OK [DETAIL]: one line of the final checks (OK is 0 for a pass).
check() {
	if [ "$2" -eq 0 ]; then echo "ok - $1" >>"$CHECKS"; else echo "not ok - $1${3:+ ($3)}" >>"$CHECKS"; fi
}
js() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
b64u() { head -c "$1" /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='; }
freeport() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- the instance: a caseworker key from meldpunt keygen, and the scan's own keys ----
"$M" init --dir "$T/inst" --origin scan.meldpunt.localhost/log \
    --public-url http://scan.meldpunt.localhost >"$T/verifier.txt" 2>"$T/init.err" ||
	{ cat "$T/init.err"; exit 1; }
"$M" keygen --name "Scan caseworker" --out "$T/cw.key" >"$T/cw.json" 2>/dev/null &&
    "$M" key add --dir "$T/inst" --role caseworker --name "Scan caseworker" \
    --sign "$(js "$T/cw.json" "d['sign']")" --box "$(js "$T/cw.json" "d['box']")" >/dev/null ||
	{ echo "scan: cannot register the caseworker key"; exit 1; }
# Keys the proxy signs with: the signed routes' payloads must pass the signature.
$PY "$SD/proxy.py" --keygen "$T/keys" >"$T/keys.txt" || exit 1
while read -r role sign box; do
	"$M" key add --dir "$T/inst" --role "$role" --name "Scan proxy $role" --sign "$sign" \
	    --box "$box" >>"$T/keyadd.txt" || { echo "scan: cannot register the $role key"; exit 1; }
done <"$T/keys.txt"
KID=$(sed -n 's/^added caseworker Scan proxy.*(kid \([^)]*\)).*/\1/p' "$T/keyadd.txt")
# Rate limits (docs/ABUSE.md) must not turn the scan into a count of 429s:
# every rate in the instance's [limits] goes to its maximum, loopback is exempt.
LIMITS="none in the policy"
if grep -q '^\[limits\]' "$T/inst/policy.conf"; then
	awk '/^\[/ { s = $0 == "[limits]" }
	    s && NF == 3 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { print $1, 1000000, 1; next }
	    s && $1 == "connections" { print $1, 1024; next }
	    s && $1 == "local" { print $1, "exempt"; next } { print }' "$T/inst/policy.conf" \
	    >"$T/policy.conf" && mv "$T/policy.conf" "$T/inst/policy.conf" && chmod 600 "$T/inst/policy.conf"
	LIMITS="raised to 1000000 requests a second, loopback exempt"
fi
echo "rate limits: $LIMITS" >"$OUT/limits.txt"

# ---- meldpuntd and the proxy ----
PORT=$(freeport)
U=http://127.0.0.1:$PORT
"$B/meldpuntd" --dir "$T/inst" --listen "127.0.0.1:$PORT" >"$OUT/meldpuntd.stdout" \
    2>"$OUT/meldpuntd.stderr" &
spid=$!
i=0
until curl -sf "$U/healthz" >/dev/null 2>&1; do
	kill -0 "$spid" 2>/dev/null && [ $i -lt 200 ] ||
		{ echo "scan: meldpuntd does not start:"; cat "$OUT/meldpuntd.stderr"; exit 1; }
	i=$((i + 1)); sleep 0.05
done
TRAFFIC=$OUT/traffic.txt
$PY "$SD/proxy.py" "$T/proxy.port" "$PORT" "$TRAFFIC" "$T/keys" 2>"$OUT/proxy.stderr" &
ppid_=$!
i=0
until [ -s "$T/proxy.port" ]; do
	kill -0 "$ppid_" 2>/dev/null && [ $i -lt 200 ] || { echo "scan: the proxy does not start"; exit 1; }
	i=$((i + 1)); sleep 0.05
done
PROXY=http://127.0.0.1:$(cat "$T/proxy.port")

# via TARGET CURL_ARGS...: one request through the proxy, tagged.
via() { t=$1; shift; curl -s -x "$PROXY" -H "X-Scan-Target: $t" "$@"; }

# ---- what the scanners start from: six reports, their case ids, a cursor ----
REPORT='{"language":"en","role":"victim","wish":"advice","description":"The landlord refused me because of my name.","occurred_on":"2026-01-05","location":"Stationsplein","incident_municipality":"leiden","residence_municipality":"leiden","grounds":["origin"],"domain":"housing","manifestation":"refusal","counterparty":"A letting agency","contact":{"name":"Sam","email":"sam@example.org","phone":"0612345678","preferred":"email"}}'
via seed -H 'Content-Type: application/json' -d "$REPORT" "$U/api/v1/reports" >"$T/r1.json"
# Each run that adds messages gets a case of its own: every message makes
# each later look at that case longer (docs/SCAN.md).
for r in 2 3 4 5 6; do
	via seed -H 'Content-Type: application/json' -d "{\"description\":\"Report $r.\"}" \
	    "$U/api/v1/reports" >"$T/r$r.json"
done
for r in 1 3 4 5 6; do
	js "$T/r$r.json" "d['token']" >"$T/token$r" 2>/dev/null ||
		{ echo "scan: a seed report was refused:"; cat "$T/r$r.json"; exit 1; }
done
TOKEN=$(cat "$T/token1")
YEAR=$(js "$T/r1.json" "d['received'][:4]")
via seed "$U/api/v1/cases?limit=1" >"$T/page1.json"
CURSOR=$(js "$T/page1.json" "d['next']")
via seed "$U/api/v1/cases" >"$T/cases.json"
CASE=$(js "$T/cases.json" "d['cases'][-1]['id']")   # newest first: the first report is last
CASE2=$(js "$T/cases.json" "d['cases'][-2]['id']")
[ -n "$CURSOR" ] && [ -n "$CASE" ] && [ -n "$KID" ] ||
	{ echo "scan: the signed routes do not answer through the proxy"; cat "$T/cases.json"; exit 1; }
FORM='lang=en&description=They+refused+me+at+the+door.&role=victim&wish=advice&occurred_on=2026-01-05&location=Stationsplein&incident_municipality=leiden&residence_municipality=leiden&grounds=origin&grounds=religion&domain=housing&manifestation=refusal&counterparty=A+letting+agency&contact=contact&contact_name=Sam&contact_email=sam%40example.org&contact_phone=0612345678&contact_preferred=email'
NOTE="{\"envelope\":{\"v\":1,\"kind\":\"note\",\"nonce\":\"$(b64u 24)\",\"ct\":\"$(b64u 272)\",\"recipients\":[{\"kid\":\"$KID\",\"sealed\":\"$(b64u 80)\"}]}}"

# ---- wapiti: crawls the pages from / and attacks what it finds ----
# Left out: buster and nikto (path brute force over a fixed route table; nikto
# fetches its database from the Internet), brute_login_form (no login),
# ssrf (needs wapiti's Internet endpoint), wapp (fingerprinting).
WAPITI_MODULES=backup,blindsql,cookieflags,crlf,csp,csrf,exec,file,htaccess,http_headers,methods,permanentxss,redirect,shellshock,sql,xss,xxe
up() { kill -0 "$spid" 2>/dev/null && curl -sf -m 10 "$U/healthz" >/dev/null 2>&1; }
DIED=
if echo "$TOOLS" | grep -qw wapiti; then
	echo "scan: wapiti ($WAPITI_MODULES), at most ${WAPITI_SECONDS}s"
	t0=$(date +%s)
	# The endpoint is a closed local port: out-of-band checks fail at once, offline.
	wapiti -u "$U/" --scope folder -m "$WAPITI_MODULES" -l 2 -d 6 \
	    --max-scan-time "$WAPITI_SECONDS" --max-attack-time "$WAPITI_ATTACK" -t 20 \
	    -p "$PROXY" -H "X-Scan-Target: wapiti" --endpoint http://127.0.0.1:9/ \
	    -s "$U/?lang=en" -s "$U/f?lang=en" -s "$U/accessibility?lang=ar" \
	    -s "$U/api/v1/log/leaves?start=0&end=2" -s "$U/api/v1/log/inclusion?index=0&size=2" \
	    -s "$U/api/v1/log/consistency?from=1&to=2" -s "$U/api/v1/stats/$YEAR?size=2" \
	    -s "$U/api/v1/stats/$YEAR.sig?size=2" -s "$U/api/v1/policy" \
	    -s "$U/api/v1/cases?status=received&limit=10&after=$CURSOR" \
	    -s "$U/api/v1/audit/events?start=0&end=2" \
	    --store-session "$T/wapiti-session" --store-config "$T/wapiti-config" --flush-session \
	    --no-bugreport -v 1 -f json -o "$OUT/wapiti/report.json" >"$OUT/wapiti/console.txt" 2>&1 &
	cpid=$!
	wait "$cpid"
	echo "wapiti $? $(($(date +%s) - t0))" >"$OUT/wapiti/status.txt"
	cpid=
	up || DIED=wapiti
fi

# ---- sqlmap: every route that takes input ----
# target NAME SQLMAP_ARGS...: one sqlmap run, its console in $OUT/sqlmap/NAME.txt.
target() {
	n=$1; shift
	echo "$n" | grep -Eq "$ONLY" || return 0
	[ -z "$DIED" ] || return 0
	echo "scan: sqlmap $n"
	t0=$(date +%s)
	TERM=dumb timeout "$SQLMAP_SECONDS" sqlmap --batch --level "$LV" --risk "$RISK" --flush-session \
	    --disable-coloring --timeout 30 --retries 1 --proxy "$PROXY" -H "X-Scan-Target: $n" \
	    --output-dir "$OUT/sqlmap/$n" "$@" </dev/null >"$OUT/sqlmap/$n.txt" 2>&1 &
	cpid=$!
	wait "$cpid"
	echo "$n $? $(($(date +%s) - t0)) $LV" >>"$OUT/sqlmap/status.txt"
	cpid=
	up || DIED=$n
}
token_target() { LV=$TOKEN_LEVEL; target "$@"; LV=$LEVEL; }
JSON='Content-Type: application/json'
if echo "$TOOLS" | grep -qw sqlmap; then
	: >"$OUT/sqlmap/status.txt"
	# The pages: ?lang= and Accept-Language, the three form posts.
	target page_form_get -u "$U/?lang=en"
	target page_form_accept_language -u "$U/" -H 'Accept-Language: en-GB*,nl;q=0.5'
	target page_followup_get -u "$U/f?lang=en"
	target page_accessibility -u "$U/accessibility?lang=en"
	target page_report_post -u "$U/report" --data "$FORM"
	token_target page_status_post -u "$U/f" --data "token=$TOKEN&lang=en"
	# Messages: the token in one run, the rest in another, each on its own
	# case.  User-Agent and Referer, which the server does not read, are
	# left to the other targets: here each payload would store one more message.
	MSG='Thank+you%2C+I+can+call+on+Monday.'
	token_target page_message_token -u "$U/f/message" -p token \
	    --data "token=$(cat "$T/token3")&text=$MSG&lang=en"
	target page_message_text -u "$U/f/message" -p text,lang \
	    --data "token=$(cat "$T/token5")&text=$MSG&lang=en"
	# The residents' JSON API.
	target api_reports -u "$U/api/v1/reports" -H "$JSON" --data "$REPORT"
	token_target api_followup -u "$U/api/v1/followup" -H "$JSON" --data "{\"token\":\"$TOKEN\"}"
	MSG='Thank you, I can call on Monday.'
	token_target api_message_token -u "$U/api/v1/followup/messages" -H "$JSON" -p token \
	    --data "{\"token\":\"$(cat "$T/token4")\",\"text\":\"$MSG\"}"
	target api_message_text -u "$U/api/v1/followup/messages" -H "$JSON" -p text \
	    --data "{\"token\":\"$(cat "$T/token6")\",\"text\":\"$MSG\"}"
	# The transparency log and the statistics (the year in the path too).
	target log_leaves -u "$U/api/v1/log/leaves?start=0&end=2"
	target log_inclusion -u "$U/api/v1/log/inclusion?index=0&size=2"
	target log_consistency -u "$U/api/v1/log/consistency?from=1&to=2"
	target stats -u "$U/api/v1/stats/$YEAR?size=2"
	target stats_year -u "$U/api/v1/stats/$YEAR*"
	target stats_sig -u "$U/api/v1/stats/$YEAR.sig?size=2"
	# Signed routes (the proxy signs each request): caseworker and auditor.
	target cases_list -u "$U/api/v1/cases?status=received&limit=10&after=$CURSOR&ground=origin&overdue=1"
	target cases_ref -u "$U/api/v1/cases?ref=$YEAR-0001"
	target case_show -u "$U/api/v1/cases/$CASE*"
	target case_status -u "$U/api/v1/cases/$CASE2/status" -H "$JSON" --data '{"status":"intake"}'
	target case_classification -u "$U/api/v1/cases/$CASE/classification" -H "$JSON" \
	    --data '{"grounds":["origin","religion"],"domain":"housing","manifestation":"refusal","incident_municipality":"leiden","residence_municipality":"leiden"}'
	target case_note -u "$U/api/v1/cases/$CASE2/messages" -H "$JSON" --skip User-Agent,Referer \
	    --data "$NOTE"
	target collective_create -u "$U/api/v1/collectives" -H "$JSON" --data '{"name":"TV statement, November"}'
	target recipients_missing -u "$U/api/v1/recipients?missing=$KID&limit=10"
	target audit_events -u "$U/api/v1/audit/events?start=0&end=2"
fi

# ---- afterwards: up, still serving, no crash, an intact database ----
[ -z "$DIED" ]; check "meldpuntd still answers /healthz after the scans" $? "${DIED:+down after $DIED}"
curl -s -H "$JSON" -d '{"description":"After the scan."}' "$U/api/v1/reports" >"$T/after.json"
t=$(js "$T/after.json" "d['token']" 2>/dev/null)
curl -s -o /dev/null -w '%{http_code}' -H "$JSON" -d "{\"token\":\"$t\"}" "$U/api/v1/followup" \
    >"$T/after.code" 2>/dev/null
[ -n "$t" ] && [ "$(cat "$T/after.code")" = 200 ]
check "meldpuntd still takes a report and answers its follow-up" $?
# What a look at the cases the message runs filled costs now (docs/SCAN.md).
: >"$OUT/growth.txt"
for r in 5 6; do
	[ -s "$T/token$r" ] || continue
	tk=$(cat "$T/token$r")
	a=$(curl -s -o "$T/view$r.json" -w '%{time_total} s, %{size_download} bytes' -H "$JSON" \
	    -d "{\"token\":\"$tk\"}" "$U/api/v1/followup")
	p=$(curl -s -o /dev/null -w '%{time_total} s, %{size_download} bytes' \
	    --data "token=$tk&lang=en" "$U/f")
	n=$(js "$T/view$r.json" "len(d['messages'])" 2>/dev/null || echo "?")
	w=api_message_text
	[ "$r" = 5 ] && w=page_message_text
	echo "the case of $w: $n messages; POST /api/v1/followup $a; POST /f $p" >>"$OUT/growth.txt"
done
kill -TERM "$spid" 2>/dev/null
wait "$spid"
rc=$?
spid=
[ "$rc" -eq 0 ]; check "meldpuntd exits 0 on SIGTERM" $? "exit $rc"
# A sanitizer's report, a failed assertion or libc's own alarms; with
# privilege separation a dead child shows in the exit status above.
CRASH='ERROR: [A-Za-z]*Sanitizer|SUMMARY: [A-Za-z]*Sanitizer|runtime error:|Segmentation|segfault|SIGSEGV|SIGABRT|Aborted|stack smashing|double free|corrupted|Assertion|core dumped|killed by signal|terminated by signal'
grep -Eq "$CRASH" "$OUT/meldpuntd.stderr"; [ $? -ne 0 ]
check "no crash on meldpuntd's stderr" $? "see meldpuntd.stderr"
n5=$(awk '$4 ~ /^5/ && $4 != 503 || $4 == "no-answer"' "$TRAFFIC" | wc -l)
[ "$n5" -eq 0 ]; check "no 500 and no request left unanswered" $? "$n5 requests"
# The key goes to sqlcipher on stdin, not on its command line.
HEX=$(od -An -tx1 -v "$T/inst/db.key" | tr -d ' \n')
{
	printf "PRAGMA key = \"x'%s'\";\n" "$HEX"
	cat <<'SQL'
SELECT 'integrity_check';
PRAGMA integrity_check;
SELECT 'foreign_key_check';
PRAGMA foreign_key_check;
SELECT 'cases', count(*) FROM cases;
SELECT 'items', count(*) FROM items;
SELECT 'log', count(*) FROM log;
SQL
} | sqlcipher -batch "$T/inst/meldpunt.db" >"$OUT/integrity.txt" 2>&1
HEX=
# SQLCipher (3.4 in Debian 12) checks each page's HMAC as integrity_check reads it.
awk '/^integrity_check$/ { s = 2; next } /^foreign_key_check$/ { s = 3; next } /^cases\|/ { s = 0 }
    s == 3 || (s == 2 && $0 != "ok") { bad = 1 } END { exit bad }' "$OUT/integrity.txt" &&
    grep -qx ok "$OUT/integrity.txt" && grep -q '^cases|' "$OUT/integrity.txt"
check "the database opens with its key and passes integrity_check and foreign_key_check" $? \
    "see integrity.txt"

echo "$(($(date +%s) - START))" >"$OUT/seconds.txt"
$PY "$SD/summary.py" "$OUT" | tee "$OUT/summary.txt"
! grep -q '^not ok' "$CHECKS" && ! grep -q '^CONFIRMED' "$OUT/summary.txt"
