#!/bin/sh
# kill -9 of the api and of the config role: each comes back, and the
# services are untouched.  The new config role still serves reloads.
. "$(dirname "$0")/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
processes:
  s:
    enabled: true
    scale: 2
    command: ["sleep", "1000"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 5 instance_pid s-1 >/dev/null || fail "s-1 not running"
before="$(instance_pid s-0) $(instance_pid s-1)"

for r in api config; do
	old=$(role_pid "$r") || fail "no $r role"
	kill -9 "$old"
	back() {
		_p=$(role_pid "$r") && [ "$_p" != "$old" ]
	}
	wait_for 5 back || fail "$r not restarted"
	log_has "$r (pid [0-9]*) died: killed by SIGKILL" ||
	    fail "$r's death not logged with its cause"
done
after="$(instance_pid s-0) $(instance_pid s-1)"
[ "$before" = "$after" ] || fail "service pids changed: $before -> $after"

# the restarted config role parses a reload
kill -HUP "$NS_INIT"
wait_for 5 log_has "configuration generation 2 loaded" ||
    fail "reload after the config role restart failed"
after="$(instance_pid s-0) $(instance_pid s-1)"
[ "$before" = "$after" ] || fail "an unchanged reload restarted services"
stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS"
echo ok
