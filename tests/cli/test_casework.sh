#!/bin/sh
# End-to-end test of the caseworker CLI's case work (docs/CASEWORK.md, "Command line")
# against a real meldpuntd on loopback: cases filters, references, case show/note/classify,
# intake (follow-up token, QR), collectives (with N mass reports, timed), share, purge,
# init --recovery-key, and overdue (under faketime, when installed).
#
# Usage: sh /tmp/casework_cli_test.sh [BUILD_DIR]      (default /work/main/build)
#   N=5000 (mass reports for the collective timing; N=0 skips), KEEP=1 keeps the temp dir.
# Prints "ok - " / "not ok - " lines and a summary; exit 1 if anything failed.
B=$(cd "${1:-/work/main/build}" && pwd) || exit 2
M=$B/meldpunt
N=${N:-300}
T=$(mktemp -d "${TMPDIR:-/tmp}/mp-casework.XXXXXX") || exit 2
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$T"' EXIT
export MELDPUNT_KDF_FAST=1 MELDPUNT_PASSPHRASE='correct horse battery'
unset MELDPUNT_URL MELDPUNT_KEY
fails=0
passes=0

say() {
	if [ "$1" -eq 0 ]; then echo "ok - $2"; passes=$((passes + 1))
	else echo "not ok - $2"; fails=$((fails + 1)); [ -s "$T/err" ] && sed 's/^/#   /' "$T/err" | head -5; fi
}
# run WANT DESC CMD...: the command exits with WANT (stdout in $T/out, stderr in $T/err)
run() { w=$1; d=$2; shift 2; "$@" >"$T/out" 2>"$T/err"; say $(($? != w)) "$d"; }
has() { grep -q -- "$1" "$T/out"; say $? "$2"; }
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
now() { python3 -c 'import time; print(time.time())'; }

# ---- keys and instance ----
for who in anna bram cora dirk; do
	"$M" keygen --name "$who" --out "$T/$who.key" >"$T/$who.json" 2>/dev/null
done
"$M" keygen --name Kluis --role recovery --out "$T/rec.key" >"$T/rec.json" 2>/dev/null
run 2 "init --recovery-key with a malformed key is bad usage" \
    "$M" init --dir "$T/bad" --origin t/log --recovery-key nope
[ ! -e "$T/bad" ]; say $? "... and creates nothing"
run 0 "init --recovery-key registers the recovery key" \
    "$M" init --dir "$T/inst" --origin t/log --recovery-key "$(js "$T/rec.json" "d['box']")"
[ "$(wc -l <"$T/out")" -eq 1 ]; say $? "... stdout is still only the verifier key"
"$M" key list --dir "$T/inst" >"$T/out"
has "recovery  *active.*Recovery key" "... key list shows it as an active recovery key"
add() {
	"$M" key add --dir "$T/inst" --role caseworker --name "$1" --sign "$(js "$T/$1.json" "d['sign']")" \
	    --box "$(js "$T/$1.json" "d['box']")" >/dev/null
}
add anna
add bram

base=$((24000 + $$ % 10000))
for port in $base $((base + 1)) $((base + 2)) $((base + 3)); do
	curl -s -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && continue
	"$B/meldpuntd" --dir "$T/inst" --listen 127.0.0.1:$port >"$T/server.log" 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 50 ] && kill -0 $pid 2>/dev/null && ! curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
		sleep 0.1; i=$((i + 1))
	done
	curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
	kill $pid 2>/dev/null; pid=
done
[ -n "$pid" ] || { echo "not ok - meldpuntd starts"; exit 1; }
U=http://127.0.0.1:$port
export MELDPUNT_URL=$U MELDPUNT_KEY="$T/anna.key"
post() { curl -s -H 'Content-Type: application/json' -d "$1" "$U/api/v1/reports"; }

post '{"language":"en","description":"They would not rent to me.","grounds":["origin"],"contact":{"email":"sam@example.org"}}' >"$T/r1.json"
tok1=$(js "$T/r1.json" "d['token']")
post '{"description":"Anonymous one."}' >/dev/null

