#!/bin/sh
# The transparency log's checkpoints and proofs, as the C library makes them,
# checked by an independent verifier built on Go's golang.org/x/mod/sumdb
# note and tlog packages (tests/logverify/logverify/main.go): every proof of
# a random log must pass, and spoiled ones (a flipped hash, a wrong leaf,
# another key, a changed root, ...) must fail.
#
#	sh tests/logverify/test_logverify.sh BUILD_DIR
#
# Builds BUILD_DIR/logverify offline (Debian's golang-go and
# golang-golang-x-mod-dev, GOPATH mode, a scratch GOCACHE) and a small
# emitter linked with BUILD_DIR/libmeldpunt.a.  Prints "ok - " / "not ok - "
# lines; removes everything it made except BUILD_DIR/logverify.

BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) || {
	echo "not ok - test_logverify.sh: no build directory ${1:-build}"
	exit 1
}
ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
T=$(mktemp -d "${TMPDIR:-/tmp}/meldpunt-logverify.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$ROOT" || exit 1

failed=0
pass() { printf 'ok - %s\n' "$1"; }
fail() {
	printf 'not ok - %s\n' "$1"
	failed=$((failed + 1))
	shift
	for line in "$@"; do
		printf '%s\n' "$line" | cut -c1-300 | head -n 20 | sed 's/^/# /'
	done
}

LV=$BUILD/logverify
D=$T/out

# -- build ------------------------------------------------------------------

if ! command -v go >/dev/null 2>&1; then
	fail "logverify: go is installed (Debian golang-go)"
	exit 1
fi
if out=$(env GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off \
	GOCACHE="$T/gocache" CGO_ENABLED=0 go build -o "$LV" ./tests/logverify/logverify 2>&1); then
	pass "logverify: the Go verifier builds offline against x/mod's note and tlog"
else
	fail "logverify: the Go verifier builds offline against x/mod's note and tlog" "$out"
	exit 1
fi

# An ASan build of the library needs the sanitizers at link time too.
SAN=
if nm "$BUILD/libmeldpunt.a" 2>/dev/null | grep -q '__asan_'; then
	SAN="-fsanitize=address,undefined"
fi
if out=$(${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 \
	-Wstrict-prototypes -Wmissing-prototypes $SAN -Iinclude \
	-o "$T/emit" tests/logverify/emit.c "$BUILD/libmeldpunt.a" \
	$(pkg-config --libs libsodium) 2>&1); then
	pass "logverify: the emitter builds against libmeldpunt.a"
else
	fail "logverify: the emitter builds against libmeldpunt.a" "$out"
	exit 1
fi
mkdir -p "$D" || exit 1
if ! "$T/emit" "$D" >"$T/manifest" 2>"$T/emit.err"; then
	fail "logverify: the emitter writes a log, checkpoints and proofs" "$(cat "$T/emit.err")"
	exit 1
fi
VK=@$D/vkey

# -- everything the library makes is accepted ---------------------------------

# lv ARGS...: run the verifier, keeping its output in $T/lv.out.
lv() { "$LV" "$@" >"$T/lv.out" 2>&1; }
leaf() { cat "$D/leaf_$1"; }

n=1 bad=0 msgs=
while [ "$n" -le 40 ]; do
	if ! lv checkpoint "$VK" "$D/cp_$n" || ! grep -qx "size $n" "$T/lv.out"; then
		bad=$((bad + 1))
		msgs="$msgs cp_$n: $(cat "$T/lv.out")"
	fi
	n=$((n + 1))
done
if [ "$bad" -eq 0 ]; then
	pass "logverify: Go's note.Open accepts all 40 checkpoints, with their sizes"
else
	fail "logverify: Go's note.Open accepts all 40 checkpoints ($bad refused)" "$msgs"
fi

inc=0 cons=0 badinc=0 badcons=0 msgs=
while read -r kind a b; do
	case $kind in
	inc)
		inc=$((inc + 1))
		if ! lv inclusion "$VK" "$D/cp_$b" "$D/inc_${a}_$b.json" "$(leaf "$a")"; then
			badinc=$((badinc + 1))
			msgs="$msgs
inc $a $b: $(cat "$T/lv.out")"
		fi
		;;
	cons)
		cons=$((cons + 1))
		if ! lv consistency "$VK" "$D/cp_$a" "$D/cp_$b" "$D/cons_${a}_$b.json"; then
			badcons=$((badcons + 1))
			msgs="$msgs
cons $a $b: $(cat "$T/lv.out")"
		fi
		;;
	esac
done <"$T/manifest"
if [ "$inc" -gt 100 ] && [ "$badinc" -eq 0 ]; then
	pass "logverify: Go's tlog.CheckRecord accepts all $inc inclusion proofs"
else
	fail "logverify: Go's tlog.CheckRecord accepts all $inc inclusion proofs ($badinc refused)" \
		"$msgs"
fi
if [ "$cons" -gt 100 ] && [ "$badcons" -eq 0 ]; then
	pass "logverify: Go's tlog.CheckTree accepts all $cons consistency proofs"
else
	fail "logverify: Go's tlog.CheckTree accepts all $cons consistency proofs ($badcons refused)" \
		"$msgs"
