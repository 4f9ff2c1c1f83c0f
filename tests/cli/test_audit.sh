#!/bin/sh
# End-to-end test of `meldpunt audit` (docs/AUDIT.md) against a real meldpuntd on
# loopback: a log of a few dozen cases (classified, some closed, some in a
# collective) passes; the state file is written and a later audit checks
# consistency with it; and every kind of tampering makes the audit fail naming what
# is wrong: an event changed or dropped in the database, history rewritten (a fork:
# shrunk, same size, larger), a statistics document with a changed cell, and one
# signed by another key.  The live server's checkpoints, inclusion and consistency
# proofs and a report answer's log object are also checked by the independent Go
# verifier (tests/logverify).
#
# Usage: sh tests/cli/test_audit.sh [BUILD_DIR]      (default build)
#   KEEP=1 keeps the temp dir.  Prints "ok - " / "not ok - " lines.
B=$(cd "${1:-build}" && pwd) || exit 2
M=$B/meldpunt
T=$(mktemp -d "${TMPDIR:-/tmp}/mp-audit.XXXXXX") || exit 2
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$T"' EXIT
export MELDPUNT_KDF_FAST=1 MELDPUNT_PASSPHRASE='correct horse battery'
unset MELDPUNT_URL MELDPUNT_KEY XDG_STATE_HOME
export HOME="$T/home"
fails=0
passes=0

say() {
	if [ "$1" -eq 0 ]; then echo "ok - $2"; passes=$((passes + 1))
	else echo "not ok - $2"; fails=$((fails + 1)); cat "$T/out" "$T/err" 2>/dev/null | sed 's/^/#   /' | head -12; fi
}
# run WANT DESC CMD...: the command exits with WANT (stdout in $T/out, stderr in $T/err)
run() { w=$1; d=$2; shift 2; "$@" >"$T/out" 2>"$T/err"; say $(($? != w)) "$d"; }
has() { grep -q -- "$1" "$T/out"; say $? "$2"; }
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# start DIR: meldpuntd on DIR at a free loopback port; sets pid and U
base=$((34000 + $$ % 10000))
start() {
	for port in $base $((base + 1)) $((base + 2)) $((base + 3)) $((base + 4)) $((base + 5)); do
		curl -s -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && continue
		"$B/meldpuntd" --dir "$1" --listen 127.0.0.1:$port >>"$T/server.log" 2>&1 &
		pid=$!
		i=0
		while [ $i -lt 50 ] && kill -0 $pid 2>/dev/null && ! curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
			sleep 0.1; i=$((i + 1))
		done
		if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
			U=http://127.0.0.1:$port
			return 0
		fi
		kill $pid 2>/dev/null; wait $pid 2>/dev/null; pid=
	done
	echo "not ok - meldpuntd starts on $1"
	exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null; pid=; }

# ---- keys, instance, cases ----
"$M" keygen --name anna --out "$T/anna.key" >"$T/anna.json" 2>/dev/null
"$M" keygen --name odin --role auditor --out "$T/odin.key" >"$T/odin.json" 2>/dev/null
"$M" init --dir "$T/inst" --origin audit.test/log >"$T/vkey" 2>/dev/null
VK=$(cat "$T/vkey")
"$M" init --dir "$T/other" --origin audit.test/log >"$T/vkey2" 2>/dev/null
for who in anna:caseworker odin:auditor; do
	n=${who%%:*}
	"$M" key add --dir "$T/inst" --role "${who#*:}" --name "$n" --sign "$(js "$T/$n.json" "d['sign']")" \
	    --box "$(js "$T/$n.json" "d['box']")" >/dev/null
done
start "$T/inst"
export MELDPUNT_URL=$U MELDPUNT_KEY="$T/anna.key"
Y=$(TZ=Europe/Amsterdam date +%Y)

# report N GROUND: a web report; prints nothing
report() {
	curl -s -o /dev/null -H 'Content-Type: application/json' \
	    -d "{\"description\":\"Report $1\",\"grounds\":[\"$2\"]}" "$U/api/v1/reports"
}
i=0
while [ $i -lt 36 ]; do
	case $((i % 4)) in 0|1) g=origin ;; 2) g=religion ;; *) g=age ;; esac
	report $i $g
	i=$((i + 1))
