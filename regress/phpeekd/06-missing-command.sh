#!/bin/sh
# A command that does not exist: one clear error naming it, the
# instance marked failed, and no restart loop, while another service
# goes on restarting at its configured pace.
. "$(dirname "$0")/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  restart_backoff_initial: 200ms
  restart_backoff_max: 200ms
  max_restart_attempts: 100
processes:
  ghost:
    enabled: true
    command: ["/nonexistent/php-fpm99", "-F"]
  blinker:
    enabled: true
    command: ["sh", "-c", "exit 1"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 5 log_has 'ghost-0: cannot start /nonexistent/php-fpm99: exec: No such file or directory' ||
    fail "no error naming the missing command"
log_has 'ghost-0: starting -> failed' || fail "ghost-0 not marked failed"

# let the other service restart five times: 5 x 200 ms have passed
five_restarts() {
	[ "$(log_count 'blinker-0: backoff -> starting')" -ge 5 ]
}
wait_for 10 five_restarts || fail "blinker did not restart"
n=$(log_count 'cannot start /nonexistent/php-fpm99')
[ "$n" -eq 1 ] || fail "the missing command was tried $n times"
stop_phpeekd
echo ok
