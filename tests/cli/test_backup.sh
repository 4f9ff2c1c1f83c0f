#!/bin/sh
# meldpunt backup and restore (docs/BACKUP.md) against a real meldpuntd on loopback:
# a backup taken while reports keep arriving passes integrity_check and holds every report
# answered before it began; the restored instance serves, and a caseworker decrypts with the
# CLI a report made before the backup; refusals (OUT exists, DIR exists, a damaged, cut or
# foreign backup, a wrong passphrase) exit 1 and create nothing; modes 0600 and 0700.
# Usage: sh tests/cli/test_backup.sh BUILD_DIR   (KEEP=1 keeps the temp dir)
B=$(cd "${1:-build}" && pwd) || exit 2
M=$B/meldpunt
T=$(mktemp -d "${TMPDIR:-/tmp}/mp-backup.XXXXXX") || exit 2
pid=
wpid=
trap '[ -n "$wpid" ] && kill "$wpid" 2>/dev/null; [ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$T"' EXIT
export MELDPUNT_KDF_FAST=1 MELDPUNT_PASSPHRASE='correct horse battery'
unset MELDPUNT_URL MELDPUNT_KEY
PRE=${PRE:-600}   # reports made before the backup: enough pages for several steps
fails=0
passes=0

say() {
	if [ "$1" -eq 0 ]; then echo "ok - $2"; passes=$((passes + 1))
	else echo "not ok - $2"; fails=$((fails + 1)); [ -s "$T/err" ] && sed 's/^/#   /' "$T/err" | head -5; fi
}
# run WANT DESC CMD...: the command exits with WANT (stdout in $T/out, stderr in $T/err)
run() { w=$1; d=$2; shift 2; "$@" >"$T/out" 2>"$T/err"; say $(($? != w)) "$d"; }
has() { grep -q -- "$1" "$T/out"; say $? "$2"; }
says() { grep -q -- "$1" "$T/err"; say $? "$2"; }
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
# what a directory holds, hidden entries included, to show that a refusal left nothing behind
listing() { (cd "$1" && ls -A | sort); }

# start DIR: meldpuntd on a free loopback port; sets pid and U
start() {
	base=$((26000 + $$ % 9000))
	pid=
	for port in $base $((base + 1)) $((base + 2)) $((base + 3)) $((base + 4)); do
		curl -s -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && continue
		"$B/meldpuntd" --dir "$1" --listen 127.0.0.1:$port >>"$T/server.log" 2>&1 &
		pid=$!
		i=0
		while [ $i -lt 50 ] && kill -0 $pid 2>/dev/null &&
		    ! curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
			sleep 0.1; i=$((i + 1))
		done
		kill -0 $pid 2>/dev/null && curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
		kill $pid 2>/dev/null; wait $pid 2>/dev/null
		pid=
	done
	U=http://127.0.0.1:$port
	[ -n "$pid" ]
}
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }

# ---- an instance with a caseworker, a page text of its own and a report ----
"$M" keygen --name anna --out "$T/anna.key" >"$T/anna.json" 2>/dev/null
"$M" init --dir "$T/inst" --origin backup.test/log >"$T/verifier" 2>/dev/null
"$M" key add --dir "$T/inst" --role caseworker --name anna --sign "$(js "$T/anna.json" "d['sign']")" \
    --box "$(js "$T/anna.json" "d['box']")" >/dev/null
mkdir -m 700 "$T/inst/ui"
printf 'org.phone = 071 516 0000 (backup test)\n' >"$T/inst/ui/common.conf"
chmod 600 "$T/inst/ui/common.conf"
start "$T/inst" || { echo "not ok - meldpuntd starts"; exit 1; }
say 0 "meldpuntd serves the instance"
export MELDPUNT_URL=$U MELDPUNT_KEY="$T/anna.key"
curl -s -H 'Content-Type: application/json' \
    -d '{"language":"en","description":"Made before the backup: refused at the door.","contact":{"email":"sam@example.org"}}' \
    "$U/api/v1/reports" >"$T/r1.json"
tok1=$(js "$T/r1.json" "d['token']")
# the case id is inside the answer's created event (docs/LOG.md)
id1=$(js "$T/r1.json" "json.loads(__import__('base64').urlsafe_b64decode(d['log']['event'] + '==='))['case']")
[ -n "$tok1" ] && [ -n "$id1" ]; say $? "a report made before the backup is answered with a token"

