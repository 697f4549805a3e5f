#!/bin/sh
# Address lists on the TCP listeners: api_acl in allow mode (IPv4 CIDR,
# IPv6 address, X-Forwarded-For behind a trusted proxy), metrics_acl
# in deny mode on every path of the metrics port, the control socket
# untouched, audit lines for refusals, a bad entry refused with its
# position by -n and by a reload that keeps the running lists, and a
# good reload that applies new ones.
. "$(dirname "$0")/../phpeekd/lib.sh"

acl_conf() {
	cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
  api_port: 19184
  metrics_port: 19096
  api_acl:
    enabled: true
    mode: allow
    trust_proxy: true
    allow_list: ["10.0.0.0/8", "::1", $1]
  metrics_acl:
    enabled: true
    mode: deny
    deny_list: ["127.0.0.0/8"]
processes:
  web:
    enabled: true
    command: ["sleep", "1000"]
YAML
}
acl_conf '"192.0.2.0/24"'
start_phpeekd "$T/conf.yaml"
wait_for 5 test -S "$T/ctl.sock" || fail "no control socket"
CTL="$TOP/phpeekctl/phpeekctl -s $T/ctl.sock"

# code URL [curl args]: the status; the body lands in $T/body
code() {
	_u=$1
	shift
	curl -s -g -o "$T/body" -w '%{http_code}' "$@" "$_u"
}
API4=http://127.0.0.1:19184/api/v1/processes
API6=http://[::1]:19184/api/v1/processes
wait_for 5 sh -c "[ \$(curl -s -g -o /dev/null -w '%{http_code}' $API6) = 200 ]" ||
    fail "the API does not answer on ::1"

[ "$(code $API4)" = 403 ] || fail "127.0.0.1 is not in the allow list"
[ "$(cat "$T/body")" = "Access denied" ] || fail "403 body: $(cat "$T/body")"
wait_for 5 log_has "audit: 127.0.0.1 GET /api/v1/processes -> 403" ||
    fail "no audit line for the refusal"
[ "$(code $API6)" = 200 ] || fail "::1 refused"
[ "$(code $API4 -H 'X-Forwarded-For: 10.9.8.7')" = 200 ] ||
    fail "a client behind the proxy in 10/8 refused"
[ "$(code $API4 -H 'X-Forwarded-For: 198.51.100.1, 10.0.0.1')" = 403 ] ||
    fail "X-Forwarded-For: not its left-most entry"
[ "$(code $API4 -H 'X-Forwarded-For: unknown')" = 403 ] ||
    fail "an unparsable X-Forwarded-For let the peer through"
[ "$(code $API6 -X POST -H 'X-Forwarded-For: 203.0.113.5')" = 403 ] ||
    fail "a proxied client outside the list let in"
wait_for 5 log_has "audit: ::1 POST /api/v1/processes -> 403" ||
    fail "no audit line for a refused change"
[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/ctl.sock" \
    http://x/api/v1/processes)" = 200 ] || fail "the control socket refused"

# the metrics port: deny mode, every path
M4=http://127.0.0.1:19096
M6=http://[::1]:19096
[ "$(code $M4/metrics)" = 403 ] || fail "metrics from 127.0.0.1 not denied"
[ "$(code $M4/readyz)" = 403 ] || fail "a probe from 127.0.0.1 not denied"
[ "$(code $M6/metrics)" = 200 ] || fail "metrics from ::1 denied"
grep -q '^phpeek_pm_process_up' "$T/body" || fail "no metrics over ::1"

# a bad entry: an error at its position, and a reload keeps the lists
acl_conf '"10.0.0.300"'
out=$("$PHPEEKD" -n -f "$T/conf.yaml" 2>&1) && fail "-n accepted a bad ACL"
echo "$out" | grep -q "conf.yaml:10:39: error: global.api_acl.allow_list: \"10.0.0.300\" is not an IPv4 or IPv6 address or CIDR" ||
    fail "-n: $out"
$CTL reload >/dev/null 2>&1 && fail "a bad reload succeeded"
[ "$(code $API6)" = 200 ] || fail "the running ACL was lost"
[ "$(code $API4)" = 403 ] || fail "the running ACL was lost"

# a good one applies at once
acl_conf '"127.0.0.1"'
$CTL reload >/dev/null || fail "reload"
[ "$(code $API4)" = 200 ] || fail "the new allow list not applied"

stop_phpeekd
[ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS"
