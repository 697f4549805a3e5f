#!/bin/sh
# The role processes run under their titles (the config role only
# while it parses: 04-role-kill.sh), and the configured services run
# with phpeek-pm's instance names and environment.
. "$(dirname "$0")/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
processes:
  web:
    enabled: true
    scale: 2
    command: ["sleep", "1000"]
  worker:
    enabled: true
    command: ["sh", "-c", "echo worker up; exec sleep 1000"]
YAML
start_phpeekd "$T/conf.yaml"

case "$(cmdline "$NS_INIT")" in
"phpeekd: parent"*) ;;
*) fail "PID 1 is titled '$(cmdline "$NS_INIT")'" ;;
esac
for r in engine api; do
	role_pid "$r" >/dev/null || fail "no 'phpeekd: $r' process"
done
for i in web-0 web-1 worker-0; do
	wait_for 5 instance_pid "$i" >/dev/null || fail "instance $i not running"
done
# pid 1 inside the namespace
grep -q '^NSpid:.*[[:space:]]1$' "/proc/$NS_INIT/status" ||
    fail "phpeekd is not PID 1 of its namespace"
wait_for 5 grep -q 'instance_id=worker-0 stream=stdout msg="worker up"' \
    "$T/out" || fail "worker's output not labelled on stdout"
stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS after SIGTERM"
echo ok
