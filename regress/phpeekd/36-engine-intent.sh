#!/bin/sh
# What the operator asked at run time survives a crash of the engine:
# a process scaled through the API keeps that scale, one stopped
# through the API stays stopped, an instance waiting in backoff at the
# crash is started, and the readiness file does not flicker.
. "$(dirname "$0")/lib.sh"

CTL="$TOP/phpeekctl/phpeekctl -s $T/ctl.sock"
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
  api_port: 0
  metrics_enabled: false
  restart_backoff_initial: 30s
  restart_backoff_max: 30s
  readiness:
    enabled: true
    path: $T/ready
    processes: [w]
processes:
  w:
    enabled: true
    scale: 3
    command: ["sleep", "1000"]
  h:
    enabled: true
    command: ["sleep", "1001"]
  b:
    enabled: true
    command: ["sleep", "1002"]
YAML
start_phpeekd "$T/conf.yaml"
for i in w-0 w-1 w-2 h-0 b-0; do
	wait_for 5 instance_pid "$i" >/dev/null || fail "$i not running"
done
$CTL scale w 2 >/dev/null || fail "scale w 2"
wait_for 5 sh -c "! kill -0 $(instance_pid w-2) 2>/dev/null" ||
    fail "w-2 still running after scale 2"
$CTL stop h >/dev/null || fail "stop h"
# b-0 ends and waits 30 s in backoff when the engine dies
kill "$(instance_pid b-0)"
wait_for 5 log_has "b-0: running -> backoff" || fail "b-0 not in backoff"
wait_for 5 test -f "$T/ready" || fail "no readiness file"
before="$(instance_pid w-0) $(instance_pid w-1)"

# the log from here on
since=$(($(wc -l <"$T/err") + 1))
later_has() {
	tail -n +"$since" "$T/err" | grep -q -- "$1"
}
old=$(role_pid engine)
kill -9 "$old"
wait_for 5 log_has "engine started: 2 running instances adopted" ||
    fail "the new engine did not adopt w-0 and w-1"
after="$(instance_pid w-0) $(instance_pid w-1)"
[ "$before" = "$after" ] || fail "w restarted: $before -> $after"
# the new engine starts what it starts at once, before its log line
! later_has "h-0: stopped -> starting" ||
    fail "h, stopped through the API, was started again"
! later_has "w-2: stopped -> starting" || fail "w was scaled back to 3"
wait_for 5 instance_pid b-0 >/dev/null ||
    fail "b-0, in backoff at the crash, was not started"

# the new engine's own count: a restart keeps 2, a relative scale
# counts from 2
$CTL restart w >/dev/null || fail "restart w"
$CTL -j status >"$T/st.json" || fail "status"
[ "$(jq -r '.processes[] | select(.name == "w") | .desired_scale' "$T/st.json")" = 2 ] ||
    fail "desired after the crash: $(cat "$T/st.json")"
! instance_pid w-2 >/dev/null || fail "restart w started w-2"
$CTL scale w +1 >/dev/null || fail "scale w +1"
wait_for 5 instance_pid w-2 >/dev/null || fail "scale +1 did not give 3"

# the file went away only for the restart of w, once
[ "$(log_count "readiness: not ready")" -eq 1 ] ||
    fail "readiness changed with the engine: $(grep readiness "$T/err")"
wait_for 5 test -f "$T/ready" || fail "no readiness file at the end"

# a second crash remembers the second scale
kill -9 "$(role_pid engine)"
wait_for 5 log_has "engine started: 4 running instances adopted" ||
    fail "the third engine did not adopt w-0..2 and b-0"
! instance_pid h-0 >/dev/null || fail "h started by the third engine"
stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS"
echo ok
