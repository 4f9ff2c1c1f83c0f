#!/bin/sh
# make bench: sh tests/bench/run.sh BUILD_DIR
#
# Measures, in one run on loopback, the limits (a libmicrohttpd hello-world
# server under the same load, sealing, the receipt's token and QR code,
# durable SQLCipher commits) and the service (report submissions and
# follow-ups at several connection counts, latency, peak memory, start-up),
# prints each service figure beside its limit, checks from outside that
# every 201 is a stored report, counts instructions per request under
# callgrind, then runs tests/bench/stats.sh (statistics and audit over a
# large log).  Figures, not tests: nothing here fails on time.
# docs/BENCH.md explains each figure.
#
# Environment:
#   BENCH_SECONDS      length of each wrk run (default 10)
#   BENCH_CONNS        connection counts (default "64 512")
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_CPU_SECONDS  length of each one-core loop: seal, token, commit (default 3)
#   BENCH_CASES        size of the statistics and audit log (default 1000000; generated
#                      once, ~20 min for a million, and kept under BUILD_DIR/bench/)
#   BENCH_STATS=0      skips the statistics and audit
#   BENCH_CALLGRIND=0  skips the instruction counts
#   BENCH_CALLGRIND_SECONDS  length of each callgrind run (default 10)
#   BENCH_PROFILE=1    adds one submission run under `perf record` and prints where
#                      the server's time goes (after the measured runs)
#   BENCH_TREE         names the source tree in the heading (default: git's HEAD)
set -u
B=$(cd "${1:-build}" && pwd) || exit 2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-64 512}
THREADS=${BENCH_THREADS:-2}
CPUSECS=${BENCH_CPU_SECONDS:-3}
W=$B/bench/run
M=$B/meldpunt
BD=$ROOT/tests/bench
export MELDPUNT_KDF_FAST=1 MELDPUNT_PASSPHRASE=bench-passphrase
unset MELDPUNT_URL MELDPUNT_KEY BENCH_TOKEN BENCH_TOKENS
TICK=$(getconf CLK_TCK)
CORES=$(nproc)
C1=$(echo $CONNS | awk '{ print $1 }')

for tool in wrk curl python3; do
	command -v $tool >/dev/null || { echo "bench: $tool is missing (make bench installs it)"; exit 1; }
done
[ -x "$B/meldpuntd" ] && [ -x "$M" ] && [ -f "$B/libmeldpunt.a" ] || { echo "bench: build $B first"; exit 1; }

# ---- helpers ----
# The servers and the load still running, if the script stops early.
hpid='' spid='' wpid=''
cleanup() { for p in $hpid $spid $wpid; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# up PORT PID: wait until /healthz answers (0), or the process is gone or 60 s have passed (1).
up() {
	i=0
	until curl -sf "http://127.0.0.1:$1/healthz" >/dev/null 2>&1; do
		kill -0 "$2" 2>/dev/null && [ $i -lt 1200 ] || return 1
		i=$((i + 1)); sleep 0.05
	done
}
# calc FORMAT EXPR [GUARD]: awk arithmetic; n/a when GUARD (e.g. "d = b > 0") is false.
calc() { awk "BEGIN { d = 1; ${3:-} ; printf (d ? \"$1\" : \"n/a\"), $2 }" 2>/dev/null || echo n/a; }
pct() { calc %.1f "100 * ($1) / ($2)" "d = ($2) > 0"; }
times_() { calc %.2f "($1) / ($2)" "d = ($2) > 0"; }
# A server is its process and its children (meldpuntd's store and HTTP worker,
# docs/PRIVSEP.md): CPU and memory are summed over them.
# (Their loop variable is their own: sh functions share the caller's variables.)
procs() { echo "$1"; cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep .; }
ticks() { _t=0; for _q in $(procs "$1"); do
	_t=$((_t + $(awk '{ print $14 + $15 }' "/proc/$_q/stat" 2>/dev/null || echo 0))); done; echo $_t; }
hwm_reset() { for _q in $(procs "$1"); do echo 5 >"/proc/$_q/clear_refs" 2>/dev/null; done; }
sum_mb() { for _q in $(procs "$1"); do cat "/proc/$_q/status" 2>/dev/null; done |
	awk -v k="^$2:" '$0 ~ k { s += $2 } END { printf "%.1f", s / 1024 }'; }
hwm_mb() { sum_mb "$1" VmHWM; }
rss_mb() { sum_mb "$1" VmRSS; }
# pss_watch PID FILE: until PID is gone or FILE.stop exists, samples the summed proportional
# set size (shared library pages divided among the processes that map them) every 0.2 s and
# keeps the largest in FILE, in MB.  The kernel keeps no peak of it, so this is sampled.
pss_watch() {
	echo 0 >"$2"
	while [ ! -e "$2.stop" ] && kill -0 "$1" 2>/dev/null; do
		for _q in $(procs "$1"); do cat "/proc/$_q/smaps_rollup" 2>/dev/null; done |
			awk -v f="$2" '/^Pss:/ { s += $2 } END { getline m < f; if (s / 1024 > m) printf "%.1f\n", s / 1024 > f }'
		sleep 0.2
	done
}
# kv FILE KEY: a value from the BENCH line of a wrk run (count.lua) or a helper's line.
kv() { sed -n "s/^[a-zA-Z]*\( .*\)\{0,1\} $2=\([^ ]*\).*/\2/p" "$1" 2>/dev/null | head -1; }
js() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }

