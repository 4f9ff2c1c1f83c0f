#!/bin/sh
# The caseworker's side of meldpunt against a real meldpuntd on loopback:
# keygen, key add, cases, case show|reply|status, and their errors.
# Usage: sh tests/cli/test_caseworker.sh BUILD_DIR   (TAP-ish "ok - " lines)
B=$(cd "${1:-build}" && pwd) || exit 2
M=$B/meldpunt
T=$(mktemp -d "${TMPDIR:-/tmp}/mp-cw.XXXXXX") || exit 2
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$T"' EXIT
export MELDPUNT_KDF_FAST=1 MELDPUNT_PASSPHRASE='correct horse battery'
unset MELDPUNT_URL MELDPUNT_KEY

say() { if [ "$1" -eq 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fi; }
# status WANT DESC CMD...: the command exits with WANT
status() { w=$1; d=$2; shift 2; "$@" >"$T/out" 2>"$T/err"; say $(($? != w)) "$d"; }
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# usage and help
status 0 "meldpunt --help exits 0" "$M" --help
status 2 "meldpunt with an unknown command exits 2" "$M" frobnicate
for c in keygen cases case; do status 0 "meldpunt $c --help exits 0" "$M" $c --help; done
status 0 "meldpunt case show --help exits 0" "$M" case show --help
status 2 "an unknown option is bad usage (exit 2)" "$M" cases --frob
status 2 "keygen without --out is bad usage (exit 2)" "$M" keygen --name X
status 2 "a malformed case id is bad usage (exit 2)" "$M" case show nope --key x

# keys
"$M" keygen --name "Anna de Vries" --out "$T/anna.key" >"$T/anna.json" 2>"$T/err"
say $? "keygen writes a key file and prints its bundle"
say $([ "$(stat -c %a "$T/anna.key")" = 600 ]; echo $?) "the key file has mode 0600"
status 1 "keygen refuses to overwrite a file" "$M" keygen --name A --out "$T/anna.key"
MELDPUNT_PASSPHRASE=short "$M" keygen --name A --out "$T/short.key" >/dev/null 2>&1
say $(($? != 1)) "keygen refuses a passphrase shorter than 8 characters"
"$M" keygen --name Bram --out "$T/bram.key" >"$T/bram.json" 2>/dev/null
"$M" keygen --name Safe --role recovery --out "$T/rec.key" >"$T/rec.json" 2>/dev/null
say $(js "$T/rec.json" "'sign' in d" | grep -qx False; echo $?) "a recovery bundle has no sign key"

"$M" init --dir "$T/inst" --origin test.example/log >/dev/null 2>&1
say $? "meldpunt init"
for who in anna bram; do
	"$M" key add --dir "$T/inst" --role caseworker --name "$(js "$T/$who.json" "d['name']")" \
	    --sign "$(js "$T/$who.json" "d['sign']")" --box "$(js "$T/$who.json" "d['box']")" >/dev/null
	say $? "key add takes the bundle keygen printed ($who)"
done
"$M" key add --dir "$T/inst" --role recovery --name Safe --box "$(js "$T/rec.json" "d['box']")" >/dev/null
say $? "key add takes a recovery bundle"

# server on a free port: nothing may answer there before ours starts
base=$((20000 + $$ % 20000))
for port in $base $((base + 1)) $((base + 2)) $((base + 3)) $((base + 4)); do
	curl -s -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && continue
	"$B/meldpuntd" --dir "$T/inst" --listen 127.0.0.1:$port >"$T/server.log" 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 50 ] && kill -0 $pid 2>/dev/null &&
	    ! curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 $pid 2>/dev/null && curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
	kill $pid 2>/dev/null
	pid=
done
[ -n "$pid" ] || { echo "not ok - meldpuntd starts"; exit 1; }
U=http://127.0.0.1:$port
export MELDPUNT_URL=$U

status 2 "a command without --key or MELDPUNT_KEY is bad usage (exit 2)" "$M" cases
grep -q "MELDPUNT_KEY" "$T/err"; say $? "... and says to pass --key or set MELDPUNT_KEY"
export MELDPUNT_KEY="$T/anna.key"
status 1 "an unreachable server is exit 1" "$M" cases --url http://127.0.0.1:1
grep -q "http://127.0.0.1:1" "$T/err"; say $? "... with a message naming the URL"
MELDPUNT_PASSPHRASE='wrong horse battery' "$M" cases >/dev/null 2>"$T/err"
say $(($? != 1)) "a wrong passphrase is exit 1"

