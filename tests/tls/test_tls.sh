#!/bin/sh
# meldpuntd over HTTPS (--tls-cert, --tls-key; docs/DEPLOY.md) with a CA and
# server certificates made here by openssl: the pages and the API over TLS, a
# report and its follow-up, HSTS on HTTPS only, the protocol versions and
# cipher suites the server accepts and refuses, refusals at start (missing,
# garbage, mismatched or world-readable files, one option alone), and the
# meldpunt CLI verifying the server's certificate with MELDPUNT_CA.
#
# Usage: sh tests/tls/test_tls.sh [BUILD_DIR]      (default build)
#   KEEP=1 keeps the temp dir.  Prints "ok - " / "not ok - " lines.
B=$(cd "${1:-build}" && pwd) || exit 2
M=$B/meldpunt
D=$B/meldpuntd
T=$(mktemp -d "${TMPDIR:-/tmp}/mp-tls.XXXXXX") || exit 2
pid=
cpid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$cpid" ] && kill "$cpid" 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$T"' EXIT
unset MELDPUNT_URL MELDPUNT_KEY MELDPUNT_CA
export MELDPUNT_KDF_FAST=1 MELDPUNT_PASSPHRASE='correct horse battery' XDG_STATE_HOME="$T/state"
fails=0

say() {
	if [ "$1" -eq 0 ]; then echo "ok - $2"
	else echo "not ok - $2"; fails=$((fails + 1)); cat "$T/out" "$T/err" 2>/dev/null | sed 's/^/#   /' | head -8; fi
}
# run WANT DESC CMD...: the command exits with WANT (stdout in $T/out, stderr in $T/err)
run() { w=$1; d=$2; shift 2; "$@" >"$T/out" 2>"$T/err"; say $(($? != w)) "$d"; }
err_has() { grep -q -- "$1" "$T/err"; say $? "$2"; }
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@" 2>/dev/null; }
ca() { curl -s --cacert "$T/ca.pem" "$@"; }

# ---- certificates: a CA, an ECDSA and an RSA server certificate it signed ----
cd "$T" || exit 2
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days 2 -subj /CN=meldpunt-test-ca >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
server_cert() { # NAME KEYOPTS...: NAME.key and NAME.pem, signed by the CA for 127.0.0.1
	n=$1
	shift
	openssl req -newkey "$@" -nodes -keyout "$n.key" -out "$n.csr" -subj /CN=127.0.0.1 >/dev/null 2>&1 &&
	    openssl x509 -req -in "$n.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
	    -extfile san.ext -out "$n.pem" >/dev/null 2>&1
}
# The RSA key takes longest: made meanwhile.
server_cert rsa rsa:2048 &
rsapid=$!
server_cert ec ec -pkeyopt ec_paramgen_curve:P-256
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out other.key >/dev/null 2>&1
echo "this is not PEM" >garbage.pem
cp ec.key open.key
chmod 644 open.key
cd - >/dev/null || exit 2

# ---- an instance with a caseworker and an auditor ----
"$M" init --dir "$T/inst" --origin tls.example/log >"$T/verifier" 2>/dev/null
for who in anna:caseworker odin:auditor; do
	n=${who%%:*}
	"$M" keygen --name "$n" --role "${who#*:}" --out "$T/$n.key" >"$T/$n.json" 2>/dev/null
	"$M" key add --dir "$T/inst" --role "${who#*:}" --name "$n" --sign "$(js "$T/$n.json" "d['sign']")" \
	    --box "$(js "$T/$n.json" "d['box']")" >/dev/null 2>&1
done
say $? "an instance with a caseworker and an auditor"
wait $rsapid
[ -s "$T/ec.pem" ] && [ -s "$T/ec.key" ] && [ -s "$T/rsa.pem" ] && [ -s "$T/rsa.key" ] && [ -s "$T/other.key" ]
say $? "openssl made a CA and server certificates"

