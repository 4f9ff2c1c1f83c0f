#!/bin/sh
# meldpuntd's processes (docs/PRIVSEP.md) as they run: a parent, a store that
# alone holds the database, and an HTTP worker without keys or files, each
# confined; how the whole stops when told to, and when a part dies.
# Usage: sh tests/privsep/test_privsep.sh BUILD_DIR   (TAP-ish "ok - " lines)
B=$(cd "${1:-build}" && pwd) || exit 2
T=$(mktemp -d "${TMPDIR:-/tmp}/mp-ps.XXXXXX") || exit 2
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$T"' EXIT

say() { if [ "$1" -eq 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fi; }
child() { for c in $(cat /proc/$1/task/*/children 2>/dev/null); do
	[ "$(cat /proc/$c/comm 2>/dev/null)" = "$2" ] && echo $c; done; }
# fds PID: the targets of its open descriptors past 0, 1, 2, one per line
fds() { for f in /proc/$1/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && readlink "$f"; done 2>/dev/null; }
field() { sed -n "s/^$2:[[:space:]]*//p" /proc/$1/status; }

"$B/meldpunt" init --dir "$T/inst" --origin test.example/log >/dev/null 2>&1 || exit 1

# start PORTVAR: meldpuntd on a free port, waiting until it answers
start() {
	base=$((20000 + ($$ + $1) % 20000))
	for port in $base $((base + 1)) $((base + 2)) $((base + 3)); do
		"$B/meldpuntd" --dir "$T/inst" --listen 127.0.0.1:$port >"$T/server.log" 2>&1 &
		pid=$!
		i=0
		while [ $i -lt 50 ] && kill -0 $pid 2>/dev/null &&
		    ! curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -0 $pid 2>/dev/null && return 0
	done
	return 1
}
# gone PID...: wait up to 5 s for every PID to be gone
gone() { i=0; while [ $i -lt 50 ]; do a=0; for p; do kill -0 $p 2>/dev/null && a=1; done
	[ $a = 0 ] && return 0; sleep 0.1; i=$((i + 1)); done; return 1; }

start 0
say $? "meldpuntd starts and answers"
# A build with AddressSanitizer confines nothing (docs/PRIVSEP.md): only the processes are checked.
san=0
grep -q 'built with AddressSanitizer' "$T/server.log" && san=1 &&
    echo "# built with AddressSanitizer: the sandbox and memory checks belong to the normal build"
store=$(child $pid meldpuntd:store)
http=$(child $pid meldpuntd:http)
say $([ -n "$store" ] && [ -n "$http" ]; echo $?) "the parent has a store child and an HTTP child"
# Niceness is field 19 of stat (after the parenthesised name); every thread of the worker yields.
nice_of() { sed 's/.*) //' "$1" | cut -d' ' -f17; }
sn=$(nice_of /proc/$store/stat)
lag=0
for t in /proc/$http/task/*/stat; do [ "$(nice_of $t)" -eq $((sn + 10)) ] || lag=1; done
say $lag "every thread of the HTTP worker runs at niceness $((sn + 10)), ten above the store's"

for p in $pid $store $http; do
	[ $san = 1 ] && break
	who=$(cat /proc/$p/comm)
	say $([ "$(field $p Seccomp)" = 2 ]; echo $?) "$who runs under a seccomp filter"
	say $([ "$(field $p NoNewPrivs)" = 1 ]; echo $?) "$who cannot gain privileges (no_new_privs)"
done
say $(fds $http | grep -q 'meldpunt\.db'; [ $? -ne 0 ]; echo $?) "the HTTP worker has no descriptor of the database"
say $(fds $http | grep -q '^/'; [ $? -ne 0 ]; echo $?) "the HTTP worker has no file open at all (sockets, pipes, epoll only)"
say $(fds $pid | grep -q 'meldpunt\.db'; [ $? -ne 0 ]; echo $?) "the parent has no descriptor of the database"
say $(fds $store | grep -q 'meldpunt\.db$'; echo $?) "the store holds the database"
say $(fds $store | grep -q '^socket:'; echo $?) "the store reaches the worker by sockets"

# Memory: the worker and the parent hold none of the instance's keys (the
# store, which must, is the control that the search finds them at all).
# meldpuntd's processes are not dumpable; root still reads their memory.
holds() { python3 - "$1" "$2" <<'PY'
import re, sys
pid, key = sys.argv[1], open(sys.argv[2], 'rb').read()
found = False
with open('/proc/%s/maps' % pid) as maps, open('/proc/%s/mem' % pid, 'rb', 0) as mem:
    for line in maps:
        m = re.match(r'([0-9a-f]+)-([0-9a-f]+) r', line)
        if not m or '[vvar]' in line or '[vsyscall]' in line:
            continue
        a, b = int(m.group(1), 16), int(m.group(2), 16)
        try:
            mem.seek(a)
            if key in mem.read(b - a):
                found = True
                break
        except OSError:
            pass
print('yes' if found else 'no')
PY
}
[ $san = 0 ] && say $([ "$(holds $store "$T/inst/log.key")" = yes ]; echo $?) "the store holds the log key (the search works)"
[ $san = 0 ] && for k in db.key log.key pepper.key; do
	say $([ "$(holds $http "$T/inst/$k")" = no ]; echo $?) "the HTTP worker's memory holds no $k"
	say $([ "$(holds $pid "$T/inst/$k")" = no ]; echo $?) "the parent's memory holds no $k"
done

# A report goes through: the worker asks the store for everything.
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data '{"description":"Bij de sollicitatie werd gezegd dat ik met een hoofddoek niet kon werken."}' \
    "http://127.0.0.1:$port/api/v1/reports")
say $([ "$code" = 503 ] && grep -q '"unavailable"' "$T/r.json"; echo $?) "a report is answered through the store (no caseworker yet: 503)"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/log/checkpoint")
say $([ "$code" = 200 ]; echo $?) "the checkpoint is signed by the store on request"

# SIGHUP (a closed terminal) is ignored by all three.
kill -HUP $pid
sleep 0.3
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
say $([ "$code" = 200 ] && kill -0 $pid $store $http 2>/dev/null; echo $?) "SIGHUP leaves all three running and answering"

# SIGTERM: all three stop, exit 0.
kill -TERM $pid
wait $pid
st=$?
say $st "SIGTERM stops meldpuntd with exit 0"
say $(gone $store $http; echo $?) "the store and the worker are gone after SIGTERM"
grep -q 'changes stored in' "$T/server.log"
say $? "the store said what it stored before it ended"

# SIGTERM while requests wait for the job threads and the store: every request in flight is
# answered or refused cleanly, and all three still stop with exit 0, promptly.
start 4
store=$(child $pid meldpuntd:store)
http=$(child $pid meldpuntd:http)
loops=
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
	(while curl -s -o /dev/null "http://127.0.0.1:$port/api/v1/log/checkpoint"; do :; done) &
	loops="$loops $!"
done
sleep 1
t0=$(date +%s)
kill -TERM $pid
wait $pid
st=$?
t1=$(date +%s)
kill $loops 2>/dev/null
wait $loops 2>/dev/null
say $st "SIGTERM under load (16 clients asking the store) stops meldpuntd with exit 0"
say $([ $((t1 - t0)) -le 5 ]; echo $?) "... within 5 s ($((t1 - t0)) s)"
say $(gone $store $http; echo $?) "... and the store and the worker are gone"

# The worker dies: the parent stops the store and exits non-zero.
start 1
store=$(child $pid meldpuntd:store)
http=$(child $pid meldpuntd:http)
kill -KILL $http
wait $pid
st=$?
say $([ $st -ne 0 ]; echo $?) "when the worker is killed, meldpuntd exits non-zero ($st)"
say $(gone $store; echo $?) "and the store ends with it"

# The store dies: the worker is stopped, the parent exits non-zero.
start 2
store=$(child $pid meldpuntd:store)
http=$(child $pid meldpuntd:http)
kill -KILL $store
wait $pid
st=$?
say $([ $st -ne 0 ]; echo $?) "when the store is killed, meldpuntd exits non-zero ($st)"
say $(gone $http; echo $?) "and the worker ends with it"

# The parent dies: both children die with it.
start 3
store=$(child $pid meldpuntd:store)
http=$(child $pid meldpuntd:http)
kill -KILL $pid
wait $pid 2>/dev/null
say $(gone $store $http; echo $?) "when the parent is killed, the store and the worker die with it"
pid=
exit 0
