#!/bin/sh
# The follow-up QR code decodes to the follow-up URL, and a caseworker's CLI
# goes round the loop with a reporter: list, show, reply, status.
#
#	sh tests/api/test_qr.sh BUILD_DIR
#
# Needs curl, python3, rsvg-convert (librsvg2-bin) and zbarimg (zbar-tools).
# Prints "ok - " / "not ok - " lines; removes everything it made.

BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) || {
	echo "not ok - test_qr.sh: no build directory ${1:-build}"
	exit 1
}
T=$(mktemp -d "${TMPDIR:-/tmp}/meldpunt-qr.XXXXXX") || exit 1
PID=
failed=0

cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pass() { printf 'ok - %s\n' "$1"; }
fail() {
	printf 'not ok - %s\n' "$1"
	failed=$((failed + 1))
	shift
	for line in "$@"; do
		printf '%s\n' "$line" | cut -c1-300 | head -n 20 | sed 's/^/# /'
	done
}
# check NAME COMMAND...: one test line from a command's exit status.
check() {
	name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}
# json FILE EXPR: a value from a JSON file (d is the document), printed as text.
json() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
v = eval(sys.argv[2])
sys.stdout.write(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}

for tool in curl python3 rsvg-convert zbarimg; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		fail "test_qr.sh needs $tool"
		exit 1
	fi
done

PORT=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
INST="$T/inst"
PASS="correct horse battery staple qr"
DESC="QR-CANARY-6a1f: refused at the door of the club"
REPLY="QR-REPLY-93be: thank you, we will look into it"

# --- an instance with one caseworker key made by keygen ---------------------------

if "$BUILD/meldpunt" init --dir "$INST" --origin test.meldpunt.example/log \
    --public-url "$BASE" >"$T/init.out" 2>"$T/init.err"; then
	pass "qr: meldpunt init"
else
	fail "qr: meldpunt init" "$(cat "$T/init.err")"
	exit 1
fi

if MELDPUNT_PASSPHRASE=$PASS MELDPUNT_KDF_FAST=1 "$BUILD/meldpunt" keygen --name Anna \
    --out "$T/anna.key" >"$T/bundle.json" 2>"$T/keygen.err"; then
	pass "qr: meldpunt keygen writes a key file and prints the bundle"
else
	fail "qr: meldpunt keygen writes a key file and prints the bundle" "$(cat "$T/keygen.err")"
	exit 1
fi
check "qr: keygen bundle is {name Anna, role caseworker, sign, box}" \
	python3 -c 'import json, sys
b = json.load(open(sys.argv[1]))
assert set(b) == {"name", "role", "sign", "box"}, b
assert b["name"] == "Anna" and b["role"] == "caseworker", b
assert len(b["sign"]) == 43 and len(b["box"]) == 43, b' "$T/bundle.json"
SIGN=$(json "$T/bundle.json" 'd["sign"]')
BOX=$(json "$T/bundle.json" 'd["box"]')
if "$BUILD/meldpunt" key add --dir "$INST" --role caseworker --name Anna --sign "$SIGN" \
    --box "$BOX" >/dev/null 2>"$T/keyadd.err"; then
	pass "qr: meldpunt key add with the keygen bundle"
else
	fail "qr: meldpunt key add with the keygen bundle" "$(cat "$T/keyadd.err")"
fi

"$BUILD/meldpuntd" --dir "$INST" --listen "127.0.0.1:$PORT" >"$T/server.log" 2>&1 &
PID=$!
up=0
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
if [ $up -eq 1 ]; then
	pass "qr: meldpuntd starts; /healthz -> ok"
else
	fail "qr: meldpuntd starts; /healthz -> ok" "$(cat "$T/server.log")"
	exit 1
fi

# --- the reporter: a report, its QR code ---------------------------------------------

python3 -c 'import json, sys
json.dump({"language": "en", "description": sys.argv[1]}, open(sys.argv[2], "w"))' \
	"$DESC" "$T/report.in"
