#!/bin/sh
# The API's HTTP behaviour: health, unknown paths, wrong methods, path
# rules and error bodies, body cap, bearer token on the socket and on
# TCP, audit lines, rate limit, and the Kubernetes probes.
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
wait_for 5 instance_pid web-0 >/dev/null || fail "web-0 not running"

# u [curl args]: status code over the socket, with the token; the
# body lands in $T/body, the headers in $T/hdr
u() {
	curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' \
	    -H 'Authorization: Bearer s3cret' --unix-socket "$T/ctl.sock" "$@"
}
body_is() {
	[ "$(cat "$T/body")" = "$1" ] || fail "body: $(cat "$T/body"), not $1"
}
ctype() {
	tr -d '\r' <"$T/hdr" | awk -F': ' 'tolower($1) == "content-type" {print $2}'
}
A="curl -s -o /dev/null -w %{http_code}"

[ "$(u http://x/api/v1/health)" = 200 ] || fail "health"
body_is '{"status":"healthy"}'
[ "$(ctype)" = application/json ] || fail "health Content-Type: $(ctype)"
[ "$(tail -c 1 "$T/body" | od -An -c | tr -d ' ')" = '\n' ] ||
    fail "no newline after the JSON"
[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/ctl.sock" \
    http://x/api/v1/processes)" = 401 ] || fail "the socket took no token"

# unknown paths, methods and phpeek-pm's path rules
[ "$(u http://x/nope)" = 404 ] || fail "unknown path"
body_is "404 page not found"
case "$(ctype)" in text/plain*) ;; *) fail "404 Content-Type: $(ctype)" ;; esac
[ "$(u -X DELETE http://x/api/v1/processes)" = 405 ] || fail "DELETE"
body_is '{"error":"method not allowed"}'
[ "$(u -X PATCH http://x/api/v1/processes/web)" = 405 ] || fail "PATCH"
[ "$(u -X POST http://x/api/v1/health)" = 405 ] || fail "POST health"
[ "$(u http://x/api/v1/processes/web/)" = 400 ] || fail "trailing slash"
body_is '{"error":"process name required"}'
[ "$(u -X POST http://x/api/v1/processes/web)" = 400 ] || fail "no action"
body_is '{"error":"action required (start|stop|restart|scale)"}'
[ "$(u -X POST http://x/api/v1/processes/web/frob)" = 400 ] ||
    fail "unknown action"
body_is '{"error":"unknown action: frob (valid: start|stop|restart|scale|signal|schedule/pause|schedule/resume|schedule/trigger)"}'
[ "$(u http://x/api/v1/processes/nope)" = 404 ] || fail "unknown process"
body_is '{"error":"failed to get process: process nope not found"}'
[ "$(u -X POST http://x/api/v1/processes/nope/start)" = 404 ] ||
    fail "start of an unknown process"
[ "$(u -X POST -d '{"desired":0}' http://x/api/v1/processes/web/scale)" = 400 ] ||
    fail "desired 0"
body_is '{"error":"desired scale must be >= 1"}'
[ "$(u -X POST -d 'nonsense' http://x/api/v1/processes/web/scale)" = 400 ] ||
    fail "a body that is not JSON"
body_is '{"error":"invalid request body"}'
[ "$(u -X POST -d '{"signal":"SIGNOPE"}' http://x/api/v1/processes/web/signal)" = 400 ] ||
    fail "an unknown signal"
[ "$(u -X POST http://x/api/v1/config/validate)" = 200 ] || fail "validate"
jq -e '.valid == true and .errors == 0' "$T/body" >/dev/null ||
    fail "validate: $(cat "$T/body")"
[ "$(u http://x/api/v1/processes/web/logs)" = 200 ] || fail "logs"
[ "$(u -X POST --data-binary @/etc/services \
    http://x/api/v1/processes/web/scale)" = 413 ] ||
    fail "oversized body not refused with 413"

# the token on TCP, which listens on loopback here
P=http://127.0.0.1:19182
[ "$($A $P/api/v1/processes)" = 401 ] || fail "no token"
[ "$($A -H 'Authorization: Bearer wrong' $P/api/v1/processes)" = 401 ] ||
    fail "bad token"