# ---- cases and references ----
run 0 "cases lists the cases" "$M" cases
[ "$(wc -l <"$T/out")" -eq 2 ]; say $? "... one line per case, no heading when not on a terminal"
has "^[0-9]\{4\}-[0-9]\{4\}  *[0-9-]\{10\}  *received  *[0-9-]\{10\}  *web  *named  *-  *[A-Za-z0-9_-]\{22\}$" "... ref, received, status, due, channel, reporter, collective, id"
ref1=$(awk '/ named /{print $1}' "$T/out")
id1=$(awk '/ named /{print $NF}' "$T/out")
ref2=$(awk '/ anonymous /{print $1}' "$T/out")
if command -v script >/dev/null; then
	script -qc "$M cases" /dev/null >"$T/out" 2>&1
	has "^REF  *RECEIVED  *STATUS  *DUE  *CHANNEL  *REPORTER  *COLLECTIVE  *ID" "cases prints a heading on a terminal"
fi
run 0 "case show takes a reference" "$M" case show "$ref1"
has "They would not rent to me." "... and opens the report"
has "Due: *[0-9-]*" "... shows the due day"
has "Channel: *web" "... and the channel"
has "^History" "... and the history"
has "created  *by web" "... with the created event"
run 1 "an unknown reference is exit 1" "$M" case show 1999-0999
grep -q "no case with reference 1999-0999" "$T/err"; say $? "... saying so"
run 2 "neither id nor reference is bad usage" "$M" case show 26-1
# One id in 4,096 begins with "--": it is still an id, not an unknown option.
run 1 "an id that begins with -- is looked up as an id (none such: exit 1)" \
    "$M" case show --AAAAAAAAAAAAAAAAAAAA
! grep -q "unknown option" "$T/err"; say $? "... not refused as an option"
run 2 "an unknown option of another length is still bad usage" "$M" case show "$ref1" --jsn
grep -q "unknown option '--jsn'" "$T/err"; say $? "... saying so"
run 0 "case status takes a reference" "$M" case status "$ref1" intake
has ": intake$" "... and says the new status"

# ---- notes ----
run 0 "case note adds an internal note" "$M" case note "$ref1" --text "Called the landlord; no answer."
printf 'second note\nfrom stdin\n' | "$M" case note "$id1" >"$T/out" 2>"$T/err"; say $? "case note reads stdin"
"$M" case show "$ref1" --json >"$T/show.json" 2>/dev/null
js "$T/show.json" "[(m['kind'], m['text']) for m in d['messages']]" | grep -q "('note', 'Called the landlord; no answer.')"
say $? "the note is in the case's messages, kind note"
curl -s -H 'Content-Type: application/json' -d "{\"token\":\"$tok1\"}" "$U/api/v1/followup" >"$T/f.json"
js "$T/f.json" "d['messages']" | grep -q "landlord"; say $((! $?)) "the reporter never sees a note"
MELDPUNT_KEY="$T/bram.key" "$M" case show "$ref1" >"$T/out" 2>/dev/null
has "internal note by anna" "a colleague reads the note with its author"

# ---- classify ----
run 0 "case classify classifies" "$M" case classify "$ref1" --grounds origin,religion --domain housing \
    --manifestation refusal --incident leiden --residence elsewhere
has "classified origin, religion; housing; refusal; incident leiden; residence elsewhere" "... and prints it"
run 2 "classify without all five is bad usage" "$M" case classify "$ref1" --grounds origin
run 2 "classify with a ground twice is bad usage" "$M" case classify "$ref1" --grounds origin,origin \
    --domain housing --manifestation refusal --incident leiden --residence elsewhere
run 1 "classify with an unknown code is exit 1" "$M" case classify "$ref1" --grounds origin --domain housng \
    --manifestation refusal --incident leiden --residence elsewhere
grep -q "use one of: .*housing" "$T/err"; say $? "... listing the codes allowed"
run 0 "cases --ground filters on the classification" "$M" cases --ground religion
[ "$(wc -l <"$T/out")" -eq 1 ] && grep -q "^$ref1 " "$T/out"; say $? "... only the classified case"
run 1 "cases --ground with an unknown code is exit 1" "$M" cases --ground nope
"$M" case show "$ref1" >"$T/out"
has "Classification: *origin, religion; housing" "case show shows the classification"
has "classified  origin, religion" "... and the classified event"

# ---- intake ----
run 0 "intake by phone with a follow-up token, contact and classification" "$M" intake --channel phone \
    --text "Refused at the club door." --followup --qr "$T/qr.svg" --contact-name Ali \
    --contact-phone "+31 6 1234 5678" --preferred phone --role victim --occurred-on 2026-01-02 \
    --grounds origin --domain hospitality --manifestation refusal --incident leiden --residence leiden
