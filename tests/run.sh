#!/bin/sh
# Test runner: sh tests/run.sh BUILD_DIR  (what `make test` calls).
#
# Runs every executable BUILD_DIR/tests/* (the unit test programs, then
# api_test if present), then every tests/*/test_*.sh as `sh FILE BUILD_DIR`.
# Their stdout is echoed and counted: lines starting "ok - " pass, lines
# starting "not ok - " fail.  A program that exits non-zero without any
# "not ok" line counts as one more failure, named after it.  Everything
# printed also goes to tests/out/test.log.  The last line is exactly
# "N passed, N failed"; the exit status is 0 only when nothing failed and
# something passed.
#
# TEST_TIMEOUT (seconds, default 900) bounds each program when timeout(1)
# is available; a program that hits it counts as failed like a crash.

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: sh tests/run.sh BUILD_DIR" >&2
	exit 2
fi

BUILD=$(cd "$1" && pwd) || exit 2
ROOT=$(cd "$(dirname "$0")/.." && pwd) || exit 2
cd "$ROOT" || exit 2

OUT="$ROOT/tests/out"
LOG="$OUT/test.log"
mkdir -p "$OUT" || exit 2
: >"$LOG" || exit 2

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mp-run.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TIMEOUT=${TEST_TIMEOUT:-900}
if command -v timeout >/dev/null 2>&1; then
	LIMIT="timeout $TIMEOUT"
else
	LIMIT=
fi

# Scripts and programs may want the absolute build directory.
MP_BUILD_DIR=$BUILD
export MP_BUILD_DIR

passed=0
failed=0

say() {
	printf '%s\n' "$*"
	printf '%s\n' "$*" >>"$LOG"
}

# run NAME COMMAND...: run one test program and count its lines.
run() {
	name=$1
	shift
	say "# $name"
	# shellcheck disable=SC2086 # LIMIT is a command prefix or empty
	$LIMIT "$@" >"$TMP/stdout" 2>"$TMP/stderr" </dev/null
	status=$?
	# A last line without its newline must not run into the next line.
	if [ -n "$(tail -c 1 "$TMP/stdout")" ]; then
		echo >>"$TMP/stdout"
	fi
	cat "$TMP/stdout"
	cat "$TMP/stdout" >>"$LOG"
	if [ -s "$TMP/stderr" ]; then
		cat "$TMP/stderr"
		cat "$TMP/stderr" >>"$LOG"
	fi
	p=$(grep -c '^ok - ' "$TMP/stdout")
	f=$(grep -c '^not ok - ' "$TMP/stdout")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		if [ "$status" -eq 124 ] && [ -n "$LIMIT" ]; then
			why="timed out after ${TIMEOUT}s"
		elif [ "$status" -gt 128 ]; then
			why="killed by signal $((status - 128))"
		else
			why="exited with status $status"
		fi
		say "not ok - $name $why without a failing test (crash)"
		failed=$((failed + 1))
	fi
}

# Unit test programs first, the API test last.
for prog in "$BUILD"/tests/*; do
	if [ -f "$prog" ] && [ -x "$prog" ] && [ "$(basename "$prog")" != api_test ]; then
		run "tests/$(basename "$prog")" "$prog"
	fi
done
if [ -f "$BUILD/tests/api_test" ] && [ -x "$BUILD/tests/api_test" ]; then
	run "tests/api_test" "$BUILD/tests/api_test"
fi

for script in tests/*/test_*.sh; do
	[ -f "$script" ] || continue
	run "$script" sh "$script" "$BUILD"
done

say "$passed passed, $failed failed"
if [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then
	exit 0
fi
exit 1