code=$(curl -s -o "$T/report.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary @"$T/report.in" "$BASE/api/v1/reports")
if [ "$code" = 201 ]; then
	pass "qr: POST /api/v1/reports -> 201"
else
	fail "qr: POST /api/v1/reports -> 201" "got $code: $(cat "$T/report.json")"
	exit 1
fi
URL=$(json "$T/report.json" 'd["followup_url"]')
TOKEN=$(json "$T/report.json" 'd["token"]')
json "$T/report.json" 'd["qr_svg"]' >"$T/qr.svg"
check "qr: followup_url is <public URL>/f#<token>" [ "$URL" = "$BASE/f#$TOKEN" ]

if rsvg-convert -w 400 -b white -o "$T/qr.png" "$T/qr.svg" 2>"$T/rsvg.err"; then
	pass "qr: qr_svg renders with rsvg-convert"
else
	fail "qr: qr_svg renders with rsvg-convert" "$(cat "$T/rsvg.err")" "$(head -c 300 "$T/qr.svg")"
fi
zbarimg --raw -q "$T/qr.png" >"$T/qr.txt" 2>"$T/zbar.err"
check "qr: the QR code holds one symbol" [ "$(wc -l <"$T/qr.txt")" -eq 1 ]
DECODED=$(cat "$T/qr.txt")
if [ "$DECODED" = "$URL" ]; then
	pass "qr: the QR code decodes to followup_url exactly"
else
	fail "qr: the QR code decodes to followup_url exactly" "decoded: $DECODED" "wanted:  $URL" \
		"$(cat "$T/zbar.err")"
fi

# followup FILE: POST /api/v1/followup with the token; the answer in FILE, status printed.
followup() {
	python3 -c 'import json, sys
json.dump({"token": sys.argv[1]}, open(sys.argv[2], "w"))' "$TOKEN" "$T/followup.in"
	curl -s -o "$1" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary @"$T/followup.in" "$BASE/api/v1/followup"
}

# --- the caseworker's CLI ------------------------------------------------------------

MELDPUNT_URL=$BASE
MELDPUNT_KEY=$T/anna.key
MELDPUNT_PASSPHRASE=$PASS
export MELDPUNT_URL MELDPUNT_KEY MELDPUNT_PASSPHRASE

if "$BUILD/meldpunt" cases --json >"$T/cases.json" 2>"$T/cases.err"; then
	pass "qr: meldpunt cases --json"
else
	fail "qr: meldpunt cases --json" "$(cat "$T/cases.err")"
fi
ID=$(json "$T/cases.json" 'd["cases"][0]["id"]' 2>/dev/null)
REF=$(json "$T/cases.json" 'd["cases"][0]["ref"]' 2>/dev/null)
check "qr: meldpunt cases --json lists one case with an id" [ ${#ID} -eq 22 ]
"$BUILD/meldpunt" cases >"$T/cases.txt" 2>"$T/cases.err"
st=$?
if [ $st -eq 0 ] && [ -n "$ID" ] && grep -qF -e "$ID" -e "${REF:-no ref}" "$T/cases.txt"; then
	pass "qr: meldpunt cases lists the case"
else
	fail "qr: meldpunt cases lists the case" "exit $st" "$(cat "$T/cases.txt" "$T/cases.err")"
fi

"$BUILD/meldpunt" case show "$ID" >"$T/show.txt" 2>"$T/show.err"
st=$?
if [ $st -eq 0 ] && grep -qF "QR-CANARY-6a1f: refused at the door" "$T/show.txt"; then
	pass "qr: meldpunt case show ID shows the report's description"
else
	fail "qr: meldpunt case show ID shows the report's description" "exit $st" \
		"$(cat "$T/show.txt" "$T/show.err")"
fi

"$BUILD/meldpunt" case reply "$ID" --text "$REPLY" >"$T/reply.txt" 2>"$T/reply.err"
st=$?
check "qr: meldpunt case reply ID --text exits 0" [ $st -eq 0 ]
[ $st -eq 0 ] || fail "qr: (reply stderr)" "$(cat "$T/reply.err")"
code=$(followup "$T/f1.json")
if [ "$code" = 200 ] && python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
m = [x for x in d["messages"] if x["from"] == "caseworker" and x["text"] == sys.argv[2]]
assert len(m) == 1, d' "$T/f1.json" "$REPLY" 2>/dev/null; then
	pass "qr: the reporter's follow-up shows the caseworker's reply"
else
	fail "qr: the reporter's follow-up shows the caseworker's reply" "got $code: $(cat "$T/f1.json")"
fi

"$BUILD/meldpunt" case status "$ID" intake >"$T/status.txt" 2>"$T/status.err"
st=$?
check "qr: meldpunt case status ID intake exits 0" [ $st -eq 0 ]
[ $st -eq 0 ] || fail "qr: (status stderr)" "$(cat "$T/status.err")"
code=$(followup "$T/f2.json")
if [ "$code" = 200 ] && [ "$(json "$T/f2.json" 'd["status"]')" = intake ]; then
	pass "qr: the reporter's follow-up shows status intake"
else
	fail "qr: the reporter's follow-up shows status intake" "got $code: $(cat "$T/f2.json")"
fi

# --- SIGTERM ----------------------------------------------------------------------

kill -TERM "$PID"
# gone PID: the process has exited (a zombie counts: wait reaps it below).
gone() {
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -z "$state" ] || [ "$state" = Z ]
}
i=0
while ! gone "$PID" && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if gone "$PID"; then
	wait "$PID"
	st=$?
	if [ $st -eq 0 ]; then
		pass "qr: SIGTERM: meldpuntd exits 0 within 5 s"
	else
		fail "qr: SIGTERM: meldpuntd exits 0 within 5 s" "exit status $st" "$(cat "$T/server.log")"
	fi
else
	fail "qr: SIGTERM: meldpuntd exits 0 within 5 s" "still running after 5 s; killed"
	kill -KILL "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
fi
PID=

[ $failed -eq 0 ]
