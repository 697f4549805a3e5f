#!/bin/sh
# A second SIGTERM during shutdown forces it: everything is killed at
# once and phpeekd exits non-zero.  The same signal twice at once (as
# timeout(1) sends it, to the process and its group) is one request.
. "$(dirname "$0")/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  shutdown_timeout: 30
processes:
  stubborn:
    enabled: true
    command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 5 instance_pid stubborn-0 >/dev/null || fail "stubborn not running"
t0=$(date +%s%N)
kill -TERM "$NS_INIT"
kill -TERM "$NS_INIT"
wait_for 5 log_has "stubborn-0: running -> stopping" || fail "no stop began"
log_has "again: killing" && fail "a signal repeated at once forced the shutdown"
# a request a moment later is a second one
later() {
	[ $(($(date +%s%N) - t0)) -gt 300000000 ]
}
wait_for 2 later
start=$(date +%s%N)
stop_phpeekd TERM
elapsed=$((($(date +%s%N) - start) / 1000000))
[ "$EXIT_STATUS" -ne 0 ] || fail "forced shutdown exited 0"
[ "$elapsed" -lt 3000 ] || fail "forced shutdown took ${elapsed}ms"
log_has "again: killing every process now" || fail "forcing not logged"
echo ok