# bench NAME CONNS SCRIPT URL PID: one wrk run into $W/NAME.out.  The server's
# CPU time per answer, the cores it kept busy and its peak RSS during the run
# (from /proc) are appended to the BENCH line as cpu_us=, cores=, rss_mb= (the sum of each
# process's peak) and pss_mb= (the largest sampled sum of proportional set sizes).
bench() {
	n=$1; c=$2; s=$3; u=$4; p=$5
	hwm_reset "$p"
	rm -f "$W/$n.pss.stop"
	pss_watch "$p" "$W/$n.pss" &
	t0=$(ticks "$p")
	if [ -n "$s" ]; then
		wrk -t"$THREADS" -c"$c" -d"$SECS"s --timeout 30s -s "$BD/$s" "$u" >"$W/$n.out" 2>&1
	else
		wrk -t"$THREADS" -c"$c" -d"$SECS"s --timeout 30s "$u" >"$W/$n.out" 2>&1
		# Without a script there is no BENCH line; make one from wrk's summary.
		awk '/requests in/ { r = $1 } /Requests\/sec/ { printf "BENCH requests=%d rps=%s ok=%d ok_rps=%s other=0\n", r, $2, r, $2 }' \
		    "$W/$n.out" >"$W/$n.sum" && cat "$W/$n.sum" >>"$W/$n.out"
	fi
	t1=$(ticks "$p")
	touch "$W/$n.pss.stop"
	wait $!
	req=$(kv "$W/$n.out" requests)
	if [ -z "$req" ]; then
		echo "  ($n: wrk gave no figures:)"; sed 's/^/    /' "$W/$n.out" | head -20
		return 1
	fi
	cpu=$(calc %.0f "($t1 - $t0) * 1e6 / $TICK / $req" "d = $req > 0")
	cores=$(calc %.2f "($t1 - $t0) / $TICK / $SECS")
	sed -i "s/^BENCH .*/& cpu_us=$cpu cores=$cores rss_mb=$(hwm_mb "$p") pss_mb=$(cat "$W/$n.pss")/" "$W/$n.out"
}
# lat NAME: the latencies of a run.  answers NAME WHAT: its answers and errors.
lat() {
	f=$W/$1.out
	printf 'p50 %s  p99 %s  max %s ms' "$(kv "$f" p50_ms)" "$(kv "$f" p99_ms)" "$(kv "$f" max_ms)"
}
answers() {
	f=$W/$1.out
	printf '%s %s, other %s (%s); socket errors: connect %s, read %s, write %s, timeout %s\n' \
	    "$2" "$(kv "$f" ok)" "$(kv "$f" other)" "$(kv "$f" statuses)" "$(kv "$f" connect)" \
	    "$(kv "$f" read)" "$(kv "$f" write)" "$(kv "$f" timeout)"
	grep '^BENCH_UNEXPECTED' "$f" | sed 's/^BENCH_UNEXPECTED/      unexpected answer:/' | head -4
}

