#!/bin/sh
# Services that say when they are ready: Debian's php-fpm over
# sd_notify (NOTIFY_SOCKET, READY=1) and an s6-style service writing a
# newline to its notification fd.  Their dependants start only then.
. "$(dirname "$0")/lib.sh"

fpm_conf 19072 1
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
processes:
  php-fpm:
    enabled: true
    readiness: notify
    command: ["$FPM", "-F", "-R", "-y", "$T/fpm.conf"]
  after-fpm:
    enabled: true
    depends_on: [php-fpm]
    command: ["sleep", "1000"]
  s6style:
    enabled: true
    readiness: fd 5
    command: ["sh", "-c", "read x < $T/go; echo >&5; exec sleep 1000"]
  after-s6:
    enabled: true
    depends_on: [s6style]
    command: ["sleep", "1001"]
YAML
mkfifo "$T/go"
start_phpeekd "$T/conf.yaml"
wait_for 10 log_has "php-fpm-0: ready (it says so)" ||
    fail "php-fpm never sent READY=1"
wait_for 5 instance_pid after-fpm-0 >/dev/null || fail "after-fpm not started"
r=$(grep -n "php-fpm-0: ready (it says so)" "$T/err" | cut -d: -f1)
a=$(grep -n "after-fpm-0: stopped -> starting" "$T/err" | cut -d: -f1)
[ "$r" -lt "$a" ] || fail "after-fpm started before php-fpm was ready"

# s6style runs but has not said it is ready: its dependant waits
wait_for 5 instance_pid s6style-0 >/dev/null || fail "s6style not running"
! instance_pid after-s6-0 >/dev/null || fail "after-s6 started too early"
echo go >"$T/go"
wait_for 5 log_has "s6style-0: ready (it says so)" ||
    fail "the notification fd was not read"
wait_for 5 instance_pid after-s6-0 >/dev/null || fail "after-s6 not started"
# the notification fd reached the service on the number it asked for
p=$(instance_pid s6style-0)
[ "$(ls /proc/$p/fd | sort -n | tr '\n' ' ')" = "0 1 2 5 " ] ||
    fail "s6style fds: $(ls /proc/$p/fd | tr '\n' ' ')"
stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS"
echo ok
