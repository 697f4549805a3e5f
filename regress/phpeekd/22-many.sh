#!/bin/sh
# 200 processes and one process at scale 100: the configuration loads
# (large enough that glibc's qsort asks for sysinfo inside the config
# role's sandbox) and all 300 instances run.
. "$(dirname "$0")/lib.sh"

{
	echo "global:"
	echo "  log_format: text"
	echo "  log_level: warn"
	echo "processes:"
	i=0
	while [ $i -lt 200 ]; do
		echo "  p$i: {enabled: true, command: [sleep, \"1000$i\"]}"
		i=$((i + 1))
	done
	echo "  wide: {enabled: true, scale: 100, command: [sleep, \"2000\"]}"
} >"$T/conf.yaml"
unshare --pid --fork --mount-proc "$PHPEEKD" -f "$T/conf.yaml" \
    >"$T/out" 2>"$T/err" &
UNSHARE_PID=$!
wait_for 5 find_ns_init || fail "phpeekd did not start"
all_run() {
	[ "$(pids_of 'sleep *' | wc -l)" -ge 300 ]
}
wait_for 20 all_run || fail "only $(pids_of 'sleep *' | wc -l) of 300 run"
stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS"
echo ok