rm -rf "$W"
mkdir -p "$W" || exit 1

# ---- the helper programs, built against the library as it was built ----
SAN=
nm "$B/libmeldpunt.a" 2>/dev/null | grep -q '__asan_' && SAN="-fsanitize=address,undefined"
CFL="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes $SAN"
PK="libsodium sqlcipher libmicrohttpd jansson"
for p in hello seal commit token startup; do
	# shellcheck disable=SC2086,SC2046
	cc $CFL -I"$ROOT/include" $(pkg-config --cflags $PK) -o "$W/$p" "$BD/$p.c" "$B/libmeldpunt.a" \
	    $(pkg-config --libs $PK) -lpthread || { echo "bench: cannot build $p"; exit 1; }
done

# ---- machine and versions ----
"$W/seal" "$CPUSECS" >"$W/seal.txt" || { echo "bench: seal failed"; exit 1; }
"$W/token" "$CPUSECS" >"$W/token.txt" || { echo "bench: token failed"; exit 1; }
"$W/commit" "$W/commit.db" "$CPUSECS" >"$W/commit.txt" || { echo "bench: commit failed"; exit 1; }
if [ -n "${BENCH_TREE:-}" ]; then
	tree=$BENCH_TREE
elif tree=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); then
	[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] && tree="$tree with uncommitted changes"
else
	tree="not a git checkout (BENCH_TREE names it)"
fi
echo "meldpunt bench, $(date -u '+%Y-%m-%d %H:%M UTC'), tree $tree"
echo "== machine"
echo "  cpu          $(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -1), $CORES cores online"
echo "  memory       $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "  kernel       $(uname -srm)$(command -v systemd-detect-virt >/dev/null && printf ', virtualisation: %s' "$(systemd-detect-virt 2>/dev/null)")"
echo "  disk         $(df -T "$W" | awk 'NR == 2 { print $2 " on " $1 }') (the instance and the commit loop, under $W)"
echo "== versions"
echo "  wrk          $(wrk -v 2>&1 | head -1 | awk '{ print $2, $3 }')"
echo "  libmicrohttpd $("$W/hello" --version)"
echo "  SQLCipher    $(kv "$W/commit.txt" cipher) (SQLite $(kv "$W/commit.txt" sqlite))"
echo "  libsodium    $(kv "$W/seal.txt" sodium)"
echo "  jansson      $(pkg-config --modversion jansson)"
echo "  compiler     $(cc --version | head -1)${SAN:+, library built with $SAN}"
echo "  settings     wrk -t$THREADS, $SECS s a run (BENCH_SECONDS), connections $CONNS (BENCH_CONNS), one-core loops $CPUSECS s"

