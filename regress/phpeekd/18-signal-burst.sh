#!/bin/sh
# 10,000 signals in a burst to PID 1 while services exit and restart:
# every exit is still reaped (no zombie) and acted on (restarts go on).
. "$(dirname "$0")/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  restart_backoff_initial: 10ms
  restart_backoff_max: 10ms
  max_restart_attempts: -1
processes:
  churn:
    enabled: true
    scale: 5
    command: ["sh", "-c", "echo x >>$T/starts; sleep 0.05"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 5 test -s "$T/starts" || fail "churn not started"
i=0
while [ $i -lt 10000 ]; do
	case $((i % 3)) in
	0) kill -USR1 "$NS_INIT" ;;
	1) kill -USR2 "$NS_INIT" ;;
	2) kill -WINCH "$NS_INIT" ;;
	esac
	i=$((i + 1))
done
n=$(wc -l <"$T/starts")
more() {
	[ "$(wc -l <"$T/starts")" -gt "$((n + 20))" ]
}
wait_for 5 more || fail "restarts stopped after the burst"
kill -0 "$NS_INIT" || fail "phpeekd died"
# a zombie for an instant is normal while churning: it must not stay
nozombie() {
	[ -z "$(zombies)" ]
}
wait_for 1 nozombie || fail "zombies left: $(zombies)"
stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS"
echo ok