fi

# -- spoiled ones are refused ---------------------------------------------------

# refuse NAME ARGS...: the verifier must exit 1 (refused, not a usage error).
refuse() {
	name=$1
	shift
	lv "$@"
	rc=$?
	if [ "$rc" -eq 1 ]; then
		pass "logverify refuses $name"
	else
		fail "logverify refuses $name (exit $rc)" "$(cat "$T/lv.out")"
	fi
}

L5=$(leaf 5)
refuse "an inclusion proof with one flipped bit" \
	inclusion "$VK" "$D/cp_13" "$D/inc_flip_5_13.json" "$L5"
refuse "an inclusion proof without its last hash" \
	inclusion "$VK" "$D/cp_13" "$D/inc_trunc_5_13.json" "$L5"
refuse "an inclusion proof with one hash too many" \
	inclusion "$VK" "$D/cp_13" "$D/inc_extra_5_13.json" "$L5"
refuse "an inclusion proof with another index" \
	inclusion "$VK" "$D/cp_13" "$D/inc_index_5_13.json" "$L5"
refuse "an inclusion proof for a leaf other than LEAF" \
	inclusion "$VK" "$D/cp_13" "$D/inc_5_13.json" "$(leaf 6)"
sed "s/\"leaf\":\"$L5\"/\"leaf\":\"$(leaf 6)\"/" "$D/inc_5_13.json" >"$T/wrongleaf.json"
refuse "an inclusion proof of leaf 5 offered for leaf 6" \
	inclusion "$VK" "$D/cp_13" "$T/wrongleaf.json" "$(leaf 6)"
refuse "an inclusion proof against a checkpoint of another size" \
	inclusion "$VK" "$D/cp_14" "$D/inc_5_13.json" "$L5"
refuse "a checkpoint signed by another key" checkpoint "$VK" "$D/cp_otherkey_13"
refuse "an inclusion proof against a checkpoint by another key" \
	inclusion "$VK" "$D/cp_otherkey_13" "$D/inc_5_13.json" "$L5"
# Change the first character of the root line: the signature no longer holds.
awk 'NR == 3 { $0 = (substr($0, 1, 1) == "A" ? "B" : "A") substr($0, 2) } { print }' \
	"$D/cp_13" >"$T/cp_changed"
refuse "a checkpoint whose root was changed after signing" checkpoint "$VK" "$T/cp_changed"
refuse "an inclusion proof against a signed checkpoint of another root" \
	inclusion "$VK" "$D/cp_wrongroot_13" "$D/inc_5_13.json" "$L5"
refuse "a consistency proof with one flipped bit" \
	consistency "$VK" "$D/cp_6" "$D/cp_13" "$D/cons_flip_6_13.json"
refuse "a consistency proof with one hash too many" \
	consistency "$VK" "$D/cp_6" "$D/cp_13" "$D/cons_extra_6_13.json"
refuse "a consistency proof with old and new checkpoints swapped" \
	consistency "$VK" "$D/cp_13" "$D/cp_6" "$D/cons_6_13.json"
refuse "a consistency proof to a signed checkpoint of another root" \
	consistency "$VK" "$D/cp_6" "$D/cp_wrongroot_13" "$D/cons_6_13.json"
refuse "a consistency proof from a signed checkpoint of another root" \
	consistency "$VK" "$D/cp_wrongroot_6" "$D/cp_13" "$D/cons_6_13.json"
refuse "a consistency proof for other sizes than the checkpoints'" \
	consistency "$VK" "$D/cp_7" "$D/cp_13" "$D/cons_6_13.json"
sed 's/^\([^+]*\)+\([0-9a-f]\{7\}\)[0-9a-f]+/\1+\20+/' "$D/vkey" >"$T/vkey_badhash"
if cmp -s "$D/vkey" "$T/vkey_badhash"; then
	sed 's/^\([^+]*\)+\([0-9a-f]\{7\}\)[0-9a-f]+/\1+\21+/' "$D/vkey" >"$T/vkey_badhash"
fi
refuse "a verifier key with a wrong key hash" checkpoint "@$T/vkey_badhash" "$D/cp_13"
printf '{"index":5,"size":13,"leaf":"%s","hashes":["AAAA"]}' "$L5" >"$T/short.json"
refuse "a proof with a hash of 3 bytes" inclusion "$VK" "$D/cp_13" "$T/short.json" "$L5"
printf '{"index":5,"size":13,"leaf":"%s","hashes":[]} {}' "$L5" >"$T/trailing.json"
refuse "a proof with data after its JSON object" \
	inclusion "$VK" "$D/cp_13" "$T/trailing.json" "$L5"

# kat_log.py's co-signed checkpoint: Go reads the same note format too.
if lv checkpoint "@tests/fuzz/seeds/checkpoint/verifier" tests/fuzz/seeds/checkpoint/cosigned &&
	grep -qx 'size 13' "$T/lv.out"; then
	pass "logverify: Go opens kat_log.py's co-signed checkpoint"
else
	fail "logverify: Go opens kat_log.py's co-signed checkpoint" "$(cat "$T/lv.out")"
fi

[ "$failed" -eq 0 ]
