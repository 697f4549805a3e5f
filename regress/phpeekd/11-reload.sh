#!/bin/sh
# SIGHUP applies a new generation by restarting only what changed,
# starting what was added and stopping what was removed; an invalid
# file is reported with file:line:column and the running configuration
# is kept, with nothing restarted.
. "$(dirname "$0")/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
processes:
  keep:
    enabled: true
    command: ["sleep", "1000"]
  change:
    enabled: true
    command: ["sleep", "1001"]
  remove:
    enabled: true
    command: ["sleep", "1002"]
YAML
start_phpeekd "$T/conf.yaml"
for i in keep-0 change-0 remove-0; do
	wait_for 5 instance_pid "$i" >/dev/null || fail "$i not running"
done
keep=$(instance_pid keep-0)
change=$(instance_pid change-0)

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
processes:
  keep:
    enabled: true
    command: ["sleep", "1000"]
  change:
    enabled: true
    command: ["sleep", "2001"]
  added:
    enabled: true
    command: ["sleep", "1003"]
YAML
kill -HUP "$NS_INIT"
wait_for 5 log_has "configuration generation 2 applied" || fail "no reload"
changed() {
	_p=$(instance_pid change-0) && [ "$_p" != "$change" ]
}
wait_for 5 changed || fail "the changed process was not restarted"
wait_for 5 instance_pid added-0 >/dev/null || fail "added-0 not started"
gone() {
	! instance_pid remove-0 >/dev/null
}
wait_for 5 gone || fail "remove-0 still running"
[ "$(instance_pid keep-0)" = "$keep" ] || fail "unchanged keep-0 restarted"

# a broken file: the error names file:line:column, nothing changes
before="$(instance_pid keep-0) $(instance_pid change-0) $(instance_pid added-0)"
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
processes:
  keep:
    enabled: true
    command: ["sleep", "1000"]
    scale: lots
YAML
kill -HUP "$NS_INIT"
wait_for 5 log_has "reload failed: keeping configuration generation 2" ||
    fail "the failed reload was not reported"
log_has "conf.yaml:7:12: error: processes.keep.scale: expected an integer" ||
    fail "the error does not name file:line:column"
after="$(instance_pid keep-0) $(instance_pid change-0) $(instance_pid added-0)"
[ "$before" = "$after" ] || fail "a failed reload changed processes"
stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS"
echo ok
