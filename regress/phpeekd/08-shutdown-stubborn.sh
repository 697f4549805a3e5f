#!/bin/sh
# A service that ignores SIGTERM: phpeekd still ends within
# shutdown_timeout + 1 s, SIGKILLs it and exits non-zero.
. "$(dirname "$0")/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  shutdown_timeout: 2
processes:
  stubborn:
    enabled: true
    command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"]
    shutdown:
      timeout: 60
  fine:
    enabled: true
    command: ["sleep", "1000"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 5 instance_pid stubborn-0 >/dev/null || fail "stubborn not running"
wait_for 5 instance_pid fine-0 >/dev/null || fail "fine not running"
start=$(date +%s%N)
stop_phpeekd TERM
elapsed=$((($(date +%s%N) - start) / 1000000))
[ "$EXIT_STATUS" -ne 0 ] || fail "exit status 0 although SIGKILL was needed"
[ "$elapsed" -lt 3000 ] || fail "shutdown took ${elapsed}ms (> timeout + 1 s)"
[ "$elapsed" -ge 1900 ] || fail "shutdown took ${elapsed}ms: timeout not honoured"
log_has "stubborn-0: shutdown_timeout reached, sending SIGKILL" ||
    fail "the SIGKILL was not logged"
log_has "fine-0: stopping -> stopped (killed by SIGTERM)" ||
    fail "fine-0 not stopped by SIGTERM"
echo ok