# start SCHEME ARGS...: meldpuntd on a free port with ARGS; sets pid, port and U
start() {
	scheme=$1
	shift
	base=$((21000 + $$ % 19000))
	for port in $base $((base + 1)) $((base + 2)) $((base + 3)) $((base + 4)); do
		curl -sk -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && continue
		curl -sk -o /dev/null "https://127.0.0.1:$port/" 2>/dev/null && continue
		"$D" --dir "$T/inst" --listen 127.0.0.1:$port "$@" >"$T/server.log" 2>&1 &
		pid=$!
		i=0
		while [ $i -lt 50 ] && kill -0 $pid 2>/dev/null &&
		    ! ca -f -o /dev/null "$scheme://127.0.0.1:$port/healthz"; do
			sleep 0.1
			i=$((i + 1))
		done
		if ca -f -o /dev/null "$scheme://127.0.0.1:$port/healthz"; then
			U=$scheme://127.0.0.1:$port
			return 0
		fi
		kill $pid 2>/dev/null
		wait $pid 2>/dev/null
		pid=
	done
	return 1
}
stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; }
# tls WANT DESC OPENSSL_ARGS...: a handshake with s_client succeeds (0) or fails (1)
tls() {
	w=$1
	d=$2
	shift 2
	openssl s_client -connect "127.0.0.1:$port" -CAfile "$T/ca.pem" "$@" </dev/null >"$T/out" 2>"$T/err"
	r=$?
	# A handshake that completed has a cipher; a refused one has "(NONE)" or nothing.
	if [ $r -eq 0 ] && grep -q "^New, .*Cipher is [A-Z]" "$T/out"; then r=0; else r=1; fi
	say $((r != w)) "$d"
}

# ---- HTTPS with an ECDSA certificate ----
start https --tls-cert "$T/ec.pem" --tls-key "$T/ec.key"
say $? "meldpuntd serves HTTPS with --tls-cert and --tls-key"
[ -n "$pid" ] || { echo "# $(cat "$T/server.log")"; exit 1; }
grep -q "serving $U on" "$T/server.log"; say $? "without a public URL, the default one is https://ADDRESS"

ca -D "$T/h" -o "$T/out" "$U/"; say $? "curl --cacert gets the report form"
grep -q "^HTTP/1.1 200" "$T/h" && grep -q "<form" "$T/out"; say $? "... a 200 page with the form"
grep -qi "^Strict-Transport-Security: max-age=31536000" "$T/h"; say $? "... with Strict-Transport-Security"
ca -D "$T/h" -o "$T/policy.json" "$U/api/v1/policy"
grep -q "^HTTP/1.1 200" "$T/h" && [ -n "$(js "$T/policy.json" "d['languages'][0]['code']")" ]
say $? "the API over TLS: GET /api/v1/policy"
grep -qi "^Strict-Transport-Security: max-age=31536000" "$T/h"; say $? "... with Strict-Transport-Security"
ca -D "$T/h" -o /dev/null "$U/no/such/page"
grep -q "^HTTP/1.1 404" "$T/h" && grep -qi "^Strict-Transport-Security: max-age=31536000" "$T/h"
say $? "an error answer carries Strict-Transport-Security too"
curl -s -o /dev/null "$U/healthz"
say $(($? != 60)) "curl without the test CA refuses the certificate (the checks above verify it)"

ca -H 'Content-Type: application/json' \
    -d '{"language":"en","description":"Refused at the door, sent over TLS."}' \
    "$U/api/v1/reports" >"$T/r.json"
token=$(js "$T/r.json" "d['token']")
[ -n "$token" ]; say $? "a report submitted over TLS gets a token"
js "$T/r.json" "d['followup_url']" | grep -q "^$U/f#"
say $? "... and a follow-up URL on https://"
ca -H 'Content-Type: application/json' -d "{\"token\":\"$token\"}" "$U/api/v1/followup" >"$T/f.json"
[ -n "$(js "$T/f.json" "d['status']")" ]; say $? "the report is followed up with its token over TLS"
ca -H 'Content-Type: application/json' -d "{\"token\":\"$token\",\"text\":\"Any news?\"}" \
    -o /dev/null -w '%{http_code}' "$U/api/v1/followup/messages" >"$T/code"
