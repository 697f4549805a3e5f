#!/bin/sh
# phpeekctl over the control socket: status, stop (returns once the
# instances are gone), start, restart (new pids), scale up and down,
# signal, logs, a reload with a broken file, and its exit statuses.
. "$(dirname "$0")/../phpeekd/lib.sh"

CTL="$TOP/phpeekctl/phpeekctl -s $T/ctl.sock"
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
  api_port: 19181
  metrics_port: 19091
processes:
  web:
    enabled: true
    scale: 2
    command: ["sh", "-c", "trap 'touch $T/hup.\$PHPEEK_PM_INSTANCE_ID' HUP; echo hello from \$PHPEEK_PM_INSTANCE_ID; while :; do sleep 0.1; done"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 5 test -S "$T/ctl.sock" || fail "no control socket"
[ "$(stat -c %a "$T/ctl.sock")" = 660 ] || fail "socket mode $(stat -c %a "$T/ctl.sock")"
wait_for 5 instance_pid web-1 >/dev/null || fail "web-1 not running"

out=$($CTL status) || fail "status failed"
printf '%s\n' "$out" | grep -q '^web .*running .*2/2' || fail "status: $out"
printf '%s\n' "$out" | grep -q 'web-1 *running *pid' || fail "status: $out"

$CTL stop web >/dev/null || fail "stop failed"
! instance_pid web-0 >/dev/null || fail "web-0 still runs after stop returned"
! instance_pid web-1 >/dev/null || fail "web-1 still runs after stop returned"
$CTL start web >/dev/null || fail "start failed"
wait_for 5 instance_pid web-1 >/dev/null || fail "web-1 not started"

old=$(instance_pid web-0)
$CTL restart web >/dev/null || fail "restart failed"
new=$(instance_pid web-0) || fail "web-0 not running after restart returned"
[ "$old" != "$new" ] || fail "restart kept pid $old"

$CTL scale web 3 >/dev/null || fail "scale 3 failed"
wait_for 5 instance_pid web-2 >/dev/null || fail "web-2 not started"
$CTL scale web -2 >/dev/null || fail "scale -2 failed"
gone() {
	! instance_pid web-1 >/dev/null && ! instance_pid web-2 >/dev/null
}
wait_for 5 gone || fail "scale down left instances"
instance_pid web-0 >/dev/null || fail "scale down stopped web-0"

$CTL signal web HUP >/dev/null || fail "signal failed"
wait_for 5 test -e "$T/hup.web-0" || fail "web-0 did not get SIGHUP"
$CTL logs -n 10 web | grep -q 'web-0 stdout hello from web-0' ||
    fail "logs do not show web-0's line"

# refused requests: exit 1 with the daemon's message
msg=$($CTL start nope 2>&1)
[ $? -eq 1 ] || fail "start of an unknown process did not exit 1"
printf '%s\n' "$msg" | grep -q 'process nope not found' || fail "message: $msg"
printf 'processes:\n  web:\n    command: oops\n' >"$T/conf.yaml"
msg=$($CTL reload 2>&1)
[ $? -eq 1 ] || fail "a broken reload did not exit 1"
printf '%s\n' "$msg" | grep -q 'conf.yaml:3:14: processes.web.command must be a list' ||
    fail "reload message: $msg"
instance_pid web-0 >/dev/null || fail "a broken reload stopped web-0"

# usage and an absent daemon
$CTL frobnicate >/dev/null 2>&1
[ $? -eq 2 ] || fail "bad usage did not exit 2"
"$TOP/phpeekctl/phpeekctl" -s "$T/none.sock" status 2>"$T/ctl.err"
[ $? -eq 3 ] || fail "an absent daemon did not exit 3"
grep -q "cannot reach phpeekd at $T/none.sock" "$T/ctl.err" ||
    fail "no reason: $(cat "$T/ctl.err")"
stop_phpeekd
[ ! -e "$T/ctl.sock" ] || fail "the control socket was left behind"
echo ok