has "taken in by phone" "... prints the new case"
tok=$(grep -o '[0-9A-Z]\{4\}-[0-9A-Z]\{4\}-[0-9A-Z]\{4\}-[0-9A-Z]\{4\}-[0-9A-Z]\{4\}-[0-9A-Z]\{4\}-[0-9A-Z]\{3\}' "$T/out" | head -1)
[ -n "$tok" ]; say $? "... and the follow-up token"
ref3=$(awk '/taken in/{print $2}' "$T/out")
[ "$(stat -c %a "$T/qr.svg")" = 600 ]; say $? "... and writes the QR code, mode 0600"
if command -v rsvg-convert >/dev/null && command -v zbarimg >/dev/null; then
	rsvg-convert -w 300 "$T/qr.svg" -o "$T/qr.png" 2>/dev/null
	zbarimg -q --raw "$T/qr.png" 2>/dev/null | grep -q "/f#$tok$"; say $? "the QR code holds the follow-up URL with the token"
fi
curl -s -H 'Content-Type: application/json' -d "{\"token\":\"$tok\"}" "$U/api/v1/followup" >"$T/f.json"
js "$T/f.json" "d['status']" | grep -qx received; say $? "the intake token answers the follow-up"
"$M" case show "$ref3" --json >"$T/show.json" 2>/dev/null
js "$T/show.json" "(d['report']['description'], d['report']['contact']['name'], d['report']['grounds'], d['report']['received'] is not None, d['case']['channel'], d['case']['anonymous'], d['case']['classification']['domain'])" |
    grep -q "('Refused at the club door.', 'Ali', \['origin'\], True, 'phone', False, 'hospitality')"
say $? "the sealed report holds what was said, contact, codes and received; the case is phone, named, classified"
"$M" case reply "$ref3" --text "We will call you on Tuesday." >/dev/null 2>&1
curl -s -H 'Content-Type: application/json' -d "{\"token\":\"$tok\"}" "$U/api/v1/followup" >"$T/f.json"
js "$T/f.json" "d['messages'][0]['text']" | grep -q Tuesday; say $? "the intake reporter reads a reply through the token"
echo "Walk-in, anonymous, by stdin" | "$M" intake --channel walk_in >"$T/out" 2>"$T/err"; say $? "intake reads stdin"
ref4=$(awk '/taken in/{print $2}' "$T/out")
"$M" case show "$ref4" --json >"$T/show.json" 2>/dev/null
js "$T/show.json" "(d['case']['anonymous'], d['case']['reporter_box'], d['report']['language'])" | grep -q "(True, None, 'nl')"
say $? "... anonymous, without a token, language nl"
run 2 "intake without --channel is bad usage" "$M" intake --text x
run 2 "intake --channel web is bad usage" "$M" intake --channel web --text x
run 2 "intake --qr without --followup is bad usage" "$M" intake --channel phone --text x --qr "$T/x.svg"
run 2 "intake --preferred email without an e-mail is bad usage" "$M" intake --channel phone --text x --preferred email
run 2 "intake with a malformed e-mail is bad usage" "$M" intake --channel phone --text x --contact-email nope
run 1 "intake with an unknown language is exit 1" "$M" intake --channel phone --text x --language xx
run 1 "intake with an empty text is exit 1" "$M" intake --channel phone --text ""
run 1 "intake --qr onto an existing file is refused before anything is sent" "$M" intake --channel phone --text x --followup --qr "$T/qr.svg"
run 0 "intake --json prints the server's answer" "$M" intake --channel post --text "A letter." --followup --json
js "$T/out" "sorted(d)" | grep -q "'followup_url', 'id', 'ref', 'token'"; say $? "... id, ref, token, followup_url"