done
"$M" cases --limit 500 --json >"$T/cases.json" 2>/dev/null
js "$T/cases.json" "'\n'.join(c['ref'] for c in d['cases'])" >"$T/refs"
[ "$(wc -l <"$T/refs")" -eq 36 ]; say $? "36 reports made"
i=0
while read -r ref; do
	case $((i % 3)) in 0) dom=housing ;; 1) dom=labour_market ;; *) dom=education ;; esac
	case $((i % 4)) in 0|1) g=origin ;; 2) g=religion ;; *) g=age ;; esac
	if [ $i -lt 30 ]; then
		"$M" case classify "$ref" --grounds $g --domain $dom --manifestation remark \
		    --incident leiden --residence leiden >/dev/null 2>&1 || echo "# classify $ref failed"
	fi
	if [ $i -lt 12 ]; then
		"$M" case status "$ref" intake >/dev/null 2>&1
		"$M" case status "$ref" registration_only >/dev/null 2>&1
		"$M" case status "$ref" closed --closure registration_only >/dev/null 2>&1 ||
		    echo "# closing $ref failed"
	fi
	i=$((i + 1))
done <"$T/refs"
"$M" collective create --name "Statement" >"$T/out" 2>/dev/null
cref=$(awk '{print $2}' "$T/out")
"$M" collective add "$cref" $(sed -n '20,27p' "$T/refs") >/dev/null 2>&1; say $? "8 cases in a collective"

# audit_with AUDITORKEY VERIFIER ARGS...; audit ARGS...: as the auditor, with the log's key
audit_with() { ak=$1 vk=$2; shift 2; "$M" audit --url "$U" --key "$vk" --year "$Y" --auditor-key "$ak" "$@"; }
audit() { audit_with "$T/odin.key" "$VK" "$@"; }
S=$T/state/audit.checkpoint

# ---- bad usage ----
run 2 "audit without --key is bad usage" "$M" audit --year "$Y" --auditor-key "$T/odin.key"
run 2 "audit with a malformed verifier key is bad usage" "$M" audit --key nope --year "$Y" \
    --auditor-key "$T/odin.key"
run 2 "audit without --year is bad usage" "$M" audit --key "$VK" --auditor-key "$T/odin.key"
run 2 "audit --year 26 is bad usage" "$M" audit --key "$VK" --year 26 --auditor-key "$T/odin.key"
run 2 "audit without an auditor key is bad usage" env -u MELDPUNT_KEY "$M" audit --key "$VK" --year "$Y"
run 0 "audit --help exits 0" "$M" audit --help
has "consistency" "... and explains the steps"

# ---- the good path ----
t0=$(date +%s)
run 0 "audit of an honest log passes" audit --state "$S"
t1=$(date +%s)
echo "# timing: first audit $((t1 - t0)) s"
has "^ok   checkpoint: signed by the log key of audit.test/log; tree size [0-9]" "... the checkpoint verifies"
has "^ok   consistency: first audit of this log" "... first audit: nothing to compare with"
has "^ok   leaves: all [0-9]* leaves, hashed here, give the checkpoint's root" "... the leaves give the root"
has "^ok   events: all [0-9]* events opened; each is in its place and matches its leaf" "... every event matches its leaf"
has "^ok   statistics: .*signed by the log key" "... the statistics are signed by the log key"
has "^ok   statistics: its tree size [0-9]* and root match" "... and name a tree the log contains"
has "^ok   statistics: recomputed from the first [0-9]* events: every cell matches" "... and recompute cell by cell"
has "^audit passed: audit.test/log at tree size" "... the last line says it passed"
grep -q "^FAIL" "$T/out"; say $((! $?)) "... no FAIL line"
[ -f "$S" ] && [ "$(stat -c %a "$S")" = 600 ] && [ "$(stat -c %a "$T/state")" = 700 ]
say $? "the state file is written, mode 0600, its new directory 0700"
head -1 "$S" | grep -qx "audit.test/log"; say $? "... and holds the checkpoint"
size1=$(sed -n 2p "$S")

run 1 "a caseworker key cannot open the events" audit_with "$T/anna.key" "$VK" --state "$S"
has "^FAIL events: cannot fetch events 0 to" "... the events step says so"
has "^FAIL statistics: it cannot be recomputed: only 0 of the [0-9]* events it counts were opened" \
    "... so the statistics cannot be recomputed"
has "^audit FAILED: events, statistics$" "... and only those steps fail"

