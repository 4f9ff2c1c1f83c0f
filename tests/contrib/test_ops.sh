#!/bin/sh
# Operations files: the systemd unit's sandbox as systemd itself rates it
# (systemd-analyze security, 2.0 or less), the manual pages render without a
# warning, and make install installs them with the programs.  Usage: sh tests/contrib/test_ops.sh BUILD_DIR
ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
passes=0
fails=0
say() {
	if [ "$1" -eq 0 ]; then echo "ok - $2"; passes=$((passes + 1))
	else echo "not ok - $2"; fails=$((fails + 1)); fi
}

UNIT=$ROOT/contrib/meldpuntd.service
if command -v systemd-analyze >/dev/null 2>&1; then
	out=$(systemd-analyze security --offline=yes --no-pager "$UNIT" 2>&1)
	level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	[ -n "$level" ]; say $? "systemd-analyze security rates contrib/meldpuntd.service"
	awk -v l="${level:-99}" 'BEGIN { exit !(l <= 2.0) }'
	say $? "... at ${level:-?}, 2.0 or less"
else
	echo "# systemd-analyze is not installed (Debian package systemd)"
	say 1 "systemd-analyze security rates contrib/meldpuntd.service"
fi
for opt in ProtectSystem=strict PrivateTmp=true NoNewPrivileges=true SystemCallFilter=@system-service \
    LimitCORE=0 CapabilityBoundingSet=; do
	grep -q "^$opt" "$UNIT"; say $? "the unit sets $opt"
done

for page in "$ROOT"/man/*.[0-9]; do
	name=$(basename "$page")
	warn=$(groff -man -ww -z "$page" 2>&1)
	[ -z "$warn" ]; say $? "man/$name renders without a warning"
	[ -z "$warn" ] || printf '%s\n' "$warn" | sed 's/^/#   /' | head -5
done
# Every command meldpunt has is in its manual page.
cmds=$(sed -n 's/^\t{ "\([a-z]*\)", cmd_[a-z_]* },$/\1/p' "$ROOT/cli/main.c")
missing=
for c in $cmds; do
	grep -q "^\.B $c\b" "$ROOT/man/meldpunt.1" || missing="$missing $c"
done
[ -z "$missing" ]; say $? "man/meldpunt.1 names every command (${missing:-all there})"

# make install puts the programs and their manual pages under PREFIX, and both
# say which build they are.
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
DEST=$(mktemp -d)
make -s -C "$ROOT" BUILD="$BUILD" DESTDIR="$DEST" PREFIX=/usr/local install >"$DEST.out" 2>&1
say $? "make install DESTDIR=... installs"
for f in bin/meldpuntd bin/meldpunt share/man/man1/meldpunt.1 share/man/man8/meldpuntd.8; do
	[ -s "$DEST/usr/local/$f" ]; say $? "... usr/local/$f"
done
schemas=$(ls "$ROOT"/schema/[0-9]*.sql | wc -l)
for p in meldpuntd meldpunt; do
	v=$("$DEST/usr/local/bin/$p" --version 2>&1)
	printf '%s\n' "$v" | grep -q "^$p [0-9a-z.-]* (database schema $schemas)\$"
	say $? "$p --version names its build and schema $schemas ($v)"
done
"$DEST/usr/local/bin/meldpuntd" --dir "$DEST/none" --listen 127.0.0.1 >/dev/null 2>&1
[ $? -eq 2 ]; say $? "meldpuntd --listen without a port is bad usage (exit 2)"
rm -rf "$DEST" "$DEST.out"
echo "# $passes passed, $fails failed"
[ "$fails" -eq 0 ]
