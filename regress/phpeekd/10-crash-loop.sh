#!/bin/sh
# A role that crashes more than 5 times in 30 s: the parent stops every
# service itself (SIGTERM, then SIGKILL after shutdown_timeout) and
# exits non-zero.
. "$(dirname "$0")/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  shutdown_timeout: 2
processes:
  polite:
    enabled: true
    command: ["sh", "-c", "trap 'touch $T/polite-got-term; exit 0' TERM; while :; do sleep 0.1; done"]
  stubborn:
    enabled: true
    command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 5 instance_pid polite-0 >/dev/null || fail "polite not running"
wait_for 5 instance_pid stubborn-0 >/dev/null || fail "stubborn not running"
i=0
while [ $i -lt 6 ]; do
	old=$(role_pid api) || break
	kill -9 "$old"
	back() {
		ns_gone && return 0
		_p=$(role_pid api) && [ "$_p" != "$old" ]
	}
	wait_for 5 back || fail "api not restarted after crash $i"
	i=$((i + 1))
done
wait "$UNSHARE_PID"
EXIT_STATUS=$?
UNSHARE_PID=
NS_INIT=
[ "$EXIT_STATUS" -ne 0 ] || fail "exit status 0 after a crash loop"
log_has "api crashed more than 5 times in 30 seconds" ||
    fail "crash loop not logged"
[ -e "$T/polite-got-term" ] || fail "polite did not get SIGTERM"
log_has "shutdown timeout: killing every remaining process" ||
    fail "stubborn was not killed after shutdown_timeout"
echo ok