# ---- reports keep arriving while the backup is made ----
# The writer posts reports on two connections until $T/stop exists.  For every report
# answered 201 it appends the case id (from the created event of the answer's log proof)
# and the leaf index to $T/answered, one line, flushed before the next request; anything
# else goes to $T/bad.
python3 - "$U" "$T" <<'EOF' &
import base64, http.client, json, os, sys, threading, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); t = sys.argv[2]; lock = threading.Lock()
out = open(os.path.join(t, "answered"), "a"); bad = open(os.path.join(t, "bad"), "a")
def w(k):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60); i = 0
    while not os.path.exists(os.path.join(t, "stop")):
        i += 1
        c.request("POST", "/api/v1/reports", json.dumps({"description": "Concurrent report %d.%d" % (k, i)}),
                  {"Content-Type": "application/json"})
        r = c.getresponse(); body = r.read()
        with lock:
            if r.status != 201:
                bad.write("%d\n" % r.status); bad.flush(); continue
            log = json.loads(body).get("log")
            if log is None:
                bad.write("201 without log\n"); bad.flush(); continue
            ev = json.loads(base64.urlsafe_b64decode(log["event"] + "=" * (-len(log["event"]) % 4)))
            out.write("%s %d\n" % (ev["case"], log["index"])); out.flush()
ts = [threading.Thread(target=w, args=(k,)) for k in range(2)]
[x.start() for x in ts]; [x.join() for x in ts]
EOF
wpid=$!
i=0
while [ $i -lt 600 ] && [ "$(cat "$T/answered" 2>/dev/null | wc -l)" -lt "$PRE" ]; do
	sleep 0.1; i=$((i + 1))
done
# Everything answered up to now was answered before the backup began.
cp "$T/answered" "$T/before"
nbefore=$(wc -l <"$T/before")
[ "$nbefore" -ge "$PRE" ]; say $? "$nbefore reports answered 201 before the backup"
mkdir "$T/bk"
run 0 "backup while meldpuntd takes reports" "$M" backup --dir "$T/inst" "$T/bk/inst.mpb"
cp "$T/out" "$T/backup.out"
nafter=$(wc -l <"$T/answered")
touch "$T/stop"
wait "$wpid"; wpid=
echo "# $((nafter - nbefore)) reports answered while the backup ran"
[ ! -s "$T/bad" ]; say $? "every report during the backup was answered 201"
[ -s "$T/bad" ] && sort "$T/bad" | uniq -c | sed 's/^/#   /' | head -5
has "^backup ok: $T/bk/inst.mpb" "... says ok and names the file"
has "integrity ok" "... after integrity_check"
steps=$(sed -n 's/.*copied in \([0-9]*\) steps\{0,1\},.*/\1/p' "$T/out")
pages=$(sed -n 's/.*schema [0-9]*, \([0-9]*\) pages.*/\1/p' "$T/out")
# 512 pages a step (include/mp_backup.h)
[ "${pages:-0}" -gt 512 ] && [ "${steps:-0}" -ge $((pages / 512 + 1)) ]
say $? "... copied in steps of at most 512 pages (${pages:-?} pages, ${steps:-?} steps)"
ncases=$(awk '$1 == "cases" {print $2}' "$T/out")
[ "${ncases:-0}" -gt "$nbefore" ]; say $? "... counts the cases it holds (${ncases:-?})"
nlog=$(awk '$1 == "log" {print $2}' "$T/out")
has "files .*db.key pepper.key log.key ui/common.conf meldpunt.db" "... lists the keys, the page texts and the database"
[ "$(stat -c %a "$T/bk/inst.mpb")" = 600 ]; say $? "the backup file has mode 0600"
[ "$(listing "$T/bk")" = inst.mpb ]; say $? "... and nothing else is left beside it"
grep -q "Made before the backup" "$T/bk/inst.mpb" || grep -q "backup.test" "$T/bk/inst.mpb" ||
    grep -q "org.phone" "$T/bk/inst.mpb"
say $((! $?)) "the backup file shows neither the configuration nor the page texts"
python3 - "$T/bk/inst.mpb" "$T/inst/db.key" "$T/inst/pepper.key" "$T/inst/log.key" <<'EOF'
import sys
b = open(sys.argv[1], "rb").read()
sys.exit(1 if any(open(k, "rb").read() in b for k in sys.argv[2:]) else 0)
EOF
say $? "... nor any of the instance's keys"
stop