grep -qx 201 "$T/code" || grep -qx 200 "$T/code"; say $? "... and the reporter's message is taken"

tls 0 "TLS 1.3 is accepted" -tls1_3
grep -q "^New, TLSv1.3, Cipher is TLS_" "$T/out"; say $? "... and agreed"
tls 0 "TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256 is accepted" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
grep -q "Cipher is ECDHE-ECDSA-AES128-GCM-SHA256" "$T/out"; say $? "... and agreed"
tls 0 "TLS 1.2 with ECDHE-ECDSA-CHACHA20-POLY1305 is accepted" -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305
tls 1 "TLS 1.0 is refused" -tls1 -cipher 'ALL:@SECLEVEL=0'
tls 1 "TLS 1.1 is refused" -tls1_1 -cipher 'ALL:@SECLEVEL=0'
tls 1 "TLS 1.2 with a CBC cipher and SHA-1 MAC (ECDHE-ECDSA-AES128-SHA) is refused" \
    -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA
tls 1 "TLS 1.2 with a CBC cipher and SHA-256 MAC (ECDHE-ECDSA-AES128-SHA256) is refused" \
    -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256

# ---- the CLI verifies the certificate; MELDPUNT_CA names the private CA ----
Y=$(date +%Y)
run 1 "meldpunt stats over https without the test CA fails" "$M" stats --year "$Y" --url "$U"
err_has "certificate" "... naming the certificate"
MELDPUNT_CA=$T/ca.pem run 0 "meldpunt stats over https with MELDPUNT_CA fetches the statistics" \
    "$M" stats --year "$Y" --url "$U" --key "$(cat "$T/verifier")"
MELDPUNT_CA=$T/ca.pem run 0 "meldpunt cases (signed requests) over https with MELDPUNT_CA" \
    "$M" cases --url "$U" --key "$T/anna.key"
[ "$(wc -l <"$T/out")" -eq 1 ]; say $? "... lists the report sent over TLS"
run 1 "meldpunt cases over https without the test CA fails" "$M" cases --url "$U" --key "$T/anna.key"
MELDPUNT_CA=$T/ca.pem run 0 "meldpunt audit fetches and checks the checkpoint over https with MELDPUNT_CA" \
    "$M" audit --key "$T/verifier" --year "$Y" --url "$U" --auditor-key "$T/odin.key" --state "$T/audit.state"
grep -q "^ok  *checkpoint" "$T/out"; say $? "... its checkpoint step passes"
run 1 "meldpunt audit over https without the test CA fails" \
    "$M" audit --key "$T/verifier" --year "$Y" --url "$U" --auditor-key "$T/odin.key" --state "$T/audit.state"
MELDPUNT_CA=$T/other.key run 1 "a MELDPUNT_CA that holds no authority fails" "$M" stats --year "$Y" --url "$U"
stop

# ---- HTTPS with an RSA certificate ----
start https --tls-cert "$T/rsa.pem" --tls-key "$T/rsa.key"
say $? "meldpuntd serves HTTPS with an RSA certificate"
if [ -n "$pid" ]; then
	tls 0 "TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256 is accepted" -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
	tls 0 "TLS 1.3 is accepted with the RSA certificate" -tls1_3
	tls 1 "TLS 1.2 with ECDHE-RSA-AES128-SHA (CBC, SHA-1) is refused" -tls1_2 -cipher ECDHE-RSA-AES128-SHA
	tls 1 "TLS 1.2 with RSA key exchange (AES128-GCM-SHA256) is refused" -tls1_2 -cipher AES128-GCM-SHA256
	tls 1 "TLS 1.2 with finite-field DHE (DHE-RSA-AES128-GCM-SHA256) is refused" \
	    -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256
	stop