# ---- limits ----
seal_us=$(kv "$W/seal.txt" us)
tok_us=$(kv "$W/token.txt" token_us)
qr_us=$(kv "$W/token.txt" qr_us)
commit_ps=$(kv "$W/commit.txt" per_s)
floor_us=$(calc %.0f "$seal_us + $tok_us + $qr_us")
compute_ps=$(calc %.0f "$CORES * 1e6 / $floor_us" "d = $floor_us > 0")
fol_us=$(kv "$W/token.txt" followup_us)
fcompute_ps=$(calc %.0f "$CORES * 1e6 / $fol_us" "d = $fol_us > 0")
echo "== limits"
echo "  seal         2 KB report for 3 recipients, one core: $(kv "$W/seal.txt" per_s) seals/s ($seal_us µs each; envelope $(kv "$W/seal.txt" envelope_bytes) bytes)"
echo "  token        a report's follow-up token (new, text, lookup, tag, reporter key pair), one core: $tok_us µs"
echo "  QR code      the SVG of the follow-up URL, one core: $qr_us µs ($(kv "$W/token.txt" qr_svg_bytes) bytes)"
echo "  compute      seal + token + QR = $floor_us µs a report: $compute_ps reports/s on $CORES cores (no HTTP, JSON, store or log)"
echo "  follow-up    token parsed, reporter key pair, two messages opened, one core: $fol_us µs: $fcompute_ps follow-ups/s on $CORES cores (no HTTP, JSON, store or log)"
echo "  commit       durable single-row SQLCipher commits (WAL, synchronous=FULL): $commit_ps commits/s ($(kv "$W/commit.txt" ms) ms each)"
HP=$(freeport)
"$W/hello" "$HP" &
hpid=$!
up "$HP" "$hpid" || { echo "bench: hello did not start"; exit 1; }
echo "  hello-world  libmicrohttpd with meldpuntd's threading, pool and limits, a 2-byte answer; the same wrk scripts:"
for c in $CONNS; do
	bench "hello-report-$c" "$c" report.lua "http://127.0.0.1:$HP/api/v1/reports" $hpid &&
		printf '    report requests    %4s conns  %9s req/s  %s; RSS %s MB\n' "$c" \
		    "$(kv "$W/hello-report-$c.out" ok_rps)" "$(lat "hello-report-$c")" "$(kv "$W/hello-report-$c.out" rss_mb)"
done
for c in $CONNS; do
	BENCH_TOKEN=XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXX bench "hello-followup-$c" "$c" followup.lua \
	    "http://127.0.0.1:$HP/api/v1/followup" $hpid &&
		printf '    follow-up requests %4s conns  %9s req/s  %s; RSS %s MB\n' "$c" \
		    "$(kv "$W/hello-followup-$c.out" ok_rps)" "$(lat "hello-followup-$c")" "$(kv "$W/hello-followup-$c.out" rss_mb)"
done
bench "hello-get" "$C1" "" "http://127.0.0.1:$HP/" $hpid &&
	printf '    plain GET, no script %2s conns  %9s req/s  (for comparison: the scripts cost wrk time)\n' "$C1" \
	    "$(kv "$W/hello-get.out" ok_rps)"
kill $hpid; wait $hpid 2>/dev/null
hpid=

# ---- the service ----
I=$W/inst
"$M" init --dir "$I" --origin bench.example/log >"$W/verifier" 2>"$W/init.err" || { cat "$W/init.err"; exit 1; }
for who in anna bram cora; do
	"$M" keygen --name "$who" --out "$W/$who.key" >"$W/$who.json" 2>/dev/null &&
		"$M" key add --dir "$I" --role caseworker --name "$who" --sign "$(js "$W/$who.json" sign)" \
		    --box "$(js "$W/$who.json" box)" >/dev/null 2>&1 || { echo "bench: caseworker keys failed"; exit 1; }
done
P=$(freeport)
U=http://127.0.0.1:$P
export MELDPUNT_URL=$U MELDPUNT_KEY=$W/anna.key
echo "== service: meldpuntd, 3 caseworkers, a new instance on $(df -T "$W" | awk 'NR == 2 { print $2 }'); a fresh server for each run"
"$W/startup" 5 "$P" "$B/meldpuntd" --dir "$I" --listen "127.0.0.1:$P" >"$W/startup0.txt" 2>"$W/startup0.err" &&
	echo "  start-up     empty instance: $(kv "$W/startup0.txt" best_ms) ms, best of 5 (median $(kv "$W/startup0.txt" median_ms) ms), exec to the first 200 on /healthz" ||
	{ echo "  start-up failed:"; cat "$W/startup0.err"; }
stop() {
	[ -n "$spid" ] || return 0
	kill "$spid" 2>/dev/null
	wait "$spid"; src=$?
	[ $src -eq 0 ] || echo "  (meldpuntd exited $src on SIGTERM)"
	spid=
}
start() {
	stop
	"$B/meldpuntd" --dir "$I" --listen "127.0.0.1:$P" >>"$W/server.log" 2>&1 &
	spid=$!
	up "$P" $spid || { echo "bench: meldpuntd did not start:"; tail -5 "$W/server.log"; exit 1; }
}
start
rss0=$(rss_mb $spid)