# ---- collectives ----
run 0 "collective create" "$M" collective create --name "TV statement"
cref=$(awk '{print $2}' "$T/out")
run 0 "collective list" "$M" collective list
has "^$cref .* 0 .*TV statement$" "... shows it with no cases"
run 0 "collective add takes case references" "$M" collective add "$cref" "$ref1" "$ref2" "$ref4"
has "linked 3 cases" "... and links them"
run 0 "collective add skips a case already in it" "$M" collective add "$cref" "$ref1" "$ref3"
has "linked 1 case .*1 was in it already; it now has 4" "... and says so"
run 2 "collective add of a malformed case is bad usage" "$M" collective add "$cref" nope
run 2 "collective add of nothing is bad usage" "$M" collective add "$cref"
"$M" cases --collective "$cref" --limit 2 >"$T/page.txt" 2>/dev/null
grep -q "^next: " "$T/page.txt"; say $? "a page of cases --limit 2 ends with its next: line"
run 0 "collective add --from-file takes that page as it is" "$M" collective add "$cref" --from-file "$T/page.txt"
run 0 "collective show" "$M" collective show "$cref"
has "Cases: *4 " "... counts the cases"
run 0 "cases --collective REF filters" "$M" cases --collective "$cref"
[ "$(wc -l <"$T/out")" -eq 4 ] && grep -q " $cref " "$T/out"; say $? "... to its 4 cases, showing the collective's reference"
run 0 "collective reply" "$M" collective reply "$cref" --text "We registered your report about the statement."
has "answered 3 reporters.*1 case without a follow-up token" "... answers the 3 with a token, counts the one without"
curl -s -H 'Content-Type: application/json' -d "{\"token\":\"$tok1\"}" "$U/api/v1/followup" >"$T/f.json"
js "$T/f.json" "[m['text'] for m in d['messages']]" | grep -q "about the statement"; say $? "a reporter reads the collective reply"
run 0 "collective status" "$M" collective status "$cref" intake
has "moved 3 cases .*1 stayed where they were (1 intake)" "... moves those it can and counts the others by status"
run 1 "collective status closed without a closure is exit 1" "$M" collective status "$cref" closed
run 1 "an unknown collective is exit 1" "$M" collective show C1999-0001

if [ "$N" -gt 0 ]; then
	python3 - "$U" "$N" <<'EOF'
