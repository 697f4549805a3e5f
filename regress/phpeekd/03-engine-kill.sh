#!/bin/sh
# kill -9 of the engine: the services keep running with the same pids,
# a new engine adopts them, and a service that exits afterwards is
# still restarted by its policy.
. "$(dirname "$0")/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  restart_backoff_initial: 100ms
processes:
  a:
    enabled: true
    scale: 2
    command: ["sleep", "1000"]
  b:
    enabled: true
    command: ["sh", "-c", "echo b says hello; exec sleep 1000"]
YAML
start_phpeekd "$T/conf.yaml"
for i in a-0 a-1 b-0; do
	wait_for 5 instance_pid "$i" >/dev/null || fail "$i not running"
done
before="$(instance_pid a-0) $(instance_pid a-1) $(instance_pid b-0)"
old=$(role_pid engine)
kill -9 "$old"

new_engine() {
	_p=$(role_pid engine) && [ "$_p" != "$old" ]
}
wait_for 5 new_engine || fail "engine not restarted"
wait_for 5 log_has "b-0: adopted running instance" ||
    fail "the new engine did not adopt b-0"
after="$(instance_pid a-0) $(instance_pid a-1) $(instance_pid b-0)"
[ "$before" = "$after" ] || fail "service pids changed: $before -> $after"
log_has "engine (pid [0-9]*) died: killed by SIGKILL" ||
    fail "the engine's death was not logged with its cause"

# a service that exits now is restarted by the new engine
victim=$(instance_pid b-0)
kill "$victim"
restarted() {
	_p=$(instance_pid b-0) && [ "$_p" != "$victim" ]
}
wait_for 5 restarted || fail "b-0 was not restarted after the engine crash"
# and its output still reaches stdout through the new engine
wait_for 5 sh -c "[ \$(grep -c 'msg=\"b says hello\"' '$T/out') -ge 2 ]" ||
    fail "output of the restarted b-0 not logged"
stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS"
echo ok
