#!/bin/sh
# make run: a demo instance under ./var/ with one caseworker key, then the
# server on 127.0.0.1:8080 (or DEMO_LISTEN) in the foreground (Ctrl-C stops it).
set -e
BUILD=${1:-build}
VAR=var
DIR=$VAR/demo
KEY=$VAR/caseworker.key
PASSFILE=$VAR/caseworker.passphrase
LISTEN=${DEMO_LISTEN:-127.0.0.1:8080}
URL=http://$LISTEN

mkdir -p "$VAR"
chmod 700 "$VAR"
if [ ! -d "$DIR" ]; then
	"$BUILD/meldpunt" init --dir "$DIR" --origin demo.meldpunt.localhost/log --public-url "$URL" \
		> "$VAR/log-verifier-key.txt"
	# A demo passphrase, printed below; a real caseworker types their own.
	umask 077
	head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$PASSFILE"
	MELDPUNT_PASSPHRASE=$(cat "$PASSFILE") "$BUILD/meldpunt" keygen --name "Demo caseworker" \
		--out "$KEY" > "$VAR/caseworker.bundle.json" 2>/dev/null
	SIGN=$(sed -n 's/.*"sign":"\([^"]*\)".*/\1/p' "$VAR/caseworker.bundle.json")
	BOX=$(sed -n 's/.*"box":"\([^"]*\)".*/\1/p' "$VAR/caseworker.bundle.json")
	"$BUILD/meldpunt" key add --dir "$DIR" --role caseworker --name "Demo caseworker" \
		--sign "$SIGN" --box "$BOX" > /dev/null
fi
# Receipts and QR codes point where the demo listens now, also when it moved.
sed -i "s|^public_url = .*|public_url = $URL|" "$DIR/meldpunt.conf"
PASS=$(cat "$PASSFILE")

cat <<TXT

  meldpunt demo instance: $DIR
  server:                 $URL  (Ctrl-C stops it)
  demo caseworker key:    $KEY
  its passphrase:         $PASS

  Report something, as a resident would: open $URL/ in a browser
  (the form, in six languages; the receipt's QR code leads to the follow-up page),
  or from another terminal through the API:

    curl -s -H 'Content-Type: application/json' \\
      -d '{"description": "The landlord refused me because of my name.", "grounds": ["origin"], "domain": "housing"}' \\
      $URL/api/v1/reports

  The answer holds the follow-up token. Check progress with it:

    curl -s -H 'Content-Type: application/json' -d '{"token": "TOKEN"}' $URL/api/v1/followup

  Read and answer it as the caseworker (decrypted on this machine only):

    export MELDPUNT_URL=$URL MELDPUNT_KEY=$KEY
    export MELDPUNT_PASSPHRASE=$PASS   # or leave unset and type it when asked
    $BUILD/meldpunt cases
    $BUILD/meldpunt case show CASE_ID
    $BUILD/meldpunt case reply CASE_ID --text "Thank you for your report. Can we call you?"
    $BUILD/meldpunt case status CASE_ID intake

  The yearly statistics, signed by the log key, and their check:

    $BUILD/meldpunt stats --url $URL --year $(date +%Y) --key $VAR/log-verifier-key.txt

TXT
exec "$BUILD/meldpuntd" --dir "$DIR" --listen "$LISTEN"
