#!/bin/sh
# Fault injection under load: API calls and reloads in a loop (each
# reload a config role that comes and goes), a service crashing and
# restarting, a one-shot that ends in the middle, and kill -9 of the
# engine and the api in turn, twice.  No exit event is lost (the crasher keeps
# restarting), nothing restarts outside its policy (the one-shot runs
# once), running services keep their pids, and no zombie is left.
. "$(dirname "$0")/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
  api_port: 19185
  metrics_port: 19095
  restart_backoff_initial: 100ms
  restart_backoff_max: 100ms
  max_restart_attempts: -1
processes:
  flap:
    enabled: true
    command: ["sh", "-c", "echo start >>$T/flap.log; sleep 0.3; exit 1"]
  once:
    enabled: true
    restart: never
    command: ["sh", "-c", "echo run >>$T/once.log; sleep 1.5; exit 0"]
  steady:
    enabled: true
    scale: 3
    command: ["sleep", "1000"]
YAML
start_phpeekd "$T/conf.yaml"
for i in 0 1 2; do
	wait_for 5 instance_pid "steady-$i" >/dev/null || fail "steady-$i"
done
steady="$(instance_pid steady-0) $(instance_pid steady-1) $(instance_pid steady-2)"

# load: the API and reloads, all the time
(while [ -d "$T" ] && [ ! -e "$T/stop" ]; do
	curl -s --max-time 2 --unix-socket "$T/ctl.sock" \
	    http://x/api/v1/processes >/dev/null
	curl -s --max-time 2 --unix-socket "$T/ctl.sock" -X POST \
	    http://x/api/v1/config/reload >/dev/null
done) &
LOAD=$!

for role in engine api engine api; do
	old=$(role_pid "$role") || fail "no $role"
	n=$(log_count "$role restarted, pid")
	kill -9 "$old"
	back() {
		_p=$(role_pid "$role") && [ "$_p" != "$old" ] &&
		    [ "$(log_count "$role restarted, pid")" -gt "$n" ]
	}
	wait_for 5 back || fail "$role not restarted"
done
touch "$T/stop"
wait $LOAD

# once ended during the chaos, exactly once
ended() {
	! instance_pid once-0 >/dev/null
}
wait_for 5 ended || fail "once still runs"
[ "$(wc -l <"$T/once.log")" -eq 1 ] ||
    fail "once ran $(wc -l <"$T/once.log") times"
# flap still restarts: no exit was lost
n=$(wc -l <"$T/flap.log")
more() {
	[ "$(wc -l <"$T/flap.log")" -gt "$((n + 1))" ]
}
wait_for 5 more || fail "flap stopped restarting after the chaos"
[ "$(instance_pid steady-0) $(instance_pid steady-1) $(instance_pid steady-2)" = "$steady" ] ||
    fail "steady instances were restarted"
[ -z "$(zombies)" ] || fail "zombies: $(zombies)"
stop_phpeekd
echo ok
