#!/bin/sh
# Requests that wait on the engine: a stop that takes longer than the
# HTTP timeout of 10 s is still answered, other requests are answered
# meanwhile, and a client that hangs up while its stop is under way
# neither crashes the api nor gets an answer sent to a freed request.
. "$(dirname "$0")/../phpeekd/lib.sh"

CTL="$TOP/phpeekctl/phpeekctl -s $T/ctl.sock"
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
  api_port: 19190
  metrics_port: 19100
processes:
  stubborn:
    enabled: true
    command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"]
    shutdown:
      timeout: 12
  web:
    enabled: true
    command: ["sleep", "1000"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 5 test -S "$T/ctl.sock" || fail "no control socket"
wait_for 5 instance_pid stubborn-0 >/dev/null || fail "stubborn-0 not running"
api=$(role_pid api) || fail "no api role"

# longer than evhttp's 10 s timeout: still answered, after the SIGKILL
t0=$(date +%s)
$CTL stop stubborn >"$T/stop.out" 2>&1 &
w=$!
wait_for 5 log_has "stubborn: stop requested" || fail "no stop request"
# meanwhile the api answers the others at once
old=$(instance_pid web-0)
$CTL restart web >/dev/null || fail "restart while a stop waits"
[ "$(instance_pid web-0)" != "$old" ] || fail "web-0 was not restarted"
$CTL status >/dev/null || fail "status while a stop waits"
[ $(($(date +%s) - t0)) -lt 8 ] || fail "a slow stop held the others"
wait $w || fail "slow stop failed: $(cat "$T/stop.out")"
t1=$(date +%s)
[ $((t1 - t0)) -ge 11 ] || fail "stop returned after $((t1 - t0)) s"
! instance_pid stubborn-0 >/dev/null || fail "stubborn-0 outlived its stop"
log_has "stubborn-0: still running 12s after SIGTERM" ||
    fail "the stop did not wait for the timeout"

# the client leaves while its stop is under way
$CTL start stubborn >/dev/null || fail "start failed"
wait_for 5 instance_pid stubborn-0 >/dev/null || fail "stubborn-0 not back"
pid=$(instance_pid stubborn-0)
curl -s -m 1 -X POST --unix-socket "$T/ctl.sock" \
    http://x/api/v1/processes/stubborn/stop >/dev/null
[ $? -eq 28 ] || fail "the stop was answered before its timeout"
wait_for 20 sh -c "! kill -0 $pid 2>/dev/null" || fail "stubborn-0 was not stopped"
# the engine's answer came and went nowhere; the api still serves
audited() {
	[ "$(log_count 'audit: unix POST /api/v1/processes/stubborn/stop ->')" -eq 2 ]
}
wait_for 5 audited || fail "no audit line for the abandoned stop"
$CTL status >/dev/null || fail "status after an abandoned request"
[ "$(role_pid api)" = "$api" ] || fail "the api role was replaced"
log_has "api (pid [0-9]*) died" && fail "the api role died"

stop_phpeekd
echo ok
