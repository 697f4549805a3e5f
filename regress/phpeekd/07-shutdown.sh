#!/bin/sh
# SIGTERM to phpeekd ends every process in the namespace and exits 0;
# the services see their stop signal.
. "$(dirname "$0")/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  shutdown_timeout: 10
processes:
  polite:
    enabled: true
    scale: 3
    command: ["sh", "-c", "trap 'echo got TERM; exit 0' TERM; while :; do sleep 0.1; done"]
  pipeline:
    enabled: true
    command: ["sh", "-c", "sleep 1000 | cat"]
YAML
start_phpeekd "$T/conf.yaml"
for i in polite-0 polite-1 polite-2 pipeline-0; do
	wait_for 5 instance_pid "$i" >/dev/null || fail "$i not running"
done
start=$(date +%s%N)
stop_phpeekd TERM
elapsed=$((($(date +%s%N) - start) / 1000000))
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS, expected 0"
[ "$(grep -c 'msg="got TERM"' "$T/out")" -eq 3 ] ||
    fail "not every instance logged its SIGTERM"
log_has "all processes stopped" || fail "no orderly stop logged"
[ "$elapsed" -lt 5000 ] || fail "clean shutdown took ${elapsed}ms"
echo ok