report 100 origin
report 101 sex
"$M" case classify "$(sed -n 31p "$T/refs")" --grounds origin --domain housing --manifestation threat \
    --incident leiden --residence elsewhere >/dev/null 2>&1
run 0 "a second audit after more events passes" audit --state "$S"
has "^ok   consistency: tree size [0-9]* extends tree size $size1 seen before" "... checking consistency with the first"
size2=$(sed -n 2p "$S")
[ "$size2" -gt "$size1" ]; say $? "... and keeps the newer checkpoint ($size1 -> $size2)"
run 0 "a third audit without new events passes" audit --state "$S"
has "^ok   consistency: the same checkpoint as seen before (tree size $size2)" "... it is the same checkpoint"

run 0 "audit --json" audit --state "$S" --json
js "$T/out" "(d['ok'], d['tree_size'], [s['step'] for s in d['steps'] if s['ok']])" |
    grep -q "(True, $size2, \['checkpoint', 'consistency', 'leaves', 'events', 'statistics'\])"
say $? "... one object: ok, tree size, the five steps"

run 0 "the state file defaults to \$XDG_STATE_HOME" env XDG_STATE_HOME="$T/xdg" "$M" audit --url "$U" \
    --key "$VK" --year "$Y" --auditor-key "$T/odin.key"
[ -f "$T/xdg/meldpunt/audit/audit.test_log.checkpoint" ] &&
    [ "$(stat -c %a "$T/xdg/meldpunt/audit/audit.test_log.checkpoint")" = 600 ] &&
    [ "$(stat -c %a "$T/xdg/meldpunt")" = 700 ]
say $? "... \$XDG_STATE_HOME/meldpunt/audit/audit.test_log.checkpoint, 0600, directories 0700"
run 0 "... else to ~/.local/state (verifier key read from a file)" env MELDPUNT_KEY="$T/odin.key" \
    "$M" audit --url "$U" --key "$T/vkey" --year "$Y"
[ -f "$HOME/.local/state/meldpunt/audit/audit.test_log.checkpoint" ]; say $? "... ~/.local/state/meldpunt/audit/audit.test_log.checkpoint"

run 1 "another log's verifier key fails the checkpoint" audit_with "$T/odin.key" "$(cat "$T/vkey2")" \
    --state "$T/s-other"
has "^FAIL checkpoint: the server's checkpoint does not verify" "... saying so"
has "^audit FAILED: checkpoint" "... and stops there"
[ ! -e "$T/s-other" ]; say $? "... keeping nothing"

# The statistics as published now, for the --stats cases below.
curl -sf "$U/api/v1/stats/$Y" -o "$T/stats.json"
sz=$(js "$T/stats.json" "d['tree_size']" 2>/dev/null)
curl -sf "$U/api/v1/stats/$Y.sig?size=$sz" -o "$T/stats.json.sig"
run 0 "a document published earlier audits with --stats" audit --state "$S" --stats "$T/stats.json"
has "^ok   statistics: $T/stats.json is signed by the log key" "... its signature verifies"

