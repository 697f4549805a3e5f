#!/bin/sh
# Every role runs sandboxed: seccomp in filter mode, no_new_privs, and
# the expected uid and capabilities: none for config and api, only
# CAP_SYS_PTRACE (other users' /proc) for the engine; the api as
# nobody, chrooted to an empty directory.  The services run with none
# of it.  The config role runs while it holds a change made through the
# API, long enough to be looked at.
. "$(dirname "$0")/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
processes:
  svc:
    enabled: true
    command: ["sleep", "1000"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 5 instance_pid svc-0 >/dev/null || fail "svc-0 not running"
wait_for 5 test -S "$T/ctl.sock" || fail "no control socket"
[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/ctl.sock" \
    -d '{"name":"extra","process":{"enabled":true,"command":["sleep","1001"]}}' \
    http://x/api/v1/processes)" = 201 ] || fail "cannot add a process"

field() {
	awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"
}
check() {
	_p=$(role_pid "$1") || fail "no $1 role"
	[ "$(field "$_p" Seccomp)" = 2 ] || fail "$1: Seccomp $(field "$_p" Seccomp)"
	[ "$(field "$_p" NoNewPrivs)" = 1 ] || fail "$1: no NoNewPrivs"
	[ "$(field "$_p" Uid)" = "$2" ] || fail "$1: uid $(field "$_p" Uid), expected $2"
	[ "$(field "$_p" CapEff)" = "$3" ] || fail "$1: CapEff $(field "$_p" CapEff), expected $3"
	[ "$(field "$_p" CapBnd)" = "$4" ] || fail "$1: CapBnd $(field "$_p" CapBnd), expected $4"
}
check config 0 0000000000000000 0000000000000000
check engine 0 0000000000080000 0000000000080000
check api 65534 0000000000000000 0000000000000000
api=$(role_pid api)
[ "$(readlink "/proc/$api/root")" = /run/phpeekd-empty ] ||
    fail "api not chrooted: $(readlink "/proc/$api/root")"
[ -z "$(ls -A /run/phpeekd-empty)" ] || fail "the api's root is not empty"

# the parent carries no filter: the services must not inherit one
svc=$(instance_pid svc-0)
[ "$(field "$svc" Seccomp)" = 0 ] || fail "a service inherited seccomp"
[ "$(field "$svc" NoNewPrivs)" = 0 ] || fail "a service has NoNewPrivs"
stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS"
echo ok