# The follow-up case: one report with two caseworker messages, made before the load.
curl -s -H 'Content-Type: application/json' \
    -d '{"language":"nl","description":"Bij de ingang van de club werd ik tegengehouden.","grounds":["origin"]}' \
    "$U/api/v1/reports" >"$W/first.json"
TOKEN=$(js "$W/first.json" token 2>/dev/null) || { echo "bench: the first report failed: $(head -c 300 "$W/first.json")"; exit 1; }
ref=$("$M" cases | awk '{ print $1; exit }')
"$M" case reply "$ref" --text "Dank voor uw melding. We nemen binnen een week contact met u op." >/dev/null &&
	"$M" case reply "$ref" --text "We hebben de club om een reactie gevraagd en laten u die weten." >/dev/null ||
	{ echo "bench: case reply failed"; exit 1; }
curl -s -H 'Content-Type: application/json' -d "{\"token\":\"$TOKEN\"}" "$U/api/v1/followup" >"$W/f.json"
[ "$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['messages']))" "$W/f.json" 2>/dev/null)" = 2 ] ||
	{ echo "bench: the follow-up case does not show 2 messages: $(head -c 300 "$W/f.json")"; exit 1; }
echo "  memory       $rss0 MB resident after the start (VmRSS)"
# A copy of the instance as it is now (the follow-up case only), for the instruction counts.
stop
cp -a "$I" "$W/inst0"

for c in $CONNS; do
	start
	bench "report-$c" "$c" report.lua "$U/api/v1/reports" $spid || continue
	f=$W/report-$c.out
	h=$(kv "$W/hello-report-$c.out" ok_rps)
	r=$(kv "$f" ok_rps)
	printf '  submissions  %4s conns  %8s /s  %s\n' "$c" "$r" "$(lat "report-$c")"
	echo "      = $(pct "$r" "$h")% of hello-world ($h/s), $(times_ "$r" "$commit_ps")x the single-commit limit, $(pct "$r" "$compute_ps")% of the compute limit"
	echo "      server CPU $(kv "$f" cpu_us) µs a request, $(kv "$f" cores) of $CORES cores busy; peak RSS $(kv "$f" rss_mb) MB, PSS $(kv "$f" pss_mb) MB (hello-world $(kv "$W/hello-report-$c.out" rss_mb))"
	echo "      $(answers "report-$c" "answers: 201")"
done

# Durability from outside: every 201 is a stored case (the CLI counts them).
python3 - "$M" >"$W/count.txt" 2>&1 <<'EOF'
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
stored=$(cat "$W/count.txt")
ok201=0; sent=0; other=0
for c in $CONNS; do
	[ -n "$(kv "$W/report-$c.out" ok)" ] || continue
	ok201=$((ok201 + $(kv "$W/report-$c.out" ok))); sent=$((sent + $(kv "$W/report-$c.out" sent)))
	other=$((other + $(kv "$W/report-$c.out" other)))
done
case $stored in
*[!0-9]* | '') echo "  durability   counting the cases failed: $(head -3 "$W/count.txt")" ;;
*)
	extra=$((stored - 1 - ok201))
	if [ $extra -ge 0 ] && [ $((stored - 1)) -le $((sent - other)) ]; then v="every 201 is a stored case"; else v="MISMATCH"; fi
	echo "  durability   meldpunt cases counts $stored = the follow-up case + $ok201 answered 201 + $extra answered after wrk stopped (of $sent sent, $other refused): $v" ;;
esac

for c in $CONNS; do
	start
	BENCH_TOKEN=$TOKEN bench "followup-$c" "$c" followup.lua "$U/api/v1/followup" $spid || continue
	f=$W/followup-$c.out
	h=$(kv "$W/hello-followup-$c.out" ok_rps)
	r=$(kv "$f" ok_rps)
	printf '  follow-ups   %4s conns  %8s /s  %s\n' "$c" "$r" "$(lat "followup-$c")"
	echo "      = $(pct "$r" "$h")% of hello-world ($h/s), $(pct "$r" "$fcompute_ps")% of the follow-up compute limit"
	echo "      server CPU $(kv "$f" cpu_us) µs a request, $(kv "$f" cores) of $CORES cores busy; peak RSS $(kv "$f" rss_mb) MB, PSS $(kv "$f" pss_mb) MB (hello-world $(kv "$W/hello-followup-$c.out" rss_mb))"
	echo "      $(answers "followup-$c" "answers: 200")"