fi

# ---- plain HTTP: no HSTS ----
start http
say $? "meldpuntd serves plain HTTP without the TLS options"
curl -s -D "$T/h" -o /dev/null "$U/"
grep -q "^HTTP/1.1 200" "$T/h" && ! grep -qi "^Strict-Transport-Security" "$T/h"
say $? "plain HTTP answers carry no Strict-Transport-Security"
grep -q "serving http://127.0.0.1:$port on" "$T/server.log"; say $? "... and the default public URL is http://"
stop

# ---- the probes above can succeed: a server that allows everything answers them ----
# On the first of a few ports that openssl can listen on (another program may hold one).
for cport in $((base + 7)) $((base + 8)) $((base + 9)) $((base + 10)) $((base + 11)); do
	openssl s_server -accept "$cport" -cert "$T/ec.pem" -key "$T/ec.key" \
	    -cipher 'ALL:@SECLEVEL=0' -www >/dev/null 2>&1 &
	cpid=$!
	i=0
	while [ $i -lt 100 ] && kill -0 $cpid 2>/dev/null &&
	    ! curl -sk -o /dev/null "https://127.0.0.1:$cport/"; do
		sleep 0.1
		i=$((i + 1))
	done
	curl -sk -o /dev/null "https://127.0.0.1:$cport/" && break
	kill $cpid 2>/dev/null
	wait $cpid 2>/dev/null
done
port=$cport
tls 0 "control: the TLS 1.0 probe connects to a server that allows TLS 1.0" -tls1 -cipher 'ALL:@SECLEVEL=0'
tls 0 "control: the CBC probe connects to a server that allows CBC" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA
kill $cpid 2>/dev/null
wait $cpid 2>/dev/null
cpid=

# ---- refusals at start: exit 1 with a message, never a server ----
# bad WANT DESC PATTERN ARGS...: meldpuntd exits WANT at once with PATTERN on stderr
bad() {
	w=$1
	d=$2
	p=$3
	shift 3
	timeout 20 "$D" --dir "$T/inst" --listen 127.0.0.1:$((base + 9)) "$@" >"$T/out" 2>"$T/err"
	say $(($? != w)) "$d"
	[ -z "$p" ] || err_has "$p" "... saying so"
}
bad 1 "a missing certificate file: exit 1" "cannot read $T/none.pem" \
    --tls-cert "$T/none.pem" --tls-key "$T/ec.key"
bad 1 "a missing key file: exit 1" "cannot read $T/none.key" --tls-cert "$T/ec.pem" --tls-key "$T/none.key"
bad 1 "a garbage certificate file: exit 1" "$T/garbage.pem holds no PEM certificate" \
    --tls-cert "$T/garbage.pem" --tls-key "$T/ec.key"
bad 1 "a garbage key file: exit 1" "$T/garbage.pem holds no unencrypted PEM private key" \
    --tls-cert "$T/ec.pem" --tls-key "$T/garbage.pem"
bad 1 "a key that is not the certificate's: exit 1" \
    "the key in $T/other.key does not belong to the certificate in $T/ec.pem" \
    --tls-cert "$T/ec.pem" --tls-key "$T/other.key"
bad 1 "the RSA key with the ECDSA certificate: exit 1" "does not belong" \
    --tls-cert "$T/ec.pem" --tls-key "$T/rsa.key"
bad 1 "a key file other users may read: exit 1" "other users may read" \
    --tls-cert "$T/ec.pem" --tls-key "$T/open.key"
bad 1 "a directory as the certificate: exit 1" "is not a file" --tls-cert "$T" --tls-key "$T/ec.key"
bad 2 "--tls-cert without --tls-key is bad usage" "" --tls-cert "$T/ec.pem"
bad 2 "--tls-key without --tls-cert is bad usage" "" --tls-key "$T/ec.key"
grep -q "tls-key" "$T/err"; say $? "... and the usage names the options"
[ "$fails" -eq 0 ]