report='{"language":"en","role":"victim","wish":"assistance","description":"They would not rent to me.\nSecond line \u001b[31m.","grounds":["origin"],"domain":"housing","contact":{"name":"Sam","email":"sam@example.org","preferred":"email"}}'
curl -s -H 'Content-Type: application/json' -d "$report" "$U/api/v1/reports" >"$T/r1.json"
token=$(js "$T/r1.json" "d['token']")
curl -s -H 'Content-Type: application/json' -d '{"description":"Anonymous one."}' "$U/api/v1/reports" >/dev/null

"$M" cases >"$T/cases" 2>"$T/err"
say $? "cases lists the cases"
say $([ "$(wc -l <"$T/cases")" -eq 2 ]; echo $?) "... one line per case"
grep -q "named" "$T/cases" && grep -q "anonymous" "$T/cases"; say $? "... anonymous and named"
id=$(grep named "$T/cases" | awk '{print $NF}')
"$M" cases --limit 1 >"$T/page" 2>/dev/null
grep -q "^next: " "$T/page"; say $? "cases --limit 1 gives the next cursor"
"$M" cases --after "$(sed -n 's/^next: //p' "$T/page")" >"$T/page2" 2>/dev/null
say $([ "$(wc -l <"$T/page2")" -eq 1 ]; echo $?) "cases --after CURSOR gives the next page"
"$M" cases --json >"$T/cases.json" 2>/dev/null
say $(js "$T/cases.json" "len(d['cases'])" | grep -qx 2; echo $?) "cases --json prints the server's JSON"

"$M" case show "$id" >"$T/show" 2>"$T/err"
say $? "case show opens the report"
grep -q "They would not rent to me." "$T/show"; say $? "... and prints the description"
grep -q "$(printf '\033')" "$T/show"; say $((! $?)) "... without passing control characters to the terminal"
"$M" case show "$id" --json >"$T/show.json" 2>/dev/null
say $(js "$T/show.json" "d['report']['contact']['name']" | grep -qx Sam; echo $?) "case show --json has the opened report"
say $(js "$T/show.json" "'report' in d['case'] or 'messages' in d['case']" | grep -qx False; echo $?) "... and the case without envelopes"

"$M" case reply "$id" --text "Hello Sam" >/dev/null 2>&1
say $? "case reply --text sends a reply"
printf 'From stdin\nline two\n' | "$M" case reply "$id" >/dev/null 2>&1
say $? "case reply reads the text from stdin"
status 1 "an empty reply is exit 1" "$M" case reply "$id" --text ""
status 2 "--text and --file together are bad usage" "$M" case reply "$id" --text a --file b
curl -s -H 'Content-Type: application/json' -d "{\"token\":\"$token\"}" "$U/api/v1/followup" >"$T/f.json"
say $(js "$T/f.json" "[m['text'] for m in d['messages']]" | grep -q "Hello Sam.*From stdin.nline two"; echo $?) \
    "the reporter reads both replies through the token"
curl -s -H 'Content-Type: application/json' -d "{\"token\":\"$token\",\"text\":\"Call me.\"}" \
    "$U/api/v1/followup/messages" >/dev/null
MELDPUNT_KEY="$T/bram.key" "$M" case show "$id" --json >"$T/bram.json2" 2>/dev/null
say $(js "$T/bram.json2" "[(m['from'], m['text'], m['author']) for m in d['messages']]" |
    grep -q "('caseworker', 'Hello Sam', 'Anna de Vries').*('reporter', 'Call me.', None)"; echo $?) \
    "a colleague reads the thread, oldest first, with authors"

"$M" keygen --name Late --out "$T/late.key" >"$T/late.json" 2>/dev/null
"$M" key add --dir "$T/inst" --role caseworker --name Late --sign "$(js "$T/late.json" "d['sign']")" \
    --box "$(js "$T/late.json" "d['box']")" >/dev/null
MELDPUNT_KEY="$T/late.key" "$M" case show "$id" >"$T/late.show" 2>/dev/null
grep -q "cannot be opened with this key" "$T/late.show"; say $? "a key added later sees items it cannot open"

"$M" case status "$id" intake >"$T/st" 2>/dev/null
say $? "case status moves a case"
grep -q ": intake$" "$T/st"; say $? "... and says so"
status 1 "closing without a closure code is exit 1" "$M" case status "$id" closed
grep -q "(missing_field, field closure)" "$T/err"; say $? "... printing the API error as message (code, field)"
"$M" case status "$id" in_progress >/dev/null &&
    "$M" case status "$id" closed --closure advice_information >/dev/null
say $? "case status closed --closure CODE closes a case"
status 1 "an unknown case is exit 1" "$M" case show AAAAAAAAAAAAAAAAAAAAAA
grep -q "(not_found)" "$T/err"; say $? "... with not_found"
exit 0
