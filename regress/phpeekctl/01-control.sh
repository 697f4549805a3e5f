#!/bin/sh
# phpeekctl over the control socket: status, show, stop (returns once
# the instances are gone), start, restart (new pids), scale up and
# down, signal, logs, check, metrics, a reload with a broken file, and
# its exit statuses.
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
printf '%s\n' "$out" | grep -q '^NAME  *TYPE  *STATE  *SCALE  *RESTARTS$' ||
    fail "status header: $out"
printf '%s\n' "$out" | grep -q '^web  *longrun  *running  *2/2  *0$' ||
    fail "status: $out"
for i in 0 1; do
	printf '%s\n' "$out" |
	    grep -q "^  web-$i  *running  *[0-9][0-9]*  *0m[0-9][0-9]s$" ||
	    fail "status of web-$i: $out"
done
$CTL -j status | grep -q '^{"processes":\[{"name":"web",' ||
    fail "status -j: $($CTL -j status)"
out=$($CTL show web) || fail "show failed"
printf '%s\n' "$out" | grep -q "^command  *sh -c 'trap" || fail "show: $out"
printf '%s\n' "$out" | grep -q '^  web-1  *running' || fail "show: $out"
$CTL check >/dev/null || fail "check: not ready with everything running"
$CTL metrics | grep -q '^phpeek_pm_process_up{name="web",instance="web-1"} 1$' ||
    fail "metrics over the socket"

$CTL stop web >/dev/null || fail "stop failed"
! instance_pid web-0 >/dev/null || fail "web-0 still runs after stop returned"
! instance_pid web-1 >/dev/null || fail "web-1 still runs after stop returned"
$CTL check >"$T/check.out"
[ $? -eq 1 ] || fail "check: ready with web stopped"
grep -q '^  web  *NOT READY  *stopped  *0/2 ready$' "$T/check.out" || fail "check: $(cat "$T/check.out")"
$CTL start web >/dev/null || fail "start failed"
wait_for 5 instance_pid web-1 >/dev/null || fail "web-1 not started"

old=$(instance_pid web-0)
$CTL restart web >/dev/null || fail "restart failed"
new=$(instance_pid web-0) || fail "web-0 not running after restart returned"
[ "$old" != "$new" ] || fail "restart kept pid $old"

$CTL scale web 3 >/dev/null || fail "scale 3 failed"
wait_for 5 instance_pid web-2 >/dev/null || fail "web-2 not started"
$CTL scale web 1 >/dev/null || fail "scale 1 failed"
gone() {
	! instance_pid web-1 >/dev/null && ! instance_pid web-2 >/dev/null
}
wait_for 5 gone || fail "scale down left instances"
instance_pid web-0 >/dev/null || fail "scale down stopped web-0"
$CTL scale web +2 >/dev/null || fail "scale +2 failed"
wait_for 5 instance_pid web-2 >/dev/null || fail "scale +2: no web-2"
$CTL scale web -2 >/dev/null || fail "scale -2 failed"
wait_for 5 gone || fail "scale -2 left instances"
$CTL scale web 0 >/dev/null 2>&1
[ $? -eq 1 ] || fail "scale to 0 without a delta was not refused"

$CTL signal web HUP >/dev/null || fail "signal failed"
wait_for 5 test -e "$T/hup.web-0" || fail "web-0 did not get SIGHUP"
$CTL logs -n 10 web | grep -q 'web-0 stdout hello from web-0' ||
    fail "logs do not show web-0's line"

# refused requests: exit 1 with the daemon's message
msg=$($CTL start nope 2>&1)
[ $? -eq 1 ] || fail "start of an unknown process did not exit 1"
[ "$msg" = "phpeekctl: process nope not found" ] || fail "message: $msg"
cp "$T/conf.yaml" "$T/good.yaml"
printf 'processes:\n  web:\n    command: oops\n' >"$T/conf.yaml"
msg=$($CTL reload 2>&1)
[ $? -eq 1 ] || fail "a broken reload did not exit 1"
case "$msg" in
"phpeekctl: $T/conf.yaml:3:14: processes.web.command must be a list"*) ;;
*) fail "reload message: $msg" ;;
esac
[ "$(printf '%s\n' "$msg" | wc -l)" -eq 1 ] || fail "reload message: $msg"
instance_pid web-0 >/dev/null || fail "a broken reload stopped web-0"
cp "$T/good.yaml" "$T/conf.yaml"
$CTL reload >/dev/null || fail "a good reload failed"

# usage and an absent daemon
for args in frobnicate "" "stop" "stop a b" "scale web" "scale web x" \
    "scale web 1001" "signal web" "-x status" "logs -n 0 web"; do
	# shellcheck disable=SC2086
	$CTL $args >/dev/null 2>&1
	[ $? -eq 2 ] || fail "bad usage '$args' did not exit 2"
done
"$TOP/phpeekctl/phpeekctl" -s "$T/none.sock" status 2>"$T/ctl.err"
[ $? -eq 3 ] || fail "an absent daemon did not exit 3"
[ "$(cat "$T/ctl.err")" = "phpeekctl: cannot reach phpeekd at $T/none.sock: No such file or directory" ] ||
    fail "no reason: $(cat "$T/ctl.err")"
PHPEEKD_SOCKET="$T/none.sock" "$TOP/phpeekctl/phpeekctl" status 2>/dev/null
[ $? -eq 3 ] || fail "PHPEEKD_SOCKET is not used"
stop_phpeekd
[ ! -e "$T/ctl.sock" ] || fail "the control socket was left behind"
echo ok
