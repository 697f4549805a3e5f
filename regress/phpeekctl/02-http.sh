#!/bin/sh
# The API's HTTP behaviour: health, unknown paths, wrong methods, body
# cap, bearer token on TCP, rate limit, and the Kubernetes probes.
. "$(dirname "$0")/../phpeekd/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
  api_port: 19182
  api_auth: s3cret
  api_max_request_body: 1024
  metrics_port: 19092
processes:
  web:
    enabled: true
    command: ["sleep", "1000"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 5 test -S "$T/ctl.sock" || fail "no control socket"
u() {
	curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret' \
	    --unix-socket "$T/ctl.sock" "$@"
}
A="curl -s -o /dev/null -w %{http_code}"
[ "$(u http://x/api/v1/health)" = 200 ] || fail "health"
[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/ctl.sock" \
    http://x/api/v1/processes)" = 401 ] || fail "the socket took no token"
[ "$(u http://x/nope)" = 404 ] || fail "unknown path"
[ "$(u -X DELETE http://x/api/v1/processes)" = 405 ] || fail "method"
[ "$(u -X POST \
    --data-binary @/etc/services http://x/api/v1/processes/web/scale)" = 413 ] ||
    fail "oversized body not refused with 413"
[ "$($A http://127.0.0.1:19182/api/v1/processes)" = 401 ] || fail "no token"
[ "$($A -H 'Authorization: Bearer wrong' \
    http://127.0.0.1:19182/api/v1/processes)" = 401 ] || fail "bad token"
[ "$($A -H 'Authorization: Bearer s3cret' \
    http://127.0.0.1:19182/api/v1/processes)" = 200 ] || fail "good token"
[ "$($A http://127.0.0.1:19182/api/v1/health)" = 200 ] ||
    fail "health needs no token"
grep -q "s3cret" "$T/err" && fail "the token was logged"

# readiness follows the processes
wait_for 5 sh -c "[ \$($A http://127.0.0.1:19092/readyz) = 200 ]" ||
    fail "readyz not 200 with everything running"
curl -s http://127.0.0.1:19092/readyz | grep -q '"web":{"ok":true' ||
    fail "readyz has no per-process breakdown"
[ "$($A http://127.0.0.1:19092/livez)" = 200 ] || fail "livez"
[ "$($A http://127.0.0.1:19092/startupz)" = 200 ] || fail "startupz"
"$TOP/phpeekctl/phpeekctl" -s "$T/ctl.sock" -t s3cret stop web >/dev/null ||
    fail "stop with token"
[ "$($A http://127.0.0.1:19092/readyz)" = 503 ] ||
    fail "readyz after stop: $(curl -s http://127.0.0.1:19092/readyz)"

# rate limit: a burst of 200, then 429 with Retry-After
codes=$(i=0; while [ $i -lt 600 ]; do
	echo "url = \"http://127.0.0.1:19182/api/v1/health\""
	i=$((i + 1)); done | curl -s -K - -o /dev/null -w '%{http_code}\n')
printf '%s\n' "$codes" | grep -q 429 || fail "no 429 after a burst"
stop_phpeekd
echo ok