# ---- the live server's checkpoints and proofs, checked by the Go verifier ----
# (tests/logverify: Go's golang.org/x/mod/sumdb note and tlog, built offline)
LV=$T/logverify
if env GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off GOCACHE="$T/gocache" \
    CGO_ENABLED=0 go build -o "$LV" ./tests/logverify/logverify >"$T/out" 2>"$T/err"; then
	say 0 "the Go verifier builds"
	curl -sf "$U/api/v1/log/checkpoint" -o "$T/cp1"
	n1=$(sed -n 2p "$T/cp1")
	for i in 102 103 104; do report $i origin; done
	curl -s -H 'Content-Type: application/json' -d '{"description":"Receipt check"}' \
	    "$U/api/v1/reports" -o "$T/receipt.json"
	curl -sf "$U/api/v1/log/checkpoint" -o "$T/cp2"
	n2=$(sed -n 2p "$T/cp2")
	run 0 "Go opens the live checkpoint" "$LV" checkpoint "$VK" "$T/cp2"
	has "size $n2" "... of size $n2"
	bad=
	for i in 0 1 $((n2 / 2)) $((n2 - 2)) $((n2 - 1)); do
		curl -sf "$U/api/v1/log/inclusion?index=$i&size=$n2" -o "$T/inc.json"
		curl -sf "$U/api/v1/log/leaves?start=$i&end=$((i + 1))" -o "$T/leaf.json"
		"$LV" inclusion "$VK" "$T/cp2" "$T/inc.json" "$(js "$T/leaf.json" "d['leaves'][0]")" \
		    >"$T/out" 2>"$T/err" || bad="$bad $i"
	done
	[ -z "$bad" ]; say $? "Go accepts the inclusion proofs of leaves 0, 1, $((n2 / 2)), $((n2 - 2)), $((n2 - 1)) in size $n2${bad:+ (refused:$bad)}"
	run 1 "... and refuses one against a checkpoint of another size" "$LV" inclusion "$VK" "$T/cp1" \
	    "$T/inc.json" "$(js "$T/leaf.json" "d['leaves'][0]")"
	curl -sf "$U/api/v1/log/consistency?from=$n1&to=$n2" -o "$T/cons.json"
	run 0 "Go accepts the consistency proof from size $n1 to $n2" "$LV" consistency "$VK" "$T/cp1" \
	    "$T/cp2" "$T/cons.json"
	# The receipt's log object: C = BLAKE2b-256(key = salt, msg = event), proven in its checkpoint.
	python3 - "$T/receipt.json" "$T/rcp" "$T/rproof.json" "$T/rtype" >"$T/rleaf" <<'EOF2'
import base64, hashlib, json, sys
d = json.load(open(sys.argv[1]))["log"]
b = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
c = base64.urlsafe_b64encode(hashlib.blake2b(b(d["event"]), key=b(d["salt"]), digest_size=32).digest()).decode().rstrip("=")
open(sys.argv[2], "w").write(d["checkpoint"])
size = int(d["checkpoint"].split("\n")[1])
json.dump({"index": d["index"], "size": size, "leaf": c, "hashes": d["proof"]}, open(sys.argv[3], "w"))
open(sys.argv[4], "w").write(json.loads(b(d["event"]))["type"] + "\n")
print(c)
EOF2
	run 0 "Go accepts a report answer's log object: its event's commitment, in its checkpoint" \
	    "$LV" inclusion "$VK" "$T/rcp" "$T/rproof.json" "$(cat "$T/rleaf")"
	grep -qx created "$T/rtype"; say $? "... and that event is the case's created event"
else
	say 1 "the Go verifier builds"
fi

curl -sf "$U/api/v1/log/checkpoint" | sed -n 2p >"$T/psize"
psize=$(cat "$T/psize")
stop
cp -a "$T/inst" "$T/pristine"

# ---- tampering 1: an event changed in the database ----
KEYHEX=$(od -An -tx1 -v "$T/inst/db.key" | tr -d ' \n')
sql() {
	printf 'PRAGMA key = "x'"'%s'"'";\n%s\n' "$KEYHEX" "$2" | sqlcipher "$1/meldpunt.db" >"$T/sql.out" 2>&1
}
cp -a "$T/pristine" "$T/t1"
sql "$T/t1" "SELECT 'first', min(idx) FROM log WHERE CAST(event AS TEXT) LIKE '%\"domain\":\"housing\"%';"
ch=$(awk -F'|' '/^first/{print $2}' "$T/sql.out")
sql "$T/t1" "DROP TRIGGER log_no_update;
UPDATE log SET event = CAST(replace(CAST(event AS TEXT), '\"domain\":\"housing\"', '\"domain\":\"education\"') AS BLOB)
 WHERE idx = $ch;
SELECT 'changed', idx FROM log WHERE idx = $ch AND CAST(event AS TEXT) LIKE '%\"domain\":\"education\"%';"
grep -q "^changed|$ch$" "$T/sql.out"; say $? "an event's bytes changed with sqlcipher (event $ch)"
start "$T/t1"
run 1 "a changed event fails the audit" audit --state "$S"
has "^FAIL events: event $ch does not match its leaf: changed" "... naming the event"
has "^ok   leaves:" "... while the leaves still give the root"
has "^audit FAILED: events" "... the last line names the step"
stop

# ---- tampering 2: an event dropped ----
cp -a "$T/pristine" "$T/t2"
sql "$T/t2" "DROP TRIGGER log_no_delete; DELETE FROM log WHERE idx = 17;"
start "$T/t2"
run 1 "a dropped event fails the audit" audit --state "$S"
has "^FAIL events: event 17 is missing" "... naming the event"
has "^FAIL leaves: leaf 17 is missing" "... and its leaf is missing too"
has "^FAIL events: 1[0-9]* of 1[0-9]* events check out, 1 missing$" "... and nothing else is wrong with the events"
stop