[ "$($A -H 'Authorization: bearer s3cret' $P/api/v1/processes)" = 401 ] ||
    fail "the scheme is case-sensitive"
[ "$($A -H 'Authorization: Bearer s3cre' $P/api/v1/processes)" = 401 ] ||
    fail "a prefix of the token"
[ "$($A -H 'Authorization: Bearer s3cretX' $P/api/v1/processes)" = 401 ] ||
    fail "the token and more"
[ "$($A -H 'Authorization: Bearer s3cret' $P/api/v1/processes)" = 200 ] ||
    fail "good token"
[ "$($A $P/api/v1/health)" = 200 ] || fail "health needs no token"
[ "$($A $P/readyz)" = 200 ] || fail "probes need no token"
wait_for 5 log_has "audit: 127.0.0.1 GET /api/v1/processes -> 401" ||
    fail "no audit line for a refused token"
grep -q "s3cret" "$T/err" && fail "the token was logged"

# readiness follows the processes
M=http://127.0.0.1:19092
wait_for 5 sh -c "[ \$($A $M/readyz) = 200 ]" ||
    fail "readyz not 200 with everything running"
curl -s $M/readyz | grep -q '"web":{"ok":true' ||
    fail "readyz has no per-process breakdown"
[ "$($A $M/livez)" = 200 ] || fail "livez"
[ "$($A $M/healthz)" = 200 ] || fail "healthz"
[ "$($A $M/startupz)" = 200 ] || fail "startupz"
[ "$(curl -s $M/health)" = OK ] || fail "/health on the metrics port"
[ "$($A $M/api/v1/processes)" = 404 ] || fail "the API on the metrics port"
"$TOP/phpeekctl/phpeekctl" -s "$T/ctl.sock" -t s3cret stop web >/dev/null ||
    fail "stop with token"
log_has "audit: unix POST /api/v1/processes/web/stop -> 200" ||
    fail "no audit line for the stop"
[ "$($A $M/readyz)" = 503 ] ||
    fail "readyz after stop: $(curl -s $M/readyz)"
curl -s $M/readyz | grep -q '"web":{"ok":false,"state":"stopped"' ||
    fail "readyz does not say why: $(curl -s $M/readyz)"
[ "$($A $M/startupz)" = 200 ] || fail "startupz went back after a stop"
[ "$($A $P/readyz)" = 503 ] || fail "readyz on the API port"
PHPEEKD_TOKEN=s3cret "$TOP/phpeekctl/phpeekctl" -s "$T/ctl.sock" start web \
    >/dev/null || fail "start with PHPEEKD_TOKEN"
wait_for 5 sh -c "[ \$($A $M/readyz) = 200 ]" || fail "readyz after start"

# rate limit: a burst of 200, then 429 with Retry-After and the JSON
i=0
while [ $i -lt 600 ]; do
	echo "url = \"$P/api/v1/health\""
	i=$((i + 1))
done >"$T/urls"
curl -s -K "$T/urls" -o /dev/null \
    -w '%{http_code} %header{retry-after}\n' >"$T/codes"
grep -q '^429 1$' "$T/codes" || fail "no 429 with Retry-After: 1"
n200=$(grep -c "^200" "$T/codes")
[ "$n200" -ge 150 ] && [ "$n200" -lt 400 ] || fail "$n200 of 600 answered"
log_has "audit: 127.0.0.1: rate limit exceeded" || fail "no audit of the 429"
# one audit line for the flood, not one per refusal
[ "$(log_count "rate limit exceeded")" -le 2 ] ||
    fail "$(log_count "rate limit exceeded") audit lines for one flood"
# the metrics port is not limited: Prometheus must never see a 429
sed "s|$P/api/v1/health|$M/metrics|" "$T/urls" >"$T/murls"
curl -s -K "$T/murls" -o /dev/null -w '%{http_code}\n' >"$T/mcodes"
[ "$(grep -c '^200$' "$T/mcodes")" = 600 ] ||
    fail "metrics port: $(sort "$T/mcodes" | uniq -c | tr '\n' ' ')"
# the socket is not limited
[ "$(u http://x/api/v1/health)" = 200 ] || fail "the socket was limited"
stop_phpeekd
echo ok
