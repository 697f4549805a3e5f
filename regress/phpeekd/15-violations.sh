#!/bin/sh
# Each role, made to attempt what it may not (a trigger built into
# phpeekd-regress only), is killed by its seccomp filter: execve, open
# and connect for config and api; execve and fork for the engine, which
# opens /proc and connects for health checks by design.  The
# parent logs the violation, with the system call's name under -vv,
# and restarts the role; the services run on untouched.  A role that
# sends a malformed message is killed and restarted, and only it.
. "$(dirname "$0")/lib.sh"

PHPEEKD=$TOP/phpeekd/phpeekd-regress
EXPECT_VIOLATIONS=1
[ -x "$PHPEEKD" ] || fail "phpeekd-regress is not built"
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
processes:
  svc:
    enabled: true
    command: ["sleep", "1000"]
YAML

for rc in config:execve config:open config:connect engine:execve \
    engine:fork api:execve api:open api:connect; do
	role=${rc%%:*}
	call=${rc#*:}
	{
		PHPEEKD_REGRESS_VIOLATE="$role:$call" start_phpeekd \
		    "$T/conf.yaml" -vv
		wait_for 5 log_has "$role (pid [0-9]*) died: sandbox violation (killed by SIGSYS)" ||
		    fail "$role: $call was not killed by seccomp"
		log_has "regress: $call was allowed" &&
		    fail "$role: $call was allowed"
		case $call in
		execve) nr=execve ;;
		open) nr=openat ;;
		connect) nr='socket\|connect' ;;
		fork) nr=clone ;;
		esac
		grep -q "sandbox violation in $role: syscall [0-9]* ($nr)" "$T/err" ||
		    fail "$role: the refused syscall was not named"
		wait_for 5 log_has "$role restarted, pid" ||
		    fail "$role was not restarted"
		wait_for 5 instance_pid svc-0 >/dev/null || fail "svc-0 not running"
		pid=$(instance_pid svc-0)
		stop_phpeekd
		[ "$EXIT_STATUS" -eq 0 ] ||
		    fail "$role/$call: exit status $EXIT_STATUS"
		: >"$T/err"
	}
done

# a malformed message kills only its sender
for role in config engine api; do
	PHPEEKD_REGRESS_VIOLATE="$role:garbage" start_phpeekd "$T/conf.yaml"
	wait_for 5 log_has "$role: unexpected message" ||
	    fail "$role's garbage was not refused"
	wait_for 5 log_has "$role (pid [0-9]*) died: killed by SIGKILL" ||
	    fail "$role was not killed for its garbage"
	wait_for 5 log_has "$role restarted, pid" || fail "$role not restarted"
	wait_for 5 instance_pid svc-0 >/dev/null || fail "svc-0 not running"
	for other in config engine api; do
		[ $other = $role ] && continue
		[ "$(log_count "$other (pid")" -eq 0 ] ||
		    fail "$other died for $role's garbage"
	done
	stop_phpeekd
	[ "$EXIT_STATUS" -eq 0 ] || fail "$role garbage: exit $EXIT_STATUS"
	: >"$T/err"
done
echo ok