done
stop

"$W/startup" 3 "$P" "$B/meldpuntd" --dir "$I" --listen "127.0.0.1:$P" >"$W/startup1.txt" 2>"$W/startup1.err" &&
	echo "  start-up     with $stored cases: $(kv "$W/startup1.txt" best_ms) ms, best of 3 (median $(kv "$W/startup1.txt" median_ms) ms)" ||
	{ echo "  start-up failed:"; cat "$W/startup1.err"; }

# The kill check: SIGKILL in the middle of a submission run, then every token answered 201
# must open its case after the restart.  It checks that no 201 leaves before the commit;
# what survives a power cut rests on the fsync that the commit limit measures.
start
ks=$((SECS < 4 ? 4 : SECS / 2))
BENCH_TOKENS=$W/tokens wrk -t"$THREADS" -c"$C1" -d"$ks"s --timeout 30s -s "$BD/report.lua" \
    "$U/api/v1/reports" >"$W/kill.out" 2>&1 &
wpid=$!
sleep $((ks / 2))
kill -KILL $spid
wait $spid 2>/dev/null
spid=
wait $wpid
wpid=
start
python3 - "$P" "$W"/tokens.* >"$W/kill.txt" 2>&1 <<'EOF'
import http.client, json, sys
toks = [l.strip() for f in sys.argv[2:] for l in open(f) if l.strip()]
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=60)
ok = 0
for t in toks:
    c.request("POST", "/api/v1/followup", body=json.dumps({"token": t}),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    ok += r.status == 200
print(len(toks), ok)
EOF
read -r ntok nok <"$W/kill.txt" 2>/dev/null
if [ -n "${nok:-}" ] && [ "$ntok" -gt 0 ]; then
	[ "$nok" -eq "$ntok" ] && v="none lost" || v="$((ntok - nok)) LOST"
	echo "  kill check   SIGKILL $((ks / 2)) s into a $C1-connection submission run: $ntok reports had answered 201; after the restart $nok of their tokens open the case: $v"
else
	echo "  kill check   failed to run: $(head -3 "$W/kill.txt")"
fi

if [ "${BENCH_PROFILE:-0}" = 1 ]; then
	if command -v perf >/dev/null; then
		echo "== profile: meldpuntd under perf record, one $C1-connection submission run of $SECS s (self time)"
		perf record -o "$W/perf.data" -p "$(procs $spid | paste -sd, -)" -- sleep "$SECS" >/dev/null 2>&1 &
		ppid=$!
		bench "profile" "$C1" report.lua "$U/api/v1/reports" $spid
		wait $ppid
		perf report -i "$W/perf.data" --sort comm,dso --stdio 2>/dev/null | grep '%' | head -12 | sed 's/^ */  /'
		echo "  --"
		perf report -i "$W/perf.data" --sort comm,dso,symbol --stdio 2>/dev/null | grep '%' | head -30 |
		    sed 's/^ */  /; s/  *$//'
		echo "  (the whole profile: perf report -i $W/perf.data)"
	else
		echo "== profile: perf is not installed (Debian: linux-perf)"
	fi
fi
stop

# ---- instructions per request, under callgrind (repeatable where times are not) ----
# cg NAME SCRIPT PATH: one connection for BENCH_CALLGRIND_SECONDS against meldpuntd under
# callgrind, on a copy of the instance as it was before the load, counting from the first
# request on (not the start); prints instructions per answer, in all and in the heaviest
# functions (inclusive).
# cgrun NAME [SCRIPT PATH]: meldpuntd under callgrind on a copy of inst0; with a script,
# wrk -t1 -c1 for BENCH_CALLGRIND_SECONDS.  Each of meldpuntd's processes (docs/PRIVSEP.md)
# writes its own cg-NAME.PID.out; cg-NAME.roles holds "ROLE INSTRUCTIONS" for each.
cgrun() {
	rm -rf "$W/inst-cg" "$W/cg-$1".*
	cp -a "$W/inst0" "$W/inst-cg" || return 1
	valgrind --tool=callgrind --callgrind-out-file="$W/cg-$1.%p.out" \
	    "$B/meldpuntd" --dir "$W/inst-cg" --listen "127.0.0.1:$P" >"$W/cg-$1.log" 2>&1 &
	spid=$!
	up "$P" $spid || { echo "  callgrind: meldpuntd did not start"; spid=; return 1; }
	for _q in $(procs $spid); do echo "$_q $(cat /proc/$_q/comm 2>/dev/null)"; done >"$W/cg-$1.procs"
	[ -z "${2:-}" ] ||
		wrk -t1 -c1 -d"${BENCH_CALLGRIND_SECONDS:-10}"s --timeout 60s -s "$BD/$2" "$U$3" >"$W/cg-$1.wrk" 2>&1
	stop
	for f in "$W/cg-$1".*.out; do
		_q=${f%.out}; _q=${_q##*.}
		callgrind_annotate --inclusive=yes "$f" 2>/dev/null >"${f%.out}.txt"
		# The first process is the parent; valgrind names it after itself.
		role=$(awk -v p="$_q" '$1 == p { print $2 }' "$W/cg-$1.procs" | sed 's/^callgrind.*/meldpuntd/')
		echo "${role:-meldpuntd} $_q $(awk '/PROGRAM TOTALS/ { t = $1; gsub(",", "", t); printf "%.0f\n", t; exit }' "${f%.out}.txt")"
	done >"$W/cg-$1.roles"
}
# cg NAME SCRIPT PATH: instructions per answer, over all processes and in each, less what
# the same start and stop cost without requests (cg-base); then the heaviest functions
# (inclusive, so a caller includes its callees).
cg() {
	cgrun "$1" "$2" "$3" || return 1
	n=$(kv "$W/cg-$1.wrk" ok)
	[ "${n:-0}" -gt 0 ] || { echo "  callgrind: no answers"; return 1; }
	all=$(awk 'NR == FNR { base[$1] = $3; next } { s += $3 - base[$1] } END { printf "%.0f\n", s }' \
	    "$W/cg-base.roles" "$W/cg-$1.roles")
	printf '  %s: %.2f M instructions an answer, all processes (%d answers)\n' "$1" \
	    "$(calc %.4f "$all / $n / 1e6")" "$n"
	while read -r role _q total; do
		base=$(awk -v r="$role" '$1 == r { print $3 }' "$W/cg-base.roles")
		awk -v n="$n" -v all="$all" -v role="$role" -v net="$((total - ${base:-0}))" '
		/^ *[0-9,]+ \(/ && /\[/ {
			ir = $1; gsub(",", "", ir); ir += 0
			fn = $0; sub(/^ *[0-9,]+ \([^)]*\) +/, "", fn)
			lib = fn; sub(/^.*\[/, "", lib); sub(/\]$/, "", lib); sub(/.*\//, "", lib)
			sub(/ \[.*$/, "", fn); sub(/^\?\?\?:/, "", fn)
			if (lib == "meldpuntd") {
				if (fn ~ /main|on_request|channel_loop|mp_store_serve|mp_store_answer|privsep|child|run_/ || (mine && ir > 0.998 * mine)) next
				mine = ir
			} else if (fn !~ /^(sqlite3_step|sqlcipher_page_cipher|crypto_box_seal|crypto_box_seal_open|crypto_box_seed_keypair|crypto_box_keypair|crypto_sign_detached|QRcode_encodeString|json_dumps|json_loads|json_pack|RAND_bytes)$/)
				next
			if (++k <= 14)
				rows[k] = sprintf("      %8.0f k %5.1f%%  %s%s", ir / n / 1000, 100 * ir / all, fn,
				    lib == "meldpuntd" ? "" : "  (" lib ")")
		}
		END {
			if (net < 0.01 * all)
				exit
			printf "    %s: %.2f M an answer (%.0f%%)\n", role, net / n / 1e6, 100 * net / all
			for (i = 1; i <= k && i <= 14; i++) print rows[i]
		}' "$W/cg-$1.$_q.txt"
	done <"$W/cg-$1.roles"
}
if [ "${BENCH_CALLGRIND:-1}" != 0 ]; then
	if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
		echo "== instructions: callgrind, wrk -t1 -c1 for ${BENCH_CALLGRIND_SECONDS:-10} s on the instance as it was before the load"
		echo "   (all three processes, less a start and stop without requests, over the answers;"
		echo "   per function inclusive, in thousands)"
		cgrun base
		cg submission report.lua /api/v1/reports
		BENCH_TOKEN=$TOKEN cg follow-up followup.lua /api/v1/followup
	else
		echo "== instructions: valgrind is not installed"
	fi
fi

# ---- statistics and audit over a large log ----
if [ "${BENCH_STATS:-1}" != 0 ]; then
	echo "== statistics and audit: tests/bench/stats.sh, BENCH_CASES=${BENCH_CASES:-1000000}"
	sh "$BD/stats.sh" "$B" 2>&1 | sed 's/^/  /'
fi

# ---- targets ----
yn() { [ "$1" = 1 ] && echo reached || echo "not reached"; }
ge() { awk "BEGIN { exit !(($1) >= ($2)) }" 2>/dev/null && echo 1 || echo 0; }
echo "== targets (this machine)"
for c in $CONNS; do
	r=$(kv "$W/report-$c.out" ok_rps); h=$(kv "$W/hello-report-$c.out" ok_rps)
	[ -n "$r" ] && [ -n "$h" ] || continue
	echo "  submissions/s >= 25% of hello-world, $c conns: $(pct "$r" "$h")%: $(yn "$(ge "$r" "0.25 * $h")")"
done
for c in $CONNS; do
	r=$(kv "$W/report-$c.out" ok_rps)
	[ -n "$r" ] || continue
	echo "  submissions/s above the single-commit limit ($commit_ps/s), $c conns: $r/s: $(yn "$(ge "$r" "$commit_ps + 1")")"
done
for c in $CONNS; do
	r=$(kv "$W/followup-$c.out" ok_rps); h=$(kv "$W/hello-followup-$c.out" ok_rps)
	[ -n "$r" ] && [ -n "$h" ] || continue
	echo "  follow-ups/s >= 50% of hello-world, $c conns: $(pct "$r" "$h")%: $(yn "$(ge "$r" "0.5 * $h")")"
done
for n in report followup; do
	p=$(kv "$W/$n-64.out" p99_ms)
	[ -n "$p" ] || { echo "  p99 < 20 ms at 64 connections: not measured (BENCH_CONNS)"; break; }
	echo "  p99 < 20 ms at 64 connections, $([ $n = report ] && echo submissions || echo follow-ups): $p ms: $(yn "$(ge 20 "$p + 0.000001")")"
done
# The server's memory is three processes that share their libraries' pages: the proportional
# set size counts each page once in all; the sum of each process's peak RSS counts a shared
# page once per process, so it is an upper bound.
for c in $CONNS; do
	a=$(kv "$W/report-$c.out" pss_mb); b=$(kv "$W/followup-$c.out" pss_mb)
	peak=$(awk "BEGIN { a = ${a:-0}; b = ${b:-0}; print (a > b ? a : b) }")
	a=$(kv "$W/report-$c.out" rss_mb); b=$(kv "$W/followup-$c.out" rss_mb)
	sum=$(awk "BEGIN { a = ${a:-0}; b = ${b:-0}; print (a > b ? a : b) }")
	echo "  server memory < 32 MB under load, $c conns: PSS $peak MB (summed peak RSS $sum MB; hello-world $(kv "$W/hello-report-$c.out" rss_mb) MB): $(yn "$(ge 32 "$peak + 0.000001")")"
done
echo "  every 201 durable: see the durability and kill check lines above"
exit 0
