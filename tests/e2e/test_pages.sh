#!/bin/sh
# Browser tests of the residents' pages (docs/PAGES.md) in Debian's Chromium,
# driven by playwright-core, with axe-core for WCAG 2.1 AA.
#
#	sh tests/e2e/test_pages.sh BUILD_DIR
#
# Makes an instance with one caseworker key, starts meldpuntd on a free
# loopback port, runs tests/e2e/pages.test.mjs against it (the caseworker's
# side through the meldpunt CLI) and stops the server.  Prints "ok - " /
# "not ok - " lines.  Screenshots go to tests/out/e2e/.
#
# Needs /usr/bin/chromium (Debian package chromium, in the Makefile's DEBS),
# node and npm (Debian's nodejs and npm are installed when node is missing),
# zbarimg, curl and python3.  node_modules is made with `npm ci` from the
# committed lock file when it is missing or older than the lock.
#
# Environment: E2E_LANGS (default "nl en pl tr uk ar"), E2E_JOBS (browser
# flows at once, default 3), KEEP=1 keeps the instance directory.

BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) || {
	echo "not ok - e2e: no build directory ${1:-build}"
	exit 1
}
HERE=$(cd "$(dirname "$0")" && pwd) || exit 1
ROOT=$(cd "$HERE/../.." && pwd) || exit 1
OUT="$ROOT/tests/out/e2e"
T=$(mktemp -d "${TMPDIR:-/tmp}/meldpunt-e2e.XXXXXX") || exit 1
PID=

cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	[ -n "$KEEP" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bail NAME [DETAIL]: one failing line, then stop.
bail() {
	printf 'not ok - e2e: %s\n' "$1"
	[ -n "$2" ] && printf '%s\n' "$2" | head -n 20 | sed 's/^/# /'
	exit 1
}

for f in meldpunt meldpuntd; do
	[ -x "$BUILD/$f" ] || bail "no $BUILD/$f (run make first)"
done

# ---- tools -----------------------------------------------------------------------

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	sh "$ROOT/tests/deps.sh" nodejs npm >"$T/deps.log" 2>&1 ||
		bail "installing Debian's nodejs and npm failed" "$(tail -n 5 "$T/deps.log")"
fi
[ -x /usr/bin/chromium ] || sh "$ROOT/tests/deps.sh" chromium >"$T/deps.log" 2>&1
[ -x /usr/bin/chromium ] || bail "no /usr/bin/chromium (make deps installs Debian's chromium)" \
	"$(tail -n 5 "$T/deps.log" 2>/dev/null)"
for tool in node npm zbarimg curl python3; do
	command -v "$tool" >/dev/null 2>&1 || bail "needs $tool"
done

# node_modules from the lock file; the copy of the lock inside it says which
# lock it was made from.
STAMP="$HERE/node_modules/.meldpunt-lock.json"
if ! cmp -s "$HERE/package-lock.json" "$STAMP"; then
	if (cd "$HERE" && npm ci --no-audit --no-fund) >"$T/npm.log" 2>&1; then
		cp "$HERE/package-lock.json" "$STAMP"
	else
		bail "npm ci in tests/e2e failed" "$(tail -n 10 "$T/npm.log")"
	fi
fi

# ---- an instance, a caseworker, a server -----------------------------------------------

MELDPUNT_KDF_FAST=1
MELDPUNT_PASSPHRASE="e2e passphrase of the caseworker"
export MELDPUNT_KDF_FAST MELDPUNT_PASSPHRASE
unset MELDPUNT_URL MELDPUNT_KEY

"$BUILD/meldpunt" init --dir "$T/inst" --origin e2e.meldpunt.test/log >/dev/null 2>"$T/err" ||
	bail "meldpunt init" "$(cat "$T/err")"
"$BUILD/meldpunt" keygen --name Anna --out "$T/anna.key" >"$T/anna.json" 2>"$T/err" ||
	bail "meldpunt keygen" "$(cat "$T/err")"
key() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/anna.json" "$1"; }
"$BUILD/meldpunt" key add --dir "$T/inst" --role caseworker --name Anna \
	--sign "$(key sign)" --box "$(key box)" >/dev/null 2>"$T/err" ||
	bail "meldpunt key add" "$(cat "$T/err")"

# A free port: bind to 0 and let go; try again if the server cannot have it.
up=0
for _ in 1 2 3 4 5; do
	PORT=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	BASE="http://127.0.0.1:$PORT"
	"$BUILD/meldpuntd" --dir "$T/inst" --listen "127.0.0.1:$PORT" >"$T/server.log" 2>&1 &
	PID=$!
	i=0
	while [ $i -lt 100 ]; do
		if [ "$(curl -s "$BASE/healthz" 2>/dev/null)" = ok ]; then
			up=1
			break
		fi
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	[ $up -eq 1 ] && break
	kill "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=
done
[ $up -eq 1 ] || bail "meldpuntd starts" "$(cat "$T/server.log")"
echo "ok - e2e: meldpuntd serves $BASE"

# ---- the browser tests ----------------------------------------------------------------

mkdir -p "$OUT" || bail "cannot make $OUT"
rm -f "$OUT"/*.png "$OUT"/*.txt

MP_BASE=$BASE MP_CLI="$BUILD/meldpunt" MP_OUT=$OUT MP_TMP=$T \
MELDPUNT_URL=$BASE MELDPUNT_KEY="$T/anna.key" \
	node "$HERE/pages.test.mjs"
status=$?

# ---- the server stops cleanly -------------------------------------------------------------

kill -TERM "$PID" 2>/dev/null
i=0
while kill -0 "$PID" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$PID" 2>/dev/null; then
	kill -KILL "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	rc="still running 10 s after SIGTERM"
else
	wait "$PID"
	rc=$?
fi
PID=
if [ "$rc" = 0 ]; then
	echo "ok - e2e: meldpuntd exits 0 on SIGTERM after the browser tests"
else
	echo "not ok - e2e: meldpuntd exits 0 on SIGTERM after the browser tests (status $rc)"
	tail -n 20 "$T/server.log" | sed 's/^/# /'
	status=1
fi
exit "$status"
