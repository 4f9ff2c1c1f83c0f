#!/bin/sh
# make valgrind: the API test program (tests/api) with every meldpuntd it
# starts under valgrind's memcheck: the parent, the store process and the
# HTTP worker of each start (valgrind follows the forks, each process to a
# log of its own).  Prints the API tests' totals and failures as comments,
# then what memcheck found; exits 1 when any process had a memcheck error
# or a leak (definite or possible), or ended without memcheck's summary.
#
#   sh tests/valgrind/run.sh BUILD_DIR      VALGRIND_KEEP=1 keeps the logs
#
# Suppressions: tests/valgrind/meldpuntd.supp (third-party libraries only).
if [ $# -ne 1 ] || [ ! -x "$1/tests/api_test" ] || [ ! -x "$1/meldpuntd" ] || [ ! -x "$1/meldpunt" ]; then
	echo "usage: sh tests/valgrind/run.sh BUILD_DIR (with meldpunt, meldpuntd and tests/api_test built)" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
logs=$(mktemp -d "${TMPDIR:-/tmp}/mp-valgrind.XXXXXX") || exit 2

MP_SERVER_WRAPPER="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full"
MP_SERVER_WRAPPER="$MP_SERVER_WRAPPER --show-leak-kinds=definite,possible"
MP_SERVER_WRAPPER="$MP_SERVER_WRAPPER --errors-for-leak-kinds=definite,possible"
MP_SERVER_WRAPPER="$MP_SERVER_WRAPPER --trace-children=yes --child-silent-after-fork=no"
MP_SERVER_WRAPPER="$MP_SERVER_WRAPPER --num-callers=30 --track-origins=yes"
MP_SERVER_WRAPPER="$MP_SERVER_WRAPPER --suppressions=$top/tests/valgrind/meldpuntd.supp"
MP_SERVER_WRAPPER="$MP_SERVER_WRAPPER --log-file=$logs/memcheck.%p.log"
MP_BUILD_DIR=$BUILD
export MP_SERVER_WRAPPER MP_BUILD_DIR

"$BUILD/tests/api_test" > "$logs/api.out" 2>&1
api=$?
failed=0
passed=$(grep -c '^ok - ' "$logs/api.out")
notok=$(grep -c '^not ok - ' "$logs/api.out")
# The API tests' own verdicts are reported, not counted: under memcheck a bulk
# request can outlast its client's timeout, and what follows it then fails too.
echo "# the API tests with meldpuntd under memcheck: $passed passed, $notok failed, exit $api"
grep '^not ok - ' "$logs/api.out" | head -20 | sed 's/^/#   /'
if [ "$passed" -eq 0 ]; then
	echo "not ok - the API tests did not run (see $logs/api.out)"
	failed=1
fi

procs=0 bad=0
for log in "$logs"/memcheck.*.log; do
	[ -f "$log" ] || continue
	procs=$((procs + 1))
	pid=${log##*memcheck.}
	pid=${pid%.log}
	errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
	if [ -z "$errors" ]; then
		echo "not ok - memcheck: process $pid ended without memcheck's summary"
		tail -20 "$log"
		bad=$((bad + 1))
	elif [ "$errors" -ne 0 ]; then
		echo "not ok - memcheck: process $pid: $errors errors (log follows)"
		grep -v '^==[0-9]*== *$' "$log" | head -150
		bad=$((bad + 1))
	fi
done
if [ "$procs" -eq 0 ]; then
	echo "not ok - memcheck watched no meldpuntd process (is valgrind installed?)"
	failed=1
elif [ "$bad" -eq 0 ]; then
	echo "ok - memcheck: $procs meldpuntd processes, no error and no leak in any"
else
	failed=1
fi
if [ "${VALGRIND_KEEP:-0}" = 1 ] || [ "$failed" -ne 0 ]; then
	echo "# logs kept in $logs"
else
	rm -rf "$logs"
fi
exit "$failed"
