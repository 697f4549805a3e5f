#!/bin/sh
# TLS on the TCP API and the metrics port: certificates made with
# openssl(1), verified by curl; no clear text on a TLS port; client
# certificates required and verified against a CA on the metrics
# port; a renewed certificate served after a reload; a reload naming a
# missing key fails and keeps serving; a missing certificate at start
# is exit 1.
. "$(dirname "$0")/../phpeekd/lib.sh"

command -v openssl >/dev/null || fail "openssl is not installed"
cd "$T" || fail "cd"
mkcert() {	# name CN [CA]: a key and a certificate for 127.0.0.1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -days 2 -subj "/CN=$2" -keyout "$1.key" -out "$1.crt" \
	    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	    ${3:+-CA "$3.crt" -CAkey "$3.key"} 2>/dev/null ||
	    fail "openssl: cannot make $1"
}
mkcert ca "phpeekd test CA"
mkcert server "server one" ca
mkcert client "a scraper" ca
mkcert stranger "not from the CA"

conf() {	# key file of the API
	cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
  api_port: 19185
  metrics_port: 19097
  api_tls:
    enabled: true
    cert_file: $T/server.crt
    key_file: $1
    min_version: "TLS 1.2"
  metrics_tls:
    enabled: true
    cert_file: $T/server.crt
    key_file: $T/server.key
    client_auth: verify
    ca_file: $T/ca.crt
processes:
  web:
    enabled: true
    command: ["sleep", "1000"]
YAML
}
conf "$T/server.key"
start_phpeekd "$T/conf.yaml"
CTL="$TOP/phpeekctl/phpeekctl -s $T/ctl.sock"
API=https://127.0.0.1:19185/api/v1/health
up() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert ca.crt "$API")" = 200 ]
}
wait_for 5 up || fail "the API does not answer over TLS"
[ "$(curl -s --cacert ca.crt "$API")" = '{"status":"healthy"}' ] ||
    fail "health over TLS: $(curl -s --cacert ca.crt "$API")"
curl -s -o /dev/null http://127.0.0.1:19185/api/v1/health &&
    fail "the TLS port answered clear text"
curl -s -o /dev/null --tlsv1.1 --tls-max 1.1 --cacert ca.crt "$API" &&
    fail "TLS 1.1 accepted with min_version TLS 1.2"
subject() {
	openssl s_client -connect 127.0.0.1:19185 </dev/null 2>/dev/null |
	    openssl x509 -noout -subject 2>/dev/null
}
subject | grep -q "CN = server one" || fail "served: $(subject)"

# metrics: a client certificate from the CA, and only that
M=https://127.0.0.1:19097/metrics
curl -s -o /dev/null --cacert ca.crt "$M" &&
    fail "metrics served without a client certificate"
curl -s -o /dev/null --cacert ca.crt --cert stranger.crt --key stranger.key \
    "$M" && fail "metrics served to a certificate not from the CA"
curl -s --cacert ca.crt --cert client.crt --key client.key "$M" |
    grep -q '^phpeek_pm_process_up{name="web"' ||
    fail "no metrics with the CA's client certificate"

# renewal: a new certificate at the same path, served after a reload
mkcert server "server two" ca
$CTL reload >/dev/null || fail "reload"
wait_for 5 sh -c "openssl s_client -connect 127.0.0.1:19185 </dev/null 2>/dev/null |
    openssl x509 -noout -subject | grep -q 'CN = server two'" ||
    fail "the renewed certificate is not served: $(subject)"

# a key that is not there: the reload fails and TLS goes on
conf "$T/missing.key"
out=$($CTL reload 2>&1) && fail "a reload with a missing key succeeded"
echo "$out" | grep -q "missing.key: No such file or directory" ||
    fail "reload: $out"
up || fail "the API stopped answering after a failed reload"

stop_phpeekd
[ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS"

# at start: exit 1 and the reason
: >"$T/err"
unshare --pid --fork --mount-proc "$PHPEEKD" -f "$T/conf.yaml" \
    >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || fail "exit status $rc with a missing key"
log_has "TLS: $T/missing.key: No such file or directory" ||
    fail "no reason given for the missing key"