# ---- restore, then the restored instance serves ----
run 0 "restore into a new directory" "$M" restore --dir "$T/restored" "$T/bk/inst.mpb"
has "^restored $T/restored" "... says so"
has "integrity ok" "... after integrity_check"
awk '$1 == "cases" {print $2}' "$T/out" | grep -qx "$ncases"; say $? "... with the cases the backup counted"
says "tree size $nlog.*fork" "... and says the log is back at the backup's tree size: a fork to auditors"
[ "$(stat -c %a "$T/restored")" = 700 ]; say $? "the restored directory has mode 0700"
[ "$(stat -c %a "$T/restored/ui")" = 700 ]; say $? "... ui/ too"
[ -z "$(find "$T/restored" -type f ! -perm 600)" ]; say $? "... and every file mode 0600"
for f in meldpunt.conf policy.conf db.key pepper.key log.key ui/common.conf; do
	cmp -s "$T/inst/$f" "$T/restored/$f" || break
done
say $? "configuration, policy, keys and page texts come back byte for byte"
listing "$T" | grep -q '^\.'; say $((! $?)) "no temporary directory is left beside it"

start "$T/restored" || { echo "not ok - meldpuntd starts on the restored instance"; exit 1; }
say 0 "meldpuntd starts on the restored instance"
export MELDPUNT_URL=$U
curl -s "$U/" | grep -q "071 516 0000 (backup test)"; say $? "... and serves the instance's own page texts"
run 0 "the caseworker decrypts a report made before the backup" "$M" case show "$id1"
has "Made before the backup: refused at the door." "... and reads it"
curl -s -H 'Content-Type: application/json' -d "{\"token\":\"$tok1\"}" "$U/api/v1/followup" >"$T/f.json"
js "$T/f.json" "d['status']" | grep -qx received; say $? "the reporter's token from before the backup still answers (the pepper came back)"
# every case id on the restored server
python3 - "$M" >"$T/restored-ids" <<'EOF'
import json, subprocess, sys
after = None
while True:
    cmd = [sys.argv[1], "cases", "--limit", "500", "--json"] + (["--after", after] if after else [])
    d = json.loads(subprocess.run(cmd, capture_output=True, check=True).stdout)
    for c in d["cases"]:
        print(c["id"])
    after = d.get("next")
    if not after:
        break
EOF
say $? "the caseworker pages through every restored case"
[ "$(wc -l <"$T/restored-ids")" -eq "$ncases" ]; say $? "... as many as the backup counted"
sort "$T/restored-ids" >"$T/ids.sorted"
awk '{print $1}' "$T/before" | sort >"$T/before.sorted"
missing=$(comm -23 "$T/before.sorted" "$T/ids.sorted" | wc -l)
[ "$missing" -eq 0 ]; say $? "every report answered 201 before the backup began is in it ($missing missing of $nbefore)"
awk -v n="$nlog" '$2 >= n {bad++} END {exit bad > 0}' "$T/before"
say $? "... and its created event is inside the backup's log"
curl -s "$U/api/v1/log/checkpoint" | sed -n 2p | grep -qx "$nlog"; say $? "the restored log's checkpoint is at the backup's tree size ($nlog)"
stop

# ---- refusals: exit 1, a clear message, nothing created ----
sum=$(cksum <"$T/bk/inst.mpb")
run 1 "backup onto an existing file is refused" "$M" backup --dir "$T/inst" "$T/bk/inst.mpb"
says "already exists" "... saying it exists"
[ "$(cksum <"$T/bk/inst.mpb")" = "$sum" ] && [ "$(listing "$T/bk")" = inst.mpb ]
say $? "... leaving the file as it was and nothing beside it"
run 1 "backup of a directory that is no instance is refused" "$M" backup --dir "$T/bk" "$T/bk/x.mpb"
[ "$(listing "$T/bk")" = inst.mpb ]; say $? "... and creates nothing"
MELDPUNT_PASSPHRASE=short "$M" backup --dir "$T/inst" "$T/bk/short.mpb" >"$T/out" 2>"$T/err"
say $(($? != 1)) "backup refuses a passphrase under 8 characters"
[ "$(listing "$T/bk")" = inst.mpb ]; say $? "... and creates nothing"
run 2 "backup without OUT is bad usage" "$M" backup --dir "$T/inst"
run 2 "restore without --dir is bad usage" "$M" restore "$T/bk/inst.mpb"

