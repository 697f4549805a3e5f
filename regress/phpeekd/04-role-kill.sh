#!/bin/sh
# kill -9 of the api: it comes back, and the services are untouched.
# The config role runs only while it parses: gone once generation 1 is
# loaded, back for a reload, gone again, and nothing else moves.
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
start_phpeekd "$T/conf.yaml" -v
wait_for 5 instance_pid s-1 >/dev/null || fail "s-1 not running"
before="$(instance_pid s-0) $(instance_pid s-1)"
no_config() {
	! role_pid config >/dev/null
}
wait_for 5 no_config || fail "the config role outlived the first load"
log_has "config ended, pid [0-9]*: exit status 0" ||
    fail "the config role's end was not logged"

for r in api; do
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

# a new config role parses the reload, then ends as well
kill -HUP "$NS_INIT"
wait_for 5 log_has "configuration generation 2 loaded" ||
    fail "reload without a config role failed"
wait_for 5 no_config || fail "the config role outlived the reload"
[ "$(log_count 'config ended, pid')" -eq 2 ] ||
    fail "expected two config roles, each ended"
log_has "config (pid [0-9]*) died" && fail "a config role crashed"
after="$(instance_pid s-0) $(instance_pid s-1)"
[ "$before" = "$after" ] || fail "an unchanged reload restarted services"
stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS"
echo ok
