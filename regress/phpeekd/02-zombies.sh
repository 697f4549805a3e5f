#!/bin/sh
# A service that double-forks 1000 short-lived children: every orphan
# is re-parented to phpeekd and reaped; none is left a zombie.
. "$(dirname "$0")/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
processes:
  forker:
    enabled: true
    command: ["sh", "-c", "i=0; while [ \$i -lt 1000 ]; do (sleep 0.01 &); i=\$((i+1)); done; touch $T/forked; exec sleep 1000"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 60 test -e "$T/forked" || fail "the service did not finish forking"

no_orphans_left() {
	[ -z "$(zombies)" ] && [ -z "$(pids_of 'sleep 0.01*')" ]
}
wait_for 1 no_orphans_left ||
    fail "1 s after forking: zombies: $(zombies | wc -l), sleeps: $(pids_of 'sleep 0.01*' | wc -l)"
stop_phpeekd
echo ok
