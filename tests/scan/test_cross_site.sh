#!/bin/sh
# The residents' form posts refuse what another site's page makes a browser
# send (Sec-Fetch-Site: cross-site), and change nothing; the scan's CSRF
# finding (docs/SCAN.md).  Posts from the pages themselves, from browsers
# without Fetch Metadata, and links from elsewhere keep working.
# Usage: sh tests/scan/test_cross_site.sh BUILD_DIR   (TAP-ish "ok - " lines)
B=$(cd "${1:-build}" && pwd) || exit 2
M=$B/meldpunt
T=$(mktemp -d "${TMPDIR:-/tmp}/mp-xsite.XXXXXX") || exit 2
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT
export MELDPUNT_KDF_FAST=1 MELDPUNT_PASSPHRASE='cross site passphrase'
unset MELDPUNT_URL MELDPUNT_KEY

say() { if [ "$1" -eq 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fi; }
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

"$M" init --dir "$T/inst" --origin xsite.example/log >/dev/null 2>&1 &&
    "$M" keygen --name Cas --out "$T/cw.key" >"$T/cw.json" 2>/dev/null &&
    "$M" key add --dir "$T/inst" --role caseworker --name Cas --sign "$(js "$T/cw.json" "d['sign']")" \
    --box "$(js "$T/cw.json" "d['box']")" >/dev/null
say $? "an instance with a caseworker key"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
U=http://127.0.0.1:$port
"$B/meldpuntd" --dir "$T/inst" --listen "127.0.0.1:$port" >"$T/server.log" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ] && kill -0 $pid 2>/dev/null && ! curl -sf "$U/healthz" >/dev/null 2>&1; do
	sleep 0.1
	i=$((i + 1))
done
curl -sf "$U/healthz" >/dev/null 2>&1 || { echo "not ok - meldpuntd starts"; exit 1; }
export MELDPUNT_URL=$U MELDPUNT_KEY="$T/cw.key"

ncases() { "$M" cases --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["cases"]))'; }
# post FETCH_SITE PATH BODY: the status; the page in $T/page
post() {
	if [ -n "$1" ]; then
		curl -s -o "$T/page" -w '%{http_code}' -H "Sec-Fetch-Site: $1" --data "$3" "$U$2"
	else
		curl -s -o "$T/page" -w '%{http_code}' --data "$3" "$U$2"
	fi
}
FORM='lang=en&description=They+refused+me.'

n0=$(ncases)
code=$(post cross-site /report "$FORM")
say $([ "$code" = 403 ]; echo $?) "POST /report from another site's page is refused (403, got $code)"
grep -q '<html lang=' "$T/page" && ! grep -q 'id="token"' "$T/page"
say $? "... with an HTML error page, no receipt"
say $([ "$(ncases)" = "$n0" ]; echo $?) "... and no report is stored"
for site in same-origin none ""; do
	code=$(post "$site" /report "$FORM")
	grep -q 'id="token"' "$T/page"
	say $(($? + ($code != 200))) "POST /report with Sec-Fetch-Site '${site:-absent}' gives the receipt"
done
say $([ "$(ncases)" = $((n0 + 3)) ]; echo $?) "... and those three reports are stored"
token=$(sed -n 's/.*<p id="token"[^>]*>\([^<]*\)<.*/\1/p' "$T/page")

code=$(post cross-site /f "token=$token&lang=en")
! grep -q 'id="status"' "$T/page"
say $(($? + ($code != 403))) "POST /f from another site's page is refused, without the status page"
code=$(post same-site /f "token=$token&lang=en")
grep -q 'id="status"' "$T/page"
say $(($? + ($code != 200))) "POST /f from a page of the same site shows the status"
code=$(post cross-site /f/message "token=$token&text=Planted+message&lang=en")
say $([ "$code" = 403 ]; echo $?) "POST /f/message from another site's page is refused"
curl -s -H 'Content-Type: application/json' -d "{\"token\":\"$token\"}" "$U/api/v1/followup" >"$T/f.json"
say $([ "$(js "$T/f.json" "len(d['messages'])")" = 0 ]; echo $?) "... and adds no message"
code=$(post same-origin /f/message "token=$token&text=My+message&lang=en")
grep -q 'id="confirmation"' "$T/page"
say $(($? + ($code != 200))) "POST /f/message from the status page adds the message"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Sec-Fetch-Site: cross-site' "$U/?lang=en")
say $([ "$code" = 200 ]; echo $?) "a link from another site still opens the form (GET /)"
exit 0