import http.client, json, sys, threading, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); n = int(sys.argv[2]); left = [n]; lock = threading.Lock(); bad = []
def w():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    while True:
        with lock:
            if not left[0]: return
            left[0] -= 1; i = left[0]
        c.request("POST", "/api/v1/reports", json.dumps({"description": "Mass report %d" % i}),
                  {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        if r.status != 201: bad.append(r.status)
ts = [threading.Thread(target=w) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
sys.exit(1 if bad else 0)
EOF
	say $? "$N mass reports made"
	"$M" collective create --name "Mass event" >"$T/out" 2>/dev/null
	mref=$(awk '{print $2}' "$T/out")
	# every case that is in no collective yet: the mass reports
	python3 - "$U" >"$T/refs.txt" <<EOF
import subprocess, json
after = None
while True:
    cmd = ["$M", "cases", "--limit", "500", "--json"] + (["--after", after] if after else [])
    d = json.loads(subprocess.run(cmd, capture_output=True, check=True).stdout)
    for c in d["cases"]:
        if c["collective"] is None and c["channel"] == "web" and c["received"]:
            print(c["ref"])
    after = d["next"]
    if not after: break
EOF
	refs=$(wc -l <"$T/refs.txt")
	t0=$(now)
	run 0 "collective add --from-file with $refs references" "$M" collective add "$mref" --from-file "$T/refs.txt"
	t1=$(now)
	has "linked $refs cases" "... links them all"
	run 0 "collective reply to $refs reporters" "$M" collective reply "$mref" --text "Dank voor uw melding. We hebben hem geregistreerd."
	t2=$(now)
	has "answered $((refs)) reporters" "... answers every one"
	run 0 "collective status on $refs cases" "$M" collective status "$mref" intake
	t3=$(now)
	python3 -c "print('# timing: collective add %.2f s, collective reply %.2f s, collective status %.2f s for %d cases' % ($t1 - $t0, $t2 - $t1, $t3 - $t2, $refs))"
	python3 -c "import sys; sys.exit(0 if $t2 - $t1 < 30 else 1)"; say $? "collective reply to $refs reporters takes seconds, not minutes"
fi

# ---- share ----
add cora
add dirk
run 1 "share with nobody known is exit 1" "$M" share --with nobody
run 1 "share with yourself is exit 1" "$M" share --with anna
MELDPUNT_KEY="$T/cora.key" "$M" case show "$ref1" >"$T/out" 2>/dev/null
has "cannot be opened with this key" "a new colleague cannot open older items"
ckid=$("$M" key list --dir "$T/inst" | awk '$NF=="cora"{print $1}')
run 0 "a key that opens nothing shares nothing" env MELDPUNT_KEY="$T/dirk.key" "$M" share --with "$ckid"
has "shared 0 items .*could not be opened with your key" "... and counts what it could not open"
run 0 "share --with KID" "$M" share --with "$ckid" --json
js "$T/out" "(d['shared'] > 0, d['shared'] == d['added'], d['unopened'])" | grep -q "(True, True, 0)"
say $? "... re-seals every item to the colleague"
MELDPUNT_KEY="$T/cora.key" "$M" case show "$ref1" >"$T/out" 2>/dev/null
grep -q "cannot be opened" "$T/out"; say $((! $?)) "the colleague now opens every item"
grep -q "They would not rent to me." "$T/out"; say $? "... the report included"
has "shared  *[0-9]* items\? with cora" "the case's history shows the sharing"
run 0 "share again: nothing to share" "$M" share --with "$ckid"
has "nothing to share" "... says so"
run 0 "share --with a bundle file" env MELDPUNT_KEY="$T/cora.key" "$M" share --with "$T/dirk.json"
has "shared [1-9][0-9]* items with dirk" "... shares with the key in the bundle"
run 0 "share --with NAME" "$M" share --with "Recovery key"
has "nothing to share: Recovery key" "... the recovery key has everything already"

# ---- purge ----
"$M" case status "$ref4" intake >/dev/null 2>&1
"$M" case status "$ref4" registration_only >/dev/null 2>&1
"$M" case status "$ref4" closed --closure registration_only >/dev/null 2>&1
run 2 "purge without --dir is bad usage" "$M" purge
run 2 "purge --today with a bad day is bad usage" "$M" purge --dir "$T/inst" --today 2026-02-30
run 0 "purge today purges nothing new" "$M" purge --dir "$T/inst"
has "purged 0 cases" "... and says how many"
far=$(python3 -c "import datetime; print((datetime.date.today() + datetime.timedelta(days=25*31)).isoformat())")
run 0 "purge --today (25 months on) while the server runs" "$M" purge --dir "$T/inst" --today "$far"
has "purged 1 case " "... purges the one closed case"
"$M" case show "$ref4" >"$T/out" 2>"$T/err"; say $? "a purged case still shows"
has "removed by the retention purge" "... with its contents removed"
has "purged  *report and messages removed" "... and a purged event"
"$M" cases --collective "$cref" --json >"$T/c.json"
js "$T/c.json" "[c['purged'] for c in d['cases'] if c['ref'] == '$ref4']" | grep -qx "\[True\]"; say $? "cases --json has purged true"

# ---- overdue (needs faketime: the server's clock 40 days on) ----
FTLIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
if command -v faketime >/dev/null && [ -f "$FTLIB" ]; then
	kill "$pid"; wait "$pid" 2>/dev/null
	# Under ASan (make asan) libfaketime is preloaded ahead of the sanitizer's runtime.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	export ASAN_OPTIONS
	# env execs the server itself, so $pid is the server (the faketime wrapper would fork it)
	env LD_PRELOAD="$FTLIB" FAKETIME=+40d "$B/meldpuntd" --dir "$T/inst" --listen 127.0.0.1:$port >"$T/server2.log" 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 50 ] && ! curl -sf "$U/healthz" >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
	run 0 "cases --overdue (40 days on)" faketime -f +40d "$M" cases --overdue --collective "$cref"
	has "^$ref1 .* OVERDUE " "... marks an open case OVERDUE"
	grep -q "^$ref4 " "$T/out"; say $((! $?)) "... but never a closed one"
	faketime -f +40d "$M" case show "$ref1" >"$T/out" 2>"$T/err"
	has "Due: .*OVERDUE by [0-9]* days" "case show says by how many days"
fi

# ---- help ----
for c in "intake" "collective" "share" "purge" "case" "cases" "collective reply" "case note" "case classify"; do
	run 0 "meldpunt $c --help exits 0" "$M" $c --help
done
"$M" --help >"$T/out"
for w in "case note" "case classify" intake "collective reply" share purge "--overdue"; do
	has "$w" "meldpunt --help names $w"
done

echo "# $passes passed, $fails failed"
[ "$fails" -eq 0 ]