mkdir "$T/empty"
run 1 "restore into an existing (even empty) directory is refused" "$M" restore --dir "$T/empty" "$T/bk/inst.mpb"
says "already exists" "... saying it exists"
[ -z "$(listing "$T/empty")" ]; say $? "... and leaves it empty"
run 1 "restore onto the live instance is refused" "$M" restore --dir "$T/inst" "$T/bk/inst.mpb"

mkdir "$T/rs"
before_rs=$(listing "$T/rs")
# refuse WHAT FILE MESSAGE: restore of FILE exits 1 with MESSAGE and creates nothing
refuse() {
	run 1 "restore of $1 is refused" "$M" restore --dir "$T/rs/new" "$2"
	says "$3" "... saying: $3"
	[ "$(listing "$T/rs")" = "$before_rs" ]; say $? "... and creates nothing"
}
size=$(stat -c %s "$T/bk/inst.mpb")
head -c $((size / 2)) "$T/bk/inst.mpb" >"$T/cut.mpb"
refuse "a backup cut in half" "$T/cut.mpb" "truncated"
head -c $((size - 22)) "$T/bk/inst.mpb" >"$T/noend.mpb"
refuse "a backup without its last record" "$T/noend.mpb" "truncated: it ends before its last record"
head -c 40 "$T/bk/inst.mpb" >"$T/hdr.mpb"
refuse "a backup cut inside its header" "$T/hdr.mpb" "truncated"
# one byte flipped in the middle, in the database's records
python3 -c "
import sys; b = bytearray(open(sys.argv[1], 'rb').read()); b[len(b) * 2 // 3] ^= 0x40
open(sys.argv[2], 'wb').write(b)" "$T/bk/inst.mpb" "$T/flip.mpb"
refuse "a backup with one byte changed" "$T/flip.mpb" "is damaged"
python3 -c "
import sys; b = bytearray(open(sys.argv[1], 'rb').read()); b[40] ^= 1
open(sys.argv[2], 'wb').write(b)" "$T/bk/inst.mpb" "$T/salt.mpb"
refuse "a backup with its salt changed" "$T/salt.mpb" "does not open"
cat "$T/bk/inst.mpb" "$T/anna.json" >"$T/tail.mpb"
refuse "a backup with bytes after its end" "$T/tail.mpb" "bytes after its end"
refuse "a file that is no backup" "$T/anna.key" "not a meldpunt backup"
run 1 "restore with the wrong passphrase is refused" env MELDPUNT_PASSPHRASE='wrong horse battery' \
    "$M" restore --dir "$T/rs/new" "$T/bk/inst.mpb"
says "wrong passphrase" "... saying the passphrase may be wrong"
[ "$(listing "$T/rs")" = "$before_rs" ]; say $? "... and creates nothing"

# ---- modes under a permissive umask ----
(umask 000 && "$M" backup --dir "$T/inst" "$T/bk/open.mpb" >/dev/null 2>&1)
[ "$(stat -c %a "$T/bk/open.mpb" 2>/dev/null)" = 600 ]; say $? "under umask 000 the backup file is still mode 0600"
(umask 000 && "$M" restore --dir "$T/rs/open" "$T/bk/open.mpb" >/dev/null 2>&1)
[ "$(stat -c %a "$T/rs/open" 2>/dev/null)" = 700 ] && [ "$(stat -c %a "$T/rs/open/ui")" = 700 ] &&
    [ -z "$(find "$T/rs/open" -type f ! -perm 600)" ]
say $? "... and the restored directory 0700, its files 0600"

# ---- help ----
for c in backup restore; do
	run 0 "meldpunt $c --help exits 0" "$M" $c --help
	has "docs/BACKUP.md" "... and points to docs/BACKUP.md"
done
"$M" --help >"$T/out"
has "meldpunt backup --dir DIR OUT" "meldpunt --help names backup"
has "meldpunt restore --dir" "meldpunt --help names restore"

echo "# $passes passed, $fails failed"
[ "$fails" -eq 0 ]
