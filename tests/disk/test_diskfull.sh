#!/bin/sh
# Disk full: the instance on a small tmpfs (or ext4 image), filled by a file until concurrent
# report submissions get 503 unavailable.  Checks that every refusal is the
# API's JSON error with Retry-After (the form's: a page that keeps what was
# typed), that nothing partial is stored (cases = reports answered 201,
# PRAGMA integrity_check ok, one log leaf per case), that reads go on while
# the disk is full, that reports are taken again once space is freed, and
# that the database is whole after a clean stop and a restart.
# Needs root (mount); a mount that fails is a failure, not a skip.
# Usage: sh tests/disk/test_diskfull.sh BUILD_DIR     (TAP "ok - " lines)
# Environment: DISK_SIZE (default 6m), DISK_ROOM (bytes left free before the
# load, default 262144), DISK_FS=ext4 (a loop-mounted ext4 image instead of
# tmpfs), KEEP=1.
B=$(cd "${1:-build}" && pwd) || exit 2
M=$B/meldpunt
SIZE=${DISK_SIZE:-6m}
FS=${DISK_FS:-tmpfs}
ROOM=${DISK_ROOM:-262144}
T=$(mktemp -d "${TMPDIR:-/tmp}/mp-disk.XXXXXX") || exit 2
MNT=$T/mnt
I=$MNT/inst
DB=$I/meldpunt.db
pid='' mounted=''
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	if [ -n "$mounted" ]; then
		# The server's processes may take a moment to let go of the files.
		i=0
		until umount "$MNT" 2>/dev/null; do
			i=$((i + 1))
			[ $i -lt 50 ] || { umount -l "$MNT"; break; }
			sleep 0.1
		done
	fi
	[ -n "$KEEP" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export MELDPUNT_KDF_FAST=1 MELDPUNT_PASSPHRASE='correct horse battery'
unset MELDPUNT_URL MELDPUNT_KEY

fails=0
say() {
	if [ "$1" -eq 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fails=$((fails + 1)); fi
	return "$1"
}
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# descendants PID: the process and every process under it (privilege separation forks).
descendants() {
	echo "$1"
	for child in $(pgrep -P "$1"); do descendants "$child"; done
}
start() {
	port=$(freeport)
	"$B/meldpuntd" --dir "$I" --listen "127.0.0.1:$port" >>"$T/server.log" 2>&1 &
	pid=$!
	U=http://127.0.0.1:$port
	MELDPUNT_URL=$U
	export MELDPUNT_URL
	i=0
	until curl -sf "$U/healthz" >/dev/null 2>&1; do
		kill -0 $pid 2>/dev/null && [ $i -lt 200 ] || return 1
		i=$((i + 1))
		sleep 0.05
	done
}
integrity() {
	key=$(od -An -tx1 -v "$I/db.key" | tr -d ' \n')
	printf 'PRAGMA key = "x'\''%s'\''";\nPRAGMA integrity_check;\n' "$key" | sqlcipher "$DB" 2>&1
}
# count: the stored cases, as a caseworker sees them.
count() {
	python3 - "$M" <<'EOF'
import json, subprocess, sys
n, after = 0, None
while True:
    cmd = [sys.argv[1], "cases", "--json", "--limit", "500"] + (["--after", after] if after else [])
    d = json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)
    n += len(d["cases"])
    after = d["next"]
    if not after:
        break
print(n)
EOF
}
logsize() { curl -s -m 30 "$U/api/v1/log/checkpoint" | sed -n 2p; }
# stored WHEN: cases = reports answered 201, the log has a leaf for each, the database is whole.
stored() {
	n=$(count 2>"$T/err")
	[ "$n" = "$ok201" ]
	say $? "$1: the stored cases ($n) are exactly the reports answered 201 ($ok201)"
	l=$(logsize)
	[ "$l" = "$ok201" ]
	say $? "$1: the log holds one leaf per stored case ($l)"
	integrity >"$T/integrity"
	[ "$(cat "$T/integrity")" = ok ]
	say $? "$1: PRAGMA integrity_check is ok" || sed 's/^/#   /' "$T/integrity" | head -5
}
# tokens_open WHEN: every token answered 201 so far opens its case.
tokens_open() {
	python3 - "$port" "$T/tokens" <<'EOF'
import http.client, json, sys
toks = [l.strip() for l in open(sys.argv[2]) if l.strip()]
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
bad = 0
for t in toks:
    c.request("POST", "/api/v1/followup", body=json.dumps({"token": t}),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    bad += r.status != 200
sys.exit(bad != 0 or not toks)
EOF
	say $? "$1: every token answered 201 opens its case ($(wc -l <"$T/tokens"))"
}
# report N: one report through the API; its token goes to $T/tokens on a 201.
report() {
	curl -s -m 30 -D "$T/h" -o "$T/r.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	    -d "{\"description\":\"Report $1 on a small disk.\",\"grounds\":[\"origin\"]}" "$U/api/v1/reports"
}

mkdir -p "$MNT" || exit 2
if [ "$FS" = ext4 ]; then
	truncate -s "$SIZE" "$T/disk.img" && mkfs.ext4 -q -F "$T/disk.img" >/dev/null 2>&1 &&
	    mount -o loop "$T/disk.img" "$MNT" && chmod 700 "$MNT"
else
	mount -t tmpfs -o "size=$SIZE,mode=0700" tmpfs "$MNT"
fi
say $? "a $FS of $SIZE mounts for the instance (needs root)" || exit 1
mounted=1
"$M" keygen --name Anna --out "$T/anna.key" >"$T/anna.json" 2>/dev/null &&
    "$M" init --dir "$I" --origin disk.example/log >/dev/null 2>&1 &&
    "$M" key add --dir "$I" --role caseworker --name Anna --sign "$(js "$T/anna.json" "d['sign']")" \
	--box "$(js "$T/anna.json" "d['box']")" >/dev/null
say $? "a fresh instance with a caseworker key on it" || exit 1
export MELDPUNT_KEY="$T/anna.key"
start
say $? "meldpuntd starts" || exit 1
procs=$(descendants $pid)

: >"$T/tokens"
ok201=0
for n in 1 2 3; do
	[ "$(report "$n")" = 201 ] && js "$T/r.json" "d['token']" >>"$T/tokens" && ok201=$((ok201 + 1))
done
[ $ok201 -eq 3 ]
say $? "reports are taken while there is room"

# Fill the disk, then leave a little room, so that the load itself runs into the wall.
dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null
[ "$(df --output=avail "$MNT" | tail -1)" -eq 0 ]
say $? "a filler file fills the disk"
truncate -s "-$ROOM" "$MNT/filler"

python3 - "$port" "$T/load.json" <<'EOF' 2>"$T/load.err"
# Concurrent clients submit distinct reports until each has had 20 refusals in a row.
import http.client, json, sys, threading
port, out = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
res = {"ok": [], "refused": 0, "bad": [], "noanswer": 0, "sent": 0}

def refusal_ok(status, headers, body):
    try:
        e = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return (status == 503 and e.get("code") == "unavailable" and isinstance(e.get("message"), str)
            and headers.get("Retry-After", "").isdigit()
            and headers.get("Content-Type", "").startswith("application/json"))

def client(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = streak = 0
    while streak < 20 and n < 3000:
        n += 1
        body = json.dumps({"description": "Client %d, report %d: %s" % (k, n, "x" * (n % 40) * 50),
                           "grounds": ["origin"], "contact": {"name": "P %d %d" % (k, n)}})
        try:
            c.request("POST", "/api/v1/reports", body=body,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException) as e:
            with lock:
                res["noanswer"] += 1
                res["bad"].append("no answer: %r" % e)
            return
        with lock:
            res["sent"] += 1
            if r.status == 201:
                res["ok"].append(json.loads(data)["token"])
                streak = 0
            elif refusal_ok(r.status, r.headers, data):
                res["refused"] += 1
                streak += 1
            else:
                res["bad"].append("%d %s %s" % (r.status, dict(r.headers), data[:200]))
                streak += 1

ts = [threading.Thread(target=client, args=(k,)) for k in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
json.dump(res, open(out, "w"))
EOF
say $? "concurrent clients submit until the disk is full" || sed 's/^/#   /' "$T/load.err" | tail -5
js "$T/load.json" "'\n'.join(d['ok'])" | grep . >>"$T/tokens"
ok201=$((ok201 + $(js "$T/load.json" "len(d['ok'])")))
echo "# $(js "$T/load.json" "'%d sent: %d answered 201, %d refused with 503' % (d['sent'], len(d['ok']), d['refused'])")"
[ "$(js "$T/load.json" "d['refused']")" -gt 0 ]
say $? "reports get 503 unavailable once the disk is full"
[ "$(js "$T/load.json" "len(d['bad'])")" -eq 0 ]
say $? "every refusal is 503 with Retry-After and the API's JSON error (no 500, no hang)" ||
    js "$T/load.json" "'\n'.join(d['bad'][:3])" | sed 's/^/#   /'
[ "$(descendants $pid)" = "$procs" ]
say $? "meldpuntd and all its processes are still running" || exit 1

# While full: nothing partial, reads go on, writes are refused the same way.
stored "disk full"
tokens_open "disk full"
curl -s -m 30 -o "$T/cp" -w '%{http_code}' "$U/api/v1/log/checkpoint" >"$T/code"
[ "$(cat "$T/code")" = 200 ] && [ "$(sed -n 2p "$T/cp")" = "$ok201" ]
say $? "disk full: the checkpoint is served"
tok=$(head -1 "$T/tokens")
code=$(curl -s -m 30 -D "$T/h" -o "$T/m.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"token\":\"$tok\",\"text\":\"Any news?\"}" "$U/api/v1/followup/messages")
# A small write may still fit in the WAL's space; either it is stored or it is refused.
curl -s -m 30 -o "$T/f.json" -H 'Content-Type: application/json' -d "{\"token\":\"$tok\"}" \
    "$U/api/v1/followup"
shown=$(js "$T/f.json" "sum(m['text'] == 'Any news?' for m in d['messages'])")
if [ "$code" = 201 ]; then
	[ "$shown" = 1 ]
else
	[ "$code" = 503 ] && [ "$(js "$T/m.json" "d['error']['code']")" = unavailable ] &&
	    grep -qi '^Retry-After: [0-9]' "$T/h" && [ "$shown" = 0 ]
fi
say $? "disk full: a reporter's message is stored (201) or refused with 503 and Retry-After, not half ($code)"
code=$(curl -s -m 30 -D "$T/h" -o "$T/page.html" -w '%{http_code}' \
    --data-urlencode 'lang=en' --data-urlencode 'description=Typed while the disk was full: <b>&"x"</b> één' \
    --data-urlencode 'location=Stationsplein 4' "$U/report")
[ "$code" = 503 ] && grep -qi '^Retry-After: [0-9]' "$T/h" && grep -qi '^Content-Type: text/html' "$T/h"
say $? "disk full: the form's POST /report answers a 503 page with Retry-After"
grep -q 'Typed while the disk was full: &lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt; één' "$T/page.html" &&
    grep -q 'value="Stationsplein 4"' "$T/page.html"
say $? "disk full: ... that keeps what was typed"
grep -q 'Nothing was saved' "$T/page.html"
say $? "disk full: ... and says nothing was saved"
stored "disk full, after the refused writes"

# Space freed: reports are taken again at once.
rm -f "$MNT/filler"
code=$(report after)
[ "$code" = 201 ] && js "$T/r.json" "d['token']" >>"$T/tokens" && ok201=$((ok201 + 1))
say $? "space freed: the next report is answered 201" || sed 's/^/#   /' "$T/r.json" | head -3
for n in 1 2 3 4 5; do
	[ "$(report "after $n")" = 201 ] && js "$T/r.json" "d['token']" >>"$T/tokens" && ok201=$((ok201 + 1))
done
stored "space freed"
tokens_open "space freed"

# A clean stop checkpoints the WAL into the database; the restart finds everything.
kill -TERM $pid
wait $pid
say $? "meldpuntd stops on SIGTERM with exit 0"
pid=
[ ! -s "$DB-wal" ]
say $? "the clean stop leaves no WAL to replay (it was checkpointed)" || ls -l "$I" | sed 's/^/#   /'
start
say $? "meldpuntd starts again" || exit 1
stored "after the restart"
tokens_open "after the restart"
[ $fails -eq 0 ]
