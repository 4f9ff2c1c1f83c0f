#!/bin/sh
# Crash safety: meldpuntd killed with SIGKILL in the middle of concurrent
# report submissions, CYCLES times (default 3; `make test-long`: 100) on
# one instance.  After each restart: every report answered 201 is stored,
# opens with its token and decrypts, as a caseworker, to exactly what was
# sent; the database passes PRAGMA integrity_check; the transparency log
# holds one created leaf per stored case and still extends every
# checkpoint handed out before the kill (tests/crash/client.py).
# Usage: sh tests/crash/test_crash.sh BUILD_DIR     (TAP "ok - " lines)
# Environment: CYCLES, CLIENTS (concurrent submitters, default 6),
# KILL_WITHIN (the kill comes at a random moment up to this many seconds
# into the load, default 0.25), KEEP=1.
B=$(cd "${1:-build}" && pwd) || exit 2
ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
M=$B/meldpunt
CLIENT=$ROOT/tests/crash/client.py
CYCLES=${CYCLES:-3}
CLIENTS=${CLIENTS:-6}
WITHIN=${KILL_WITHIN:-0.25}
T=$(mktemp -d "${TMPDIR:-/tmp}/mp-crash.XXXXXX") || exit 2
I=$T/inst
DB=$I/meldpunt.db
pid='' pids='' cpid=''
cleanup() {
	for p in $cpid $pid $pids; do kill -KILL "$p" 2>/dev/null; done
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
# alive PID: the process runs (a zombie waiting for init to reap it holds nothing).
alive() {
	s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$s" ] && [ "$s" != Z ]
}
# gone PIDS: wait (up to 10 s) until none of PIDS lives and no process holds the database.
gone() {
	i=0
	while [ $i -lt 200 ]; do
		live=
		for p in "$@"; do alive "$p" && live=1; done
		[ -z "$live" ] && ! fuser -s "$DB" "$DB-wal" "$DB-shm" 2>/dev/null && return 0
		i=$((i + 1))
		sleep 0.05
	done
	return 1
}
# start: meldpuntd on a fresh free port; sets pid, port, U.
start() {
	port=$(freeport)
	"$B/meldpuntd" --dir "$I" --listen "127.0.0.1:$port" >>"$T/server.log" 2>&1 &
	pid=$!
	U=http://127.0.0.1:$port
	i=0
	until curl -sf "$U/healthz" >/dev/null 2>&1; do
		kill -0 $pid 2>/dev/null && [ $i -lt 200 ] || return 1
		i=$((i + 1))
		sleep 0.05
	done
}
integrity() {
	# The key goes in on stdin, not on a command line that ps shows.
	key=$(od -An -tx1 -v "$I/db.key" | tr -d ' \n')
	printf 'PRAGMA key = "x'\''%s'\''";\nPRAGMA integrity_check;\n' "$key" | sqlcipher "$DB" 2>&1
}

"$M" keygen --name Anna --out "$T/anna.key" >"$T/anna.json" 2>/dev/null &&
    "$M" init --dir "$I" --origin crash.example/log >/dev/null 2>&1 &&
    "$M" key add --dir "$I" --role caseworker --name Anna --sign "$(js "$T/anna.json" "d['sign']")" \
	--box "$(js "$T/anna.json" "d['box']")" >/dev/null
say $? "a fresh instance with a caseworker key"
export MELDPUNT_KEY="$T/anna.key"

c=1
while [ $c -le "$CYCLES" ]; do
	start || { say 1 "cycle $c: meldpuntd starts"; tail -5 "$T/server.log"; exit 1; }
	pids=$(descendants $pid)
	python3 "$CLIENT" submit "$port" "$T/out.$c" "$CLIENTS" "crash-$c" 2>"$T/client.err" &
	cpid=$!
	i=0
	while [ ! -f "$T/out.$c.ready" ] && kill -0 $cpid 2>/dev/null && [ $i -lt 200 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	# A random moment: from just after the clients start to well into their run.
	delay=$(python3 -c 'import random, sys; print("%.2f" % random.uniform(0.02, float(sys.argv[1])))' "$WITHIN")
	sleep "$delay"
	kill -KILL $pid
	wait $pid 2>/dev/null
	wait $cpid
	crc=$?
	cpid=
	[ $crc -eq 0 ] && [ -f "$T/out.$c" ]
	say $? "cycle $c: the clients ran until the SIGKILL ${delay}s in" || sed 's/^/#   /' "$T/client.err"
	# shellcheck disable=SC2086 # one word a PID
	gone $pids
	say $? "cycle $c: every process of the killed server is gone and nothing holds the database"
	for p in $pids; do kill -KILL "$p" 2>/dev/null; done
	pids=
	start
	say $? "cycle $c: meldpuntd starts again on the crashed database" ||
	    { tail -5 "$T/server.log" | sed 's/^/#   /'; exit 1; }
	MELDPUNT_URL=$U python3 "$CLIENT" check "$port" "$M" "$T/out.$c" "$T/state" "$c" \
	    >"$T/check.out" 2>"$T/check.err"
	rc=$?
	cat "$T/check.out"
	grep -q '^not ok' "$T/check.out" && fails=$((fails + 1))
	say $rc "cycle $c: the checks ran" || sed 's/^/#   /' "$T/check.err" | tail -5
	integrity >"$T/integrity"
	[ "$(cat "$T/integrity")" = ok ]
	say $? "cycle $c: PRAGMA integrity_check is ok" || sed 's/^/#   /' "$T/integrity" | head -5
	kill -TERM $pid
	wait $pid
	say $? "cycle $c: meldpuntd stops on SIGTERM with exit 0"
	pid=
	c=$((c + 1))
done
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
print("# crash: %d cycles, %d reports answered 201, %d lost; %d cases stored" %
    (s["cycles"], s["ok"], s["lost"], s["cases"]))' "$T/state"
[ $fails -eq 0 ]
