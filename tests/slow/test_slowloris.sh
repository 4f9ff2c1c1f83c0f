#!/bin/sh
# Slow clients cannot starve the others (docs/ABUSE.md, "Slow clients").
#
#	sh tests/slow/test_slowloris.sh BUILD_DIR
#
# meldpuntd listens on 0.0.0.0; an attacker and a resident come from two
# addresses of their own in a network namespace (a veth pair), not from
# loopback, which meldpuntd does not count (a proxy there carries everyone).
# slowhttptest runs in slowloris mode (-H: headers that never end) and then
# in slow-body mode (-B: a body that never ends) with ATTACK_CONNS
# connections, while the resident keeps asking for the form and following a
# report up.  Checks: the attack held connections open; no more than the
# policy's `connections` per address; every one of the resident's requests
# was answered 200.  The count and p99 of those answers are printed (figures,
# not checks).  Needs root (ip netns), slowhttptest and curl.
#
# Environment: ATTACK_SECONDS (default 10) per mode, ATTACK_CONNS (default 500).

BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) || {
	echo "not ok - slow clients: no build directory ${1:-build}"
	exit 1
}
SECS=${ATTACK_SECONDS:-10}
CONNS=${ATTACK_CONNS:-500}
CAP=32                          # the default policy's `connections`
T=$(mktemp -d "${TMPDIR:-/tmp}/meldpunt-slow.XXXXXX") || exit 1
NS=mpslow$$
HV=mps$$h                       # interface names: at most 15 bytes
NV=mps$$n
NET=10.213.$(($$ % 200 + 20))
HOST=$NET.1 ATTACKER=$NET.2 RESIDENT=$NET.3
PID=

cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -TERM "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
	ip link del "$HV" 2>/dev/null
	[ -n "$KEEP" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bail() {
	printf 'not ok - slow clients: %s\n' "$1"
	[ -n "$2" ] && printf '%s\n' "$2" | head -n 20 | sed 's/^/# /'
	exit 1
}

say() {
	if [ "$1" -eq 0 ]; then echo "ok - slow clients: $2"; else echo "not ok - slow clients: $2"; fi
}

for f in meldpunt meldpuntd; do
	[ -x "$BUILD/$f" ] || bail "no $BUILD/$f (run make first)"
done
for tool in slowhttptest curl ip ss python3; do
	command -v "$tool" >/dev/null 2>&1 || bail "needs $tool (make deps installs it)"
done
[ "$(id -u)" = 0 ] || bail "needs root for a network namespace"

# ---- the network: the host's end and two client addresses in a namespace ----------------

ip netns add "$NS" 2>"$T/err" || bail "ip netns add" "$(cat "$T/err")"
{
	ip link add "$HV" type veth peer name "$NV" &&
	ip link set "$NV" netns "$NS" &&
	ip addr add "$HOST/24" dev "$HV" && ip link set "$HV" up &&
	ip netns exec "$NS" ip addr add "$ATTACKER/24" dev "$NV" &&
	ip netns exec "$NS" ip addr add "$RESIDENT/24" dev "$NV" &&
	ip netns exec "$NS" ip link set "$NV" up &&
	ip netns exec "$NS" ip link set lo up
} 2>"$T/err" || bail "a veth pair into the namespace" "$(cat "$T/err")"

# ---- an instance and its server ---------------------------------------------------------

"$BUILD/meldpunt" init --dir "$T/inst" --origin slow.meldpunt.test/log >/dev/null 2>"$T/err" ||
	bail "meldpunt init" "$(cat "$T/err")"
PORT=$(python3 -c 'import socket
s = socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])')
"$BUILD/meldpuntd" --dir "$T/inst" --listen "0.0.0.0:$PORT" >"$T/server.log" 2>&1 &
PID=$!
URL=http://$HOST:$PORT
i=0
until ip netns exec "$NS" curl -s --interface "$RESIDENT" -o /dev/null "$URL/healthz"; do
	kill -0 "$PID" 2>/dev/null && [ $i -lt 100 ] || bail "meldpuntd starts" "$(cat "$T/server.log")"
	sleep 0.1
	i=$((i + 1))
done
echo "ok - slow clients: meldpuntd serves $URL, reached from the namespace"