# ---- tampering 3: history rewritten (forks) ----
cp "$S" "$T/s3"
cp -a "$T/pristine" "$T/t3"
start "$T/t3"
report 200 origin
report 201 origin
report 202 origin
run 0 "the auditor sees a grown log" audit --state "$T/s3"
seen=$(sed -n 2p "$T/s3")
stop
cp -a "$T/pristine" "$T/t4"
start "$T/t4"
run 1 "the old copy put back: the log shrank" audit --state "$T/s3"
has "^FAIL consistency: fork: the log shrank from tree size $seen (seen before) to $psize" "... naming both sizes"
[ "$(sed -n 2p "$T/s3")" = "$seen" ]; say $? "... and the state file is left as it was"
[ -f "$T/s3.fork-$psize" ]; say $? "... the conflicting checkpoint is kept as evidence"
report 300 age
report 301 religion
report 302 sex
run 1 "different events to the same size: a fork" audit --state "$T/s3"
has "^FAIL consistency: fork: two checkpoints of tree size $seen with different roots" "... naming the size"
report 303 age
run 1 "different events past that size: a fork" audit --state "$T/s3"
has "^FAIL consistency: fork: the checkpoint of tree size $((seen + 1)) is not consistent with the one of tree size $seen seen before" "... naming both sizes"
has "^ok   events:" "... though the rewritten log is sound in itself"
stop

# ---- tampering 4 and 5: statistics documents ----
cat >"$T/sign.c" <<'EOF'
/* sign KEYFILE|- DOC: the b64 Ed25519 signature of DOC by the raw 64-byte key (- : a new key). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
	unsigned char sk[64], pk[32], sig[64], *doc; char b64[128]; long n; FILE *f;
	if (argc != 3 || sodium_init() < 0) return 2;
	if (argv[1][0] == '-') crypto_sign_keypair(pk, sk);
	else if ((f = fopen(argv[1], "rb")) == NULL || fread(sk, 1, 64, f) != 64) return 1;
	if ((f = fopen(argv[2], "rb")) == NULL || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0) return 1;
	rewind(f);
	if ((doc = malloc((size_t)n + 1)) == NULL || fread(doc, 1, (size_t)n, f) != (size_t)n) return 1;
	crypto_sign_detached(sig, NULL, doc, (unsigned long long)n, sk);
	sodium_bin2base64(b64, sizeof b64, sig, 64, sodium_base64_VARIANT_ORIGINAL);
	printf("%s\n", b64);
	return 0;
}
EOF
cc -o "$T/sign" "$T/sign.c" $(pkg-config --cflags --libs libsodium) 2>"$T/err"; say $? "a signing tool builds"
start "$T/pristine"
# one published cell, one up
python3 - "$T/stats.json" "$T/forged.json" >"$T/cell" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["tables"]["ground"]["rows"]
code = next(c for c, v in rows.items() if v is not None and v > 0)
rows[code] += 1
open(sys.argv[2], "w").write(json.dumps(d, separators=(",", ":")))
print("ground/%s" % code)
EOF
cell=$(cat "$T/cell")
"$T/sign" "$T/pristine/log.key" "$T/forged.json" >"$T/forged.json.sig"
run 1 "a document with a changed cell, signed with the log key, fails" audit --state "$S" --stats "$T/forged.json"
has "^ok   statistics: $T/forged.json is signed by the log key" "... though its signature verifies"
has "^FAIL statistics: $cell: published" "... naming the cell ($cell)"
has "^FAIL statistics: recomputed from the first [0-9]* events, [0-9]* cells differ" "... and counting the differences"
has "^audit FAILED: statistics$" "... only the statistics fail"
cp "$T/stats.json" "$T/other.json"
"$T/sign" - "$T/other.json" >"$T/other.json.sig"
run 1 "a document signed by another key fails" audit --state "$S" --stats "$T/other.json"
has "^FAIL statistics: the signature of $T/other.json is not by the log key of audit.test/log" "... saying so"
stop

echo "# $passes passed, $fails failed"
[ "$fails" -eq 0 ]
