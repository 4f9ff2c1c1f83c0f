#!/bin/sh
# Statistics and audit over a large log: sh tests/bench/stats.sh BUILD_DIR
#
# Makes (once, kept under BUILD_DIR/bench/) an instance with BENCH_CASES
# cases (default 1,000,000) written straight through the store API by
# tests/bench/genlog.c, then on loopback measures: the server computing and
# signing a year's statistics from the whole log, `meldpunt stats` fetching
# and checking them, and `meldpunt audit` verifying every leaf and event and
# recomputing the figures.  Prints the figures; asserts nothing about time.
set -u
B=$(cd "${1:-build}" && pwd) || exit 2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${BENCH_CASES:-1000000}
W=$B/bench/log-$N
M=$B/meldpunt
export MELDPUNT_KDF_FAST=1 MELDPUNT_PASSPHRASE=bench-passphrase
unset MELDPUNT_URL MELDPUNT_KEY

mkdir -p "$B/bench" || exit 1
cc -std=c11 -D_GNU_SOURCE -O2 -I"$ROOT/include" $(pkg-config --cflags sqlcipher) \
    -o "$B/bench/genlog" "$ROOT/tests/bench/genlog.c" "$B/libmeldpunt.a" \
    $(pkg-config --libs libsodium sqlcipher libmicrohttpd jansson) -lpthread || exit 1

secs() { python3 -c 'import time; print("%.3f" % time.time())'; }
if [ ! -f "$W/done" ]; then
	rm -rf "$W"
	mkdir -p "$W"
	"$M" init --dir "$W/inst" --origin bench.example/log >"$W/verifier" 2>/dev/null || exit 1
	echo "# generating $N cases (once; kept in $W)"
	t0=$(secs)
	"$B/bench/genlog" "$W/inst" "$N" || exit 1
	t1=$(secs)
	echo "generate: $N cases in $(python3 -c "print('%.0f' % ($t1 - $t0))") s"
	"$M" keygen --role auditor --name Odin --out "$W/odin.key" >"$W/odin.json" 2>/dev/null || exit 1
	js() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
	"$M" key add --dir "$W/inst" --role auditor --name Odin --sign "$(js "$W/odin.json" sign)" \
	    --box "$(js "$W/odin.json" box)" >/dev/null 2>&1 || exit 1
	touch "$W/done"
fi
V=$(cat "$W/verifier")
YEAR=$(date +%Y)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$B/meldpuntd" --dir "$W/inst" --listen "127.0.0.1:$PORT" 2>"$W/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
i=0
until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "server did not start"; exit 1; }; sleep 0.1
done
size=$(curl -s "http://127.0.0.1:$PORT/api/v1/log/checkpoint" | sed -n 2p)
echo "log: $N cases, $size events, database $(du -m "$W/inst/meldpunt.db" | cut -f1) MB"

t0=$(secs)
curl -s -o "$W/doc.json" "http://127.0.0.1:$PORT/api/v1/stats/$YEAR"
t1=$(secs)
echo "stats: server folds $size events and signs the $YEAR document: $(python3 -c "print('%.2f' % ($t1 - $t0))") s (first request)"
t0=$(secs)
curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v1/stats/$YEAR"
t1=$(secs)
echo "stats: the same document again (cached): $(python3 -c "print('%.3f' % ($t1 - $t0))") s"
# meldpuntd is three processes (docs/PRIVSEP.md): the store process folds the log.
for q in $pid $(cat /proc/$pid/task/*/children 2>/dev/null); do
	echo "$(cat /proc/$q/comm 2>/dev/null) $(awk '/^VmHWM/ { print $2 }' /proc/$q/status 2>/dev/null)"
done >"$W/hwm.txt"
echo "stats: server peak RSS $(awk '{ s += $2 } END { printf "%.1f MB", s / 1024 }' "$W/hwm.txt") ($(awk '{ printf "%s%s %.1f", (NR > 1 ? ", " : ""), $1, $2 / 1024 }' "$W/hwm.txt"))"
t0=$(secs)
"$M" stats --url "http://127.0.0.1:$PORT" --year "$YEAR" --key "$V" --json >/dev/null 2>"$W/stats.err" ||
	{ echo "meldpunt stats failed:"; cat "$W/stats.err"; }
t1=$(secs)
echo "stats: meldpunt stats fetches and checks the signed document: $(python3 -c "print('%.2f' % ($t1 - $t0))") s"
rm -f "$W/audit.state"
t0=$(secs)
/usr/bin/time -f '%M' -o "$W/audit.mem" "$M" audit --url "http://127.0.0.1:$PORT" --key "$V" \
    --year "$YEAR" --auditor-key "$W/odin.key" --state "$W/audit.state" >"$W/audit.out" 2>&1
rc=$?
t1=$(secs)
echo "audit: $size events (leaves, opened events, statistics recomputed): $(python3 -c "print('%.1f' % ($t1 - $t0))") s, exit $rc, peak RSS $(awk '{print int($1/1024)}' "$W/audit.mem") MB"
tail -1 "$W/audit.out"