# resident OUT: until the file $T/stop exists, the form and the policy, one after the
# other, each on a new connection from the resident's address (routes without a rate
# limit: the resident makes hundreds); a line "status seconds" for each.
resident() {
	: >"$1"
	while [ ! -e "$T/stop" ]; do
		ip netns exec "$NS" curl -s --interface "$RESIDENT" --max-time 20 -o /dev/null \
		    -w '%{http_code} %{time_total}\n' "$URL/?lang=nl" >>"$1"
		ip netns exec "$NS" curl -s --interface "$RESIDENT" --max-time 20 -o /dev/null \
		    -w '%{http_code} %{time_total}\n' "$URL/api/v1/policy" >>"$1"
	done
}

# attack MODE NAME ARGS...: slowhttptest from the attacker's address while the resident asks.
attack() {
	mode=$1 name=$2 file=$(echo "$1" | tr -d -- -)
	shift 2
	rm -f "$T/stop"
	# slowhttptest cannot pick its address: the namespace's first one is the attacker's.
	(ulimit -n 8192; ip netns exec "$NS" slowhttptest "$mode" -c "$CONNS" -r 200 -i 3 \
	    -l "$SECS" -p 5 "$@" >"$T/$file.attack" 2>&1) &
	apid=$!
	sleep 2
	resident "$T/$file.resident" &
	rpid=$!
	held=0
	while kill -0 "$apid" 2>/dev/null; do
		n=$(ss -Htn state established "( sport = :$PORT )" dst "$ATTACKER" | wc -l)
		[ "$n" -gt "$held" ] && held=$n
		sleep 0.5
	done
	wait "$apid"
	touch "$T/stop"
	wait "$rpid"
	total=$(wc -l <"$T/$file.resident")
	answered=$(grep -c '^200 ' "$T/$file.resident")
	p99=$(awk '{print $2}' "$T/$file.resident" | sort -n |
	    awk '{v[NR]=$1} END {i=int(NR*0.99+0.999); if (i<1) i=1; print v[i]}')
	echo "# $name: slowhttptest $mode -c $CONNS -r 200 -i 3 -l $SECS -p 5 $* from $ATTACKER;"
	echo "# $name: the attacker held at most $held connections; the resident ($RESIDENT) was"
	echo "# $name: answered (200) $answered of $total requests, p99 ${p99:-?} s"
	say $([ "$held" -ge $((CAP / 2)) ]; echo $?) \
	    "$name: the attack held connections open ($held at most; $CONNS tried)"
	say $([ "$held" -le $((CAP + 4)) ]; echo $?) \
	    "$name: one address holds no more than about the policy's $CAP connections ($held)"
	say $([ "$total" -gt 0 ] && [ "$answered" -eq "$total" ]; echo $?) \
	    "$name: every request of the resident was answered 200 during the attack ($answered of $total)"
	if [ "$answered" -ne "$total" ]; then
		grep -v '^200 ' "$T/$file.resident" | head -n 3 | sed 's/^/# not answered 200: /'
		tail -n 12 "$T/$file.attack" | sed 's/\x1b\[[0-9;]*m//g; s/^/# /'
	fi
}

attack -H "slowloris (-H)" -u "$URL/" -t GET
attack -B "slow body (-B)" -u "$URL/report" -t POST -s 65536 -f application/x-www-form-urlencoded

# ---- the server is still well, and wrote no address -----------------------------------------

code=$(ip netns exec "$NS" curl -s --interface "$ATTACKER" -o /dev/null -w '%{http_code}' \
    --max-time 10 "$URL/healthz")
say $([ "$code" = 200 ]; echo $?) "after the attacks the attacker's own address is served again"
kill -TERM "$PID" 2>/dev/null
wait "$PID"
rc=$?
PID=
say $([ "$rc" = 0 ]; echo $?) "meldpuntd exits 0 on SIGTERM after the attacks ($rc)"
found=$(grep -rlaF -e "$ATTACKER" -e "$RESIDENT" "$T/inst" "$T/server.log" 2>/dev/null)
say $([ -z "$found" ]; echo $?) "neither address appears in the instance or the server's output"
[ -z "$found" ] || echo "# in: $found"
