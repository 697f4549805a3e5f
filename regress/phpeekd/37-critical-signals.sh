#!/bin/sh
# Signals the container gets go where global.signal_routes says:
# SIGUSR2 to php-fpm, which reloads its workers without going away,
# SIGUSR1 to nginx, which reopens its log, SIGHUP to a service instead
# of reloading phpeekd; and a process whose end is critical
# (on_failure, on_success: shutdown) stops the container with its exit
# status, while one without goes on failing alone.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/public"
echo '<?php echo "hello\n";' >"$T/public/index.php"
chmod 755 "$T" "$T/public"
chmod 644 "$T/public/index.php"
fpm_conf 19077 2
nginx_conf <<CONF
	server {
		listen 127.0.0.1:18083;
		access_log $T/access.log;
		root $T/public;
		location / {
			include /etc/nginx/fastcgi_params;
			fastcgi_param SCRIPT_FILENAME \$document_root/index.php;
			fastcgi_pass 127.0.0.1:19077;
		}
	}
CONF
mkfifo "$T/fifo"
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  shutdown_timeout: 10
  api_socket: $T/ctl.sock
  api_port: 0
  metrics_enabled: false
  signal_routes:
    SIGUSR2: [php-fpm]
    USR1: [nginx]
    SIGHUP: [hupper]
processes:
  php-fpm:
    enabled: true
    command: ["$FPM", "-F", "-R", "-y", "$T/fpm.conf"]
    shutdown:
      signal: SIGQUIT
  nginx:
    enabled: true
    depends_on: [php-fpm]
    command: ["/usr/sbin/nginx", "-c", "$T/nginx.conf"]
  hupper:
    enabled: true
    command: ["sh", "-c", "trap 'echo hup >>$T/hup' HUP; trap 'echo usr1 >>$T/usr1' USR1; while :; do sleep 1 & wait; done"]
  gate:
    enabled: true
    restart: never
    on_failure: shutdown
    depends_on: [nginx]
    command: ["sh", "-c", "read x <$T/fifo; exit 3"]
YAML
start_phpeekd "$T/conf.yaml"
# php-fpm's and nginx's titles overwrite their environment: the log
for i in php-fpm-0 nginx-0 hupper-0 gate-0; do
	wait_for 10 log_has "$i: starting -> running" || fail "$i not running"
done
wait_for 10 curl -sf -o /dev/null http://127.0.0.1:18083/ ||
    fail "nginx and php-fpm do not serve"

# SIGUSR2: php-fpm's master reloads, same pid, new workers
fpm=$(pids_of "php-fpm: master*")
[ -n "$fpm" ] || fail "no php-fpm master"
workers() {
	pgrep -P "$fpm" | sort | tr '\n' ' '
}
wait_for 5 sh -c "[ \$(pgrep -c -P $fpm) -eq 2 ]" || fail "no fpm workers"
before=$(workers)
kill -USR2 "$NS_INIT"
wait_for 5 log_has "SIGUSR2: sent to php-fpm-0 (pid" ||
    fail "SIGUSR2 not routed"
renewed() {
	_w=$(workers)
	[ "$(echo "$_w" | wc -w)" -eq 2 ] && [ "$_w" != "$before" ] &&
	    for _p in $before; do ! kill -0 "$_p" 2>/dev/null || return 1; done
}
wait_for 10 renewed || fail "php-fpm workers not renewed: $before / $(workers)"
[ "$(pids_of "php-fpm: master*")" = "$fpm" ] ||
    fail "php-fpm's master changed"
! log_has "php-fpm-0: running ->" || fail "phpeekd saw php-fpm end"
wait_for 10 curl -sf -o /dev/null http://127.0.0.1:18083/ ||
    fail "php-fpm does not serve after its reload"

# through the API, to the master alone: its workers live on
before=$(workers)
"$TOP/phpeekctl/phpeekctl" -s "$T/ctl.sock" signal php-fpm USR1 >/dev/null ||
    fail "phpeekctl signal"
wait_for 5 grep -q "re-opened" "$T/out" || fail "php-fpm did not reopen its log"
[ "$(workers)" = "$before" ] ||
    fail "USR1 through the API killed php-fpm's workers: $before / $(workers)"

# SIGUSR1: nginx reopens its access log; the others do not hear it
mv "$T/access.log" "$T/access.log.1"
kill -USR1 "$NS_INIT"
wait_for 5 log_has "SIGUSR1: sent to nginx-0 (pid" || fail "SIGUSR1 not routed"
wait_for 5 test -f "$T/access.log" || fail "nginx did not reopen its log"
curl -sf -o /dev/null http://127.0.0.1:18083/ || fail "request"
wait_for 5 test -s "$T/access.log" || fail "nothing logged after reopening"
[ ! -e "$T/usr1" ] || fail "SIGUSR1 reached hupper"

# SIGHUP goes to hupper and reloads nothing
kill -HUP "$NS_INIT"
wait_for 5 test -s "$T/hup" || fail "SIGHUP did not reach hupper"
log_has "SIGHUP: sent to hupper-0 (pid" || fail "SIGHUP route not logged"
! log_has "SIGHUP: reloading" || fail "SIGHUP also reloaded the config"

# gate fails: the container stops, in order, with gate's status
echo go >"$T/fifo"
stop_wait() {
	wait "$UNSHARE_PID"
	EXIT_STATUS=$?
}
stop_wait
[ "$EXIT_STATUS" -eq 3 ] || fail "exit status $EXIT_STATUS, expected gate's 3"
log_has "gate-0: on_failure is shutdown: stopping the container, exit status 3" ||
    fail "the reason was not logged"
log_has "all processes stopped" || fail "not a graceful shutdown"
! log_has "sending SIGKILL" || fail "a process needed SIGKILL"
n=$(grep -n "nginx-0: running -> stopping" "$T/err" | cut -d: -f1)
f=$(grep -n "php-fpm-0: running -> stopping" "$T/err" | cut -d: -f1)
[ -n "$n" ] && [ -n "$f" ] && [ "$n" -lt "$f" ] ||
    fail "nginx was not stopped before php-fpm"
UNSHARE_PID=
NS_INIT=

# run CONFIG: phpeekd until it exits by itself; its status in EXIT_STATUS
run() {
	timeout 60 unshare --pid --fork --mount-proc "$PHPEEKD" -d -f "$1" \
	    >"$T/out" 2>"$T/err"
	EXIT_STATUS=$?
}

# a one-shot that completes ends a job container with status 0
cat >"$T/job.yaml" <<YAML
global:
  log_format: text
processes:
  job:
    enabled: true
    type: oneshot
    restart: never
    on_success: shutdown
    command: ["sh", "-c", "echo done >$T/job-done"]
  side:
    enabled: true
    command: ["sleep", "1000"]
YAML
run "$T/job.yaml"
[ "$EXIT_STATUS" -eq 0 ] || fail "job: exit status $EXIT_STATUS"
[ -s "$T/job-done" ] || fail "job did not run"
log_has "job-0: on_success is shutdown" || fail "job: reason not logged"

# killed by a signal: 128 + its number; a start limit of clean exits: 1
cat >"$T/kill.yaml" <<YAML
global:
  log_format: text
processes:
  victim:
    enabled: true
    restart: never
    on_failure: shutdown
    command: ["sh", "-c", "kill -KILL \$\$"]
YAML
run "$T/kill.yaml"
[ "$EXIT_STATUS" -eq 137 ] || fail "SIGKILL: exit status $EXIT_STATUS"
cat >"$T/limit.yaml" <<YAML
global:
  log_format: text
  restart_backoff_initial: 10ms
  restart_backoff_max: 10ms
  max_restart_attempts: 2
processes:
  flappy:
    enabled: true
    on_failure: shutdown
    command: ["true"]
  side:
    enabled: true
    command: ["sleep", "1000"]
YAML
run "$T/limit.yaml"
[ "$EXIT_STATUS" -eq 1 ] || fail "start limit: exit status $EXIT_STATUS"
log_has "flappy-0: gave up after 2 restarts" || fail "no start limit"

# the engine dies while a process's shutdown runs: the parent, which
# owns the shutdown, finishes it with the process's status
mkfifo "$T/fifo2"
cat >"$T/crash.yaml" <<YAML
global:
  log_format: text
  shutdown_timeout: 5
processes:
  gate:
    enabled: true
    restart: never
    on_failure: shutdown
    command: ["sh", "-c", "read x <$T/fifo2; exit 4"]
  slow:
    enabled: true
    command: ["sh", "-c", "trap 'echo >$T/slow-term' TERM; while :; do sleep 1 & wait; done"]
YAML
start_phpeekd "$T/crash.yaml"
wait_for 5 log_has "slow-0: starting -> running" || fail "slow not running"
echo go >"$T/fifo2"
wait_for 5 test -e "$T/slow-term" || fail "no shutdown after gate failed"
kill -9 "$(role_pid engine)"
wait_for 15 ns_gone || fail "phpeekd did not finish the shutdown"
stop_wait
[ "$EXIT_STATUS" -eq 4 ] || fail "engine crash: exit status $EXIT_STATUS"
UNSHARE_PID=
NS_INIT=

# without on_failure the container carries on
cat >"$T/carry.yaml" <<YAML
global:
  log_format: text
processes:
  fails:
    enabled: true
    restart: never
    command: ["sh", "-c", "exit 5"]
  side:
    enabled: true
    command: ["sleep", "1000"]
YAML
start_phpeekd "$T/carry.yaml"
wait_for 5 log_has "fails-0: running -> failed" || fail "fails did not fail"
wait_for 5 instance_pid side-0 >/dev/null || fail "side not running"
! log_has "is shutdown" || fail "a process without on_failure stopped it"
stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "carry: exit status $EXIT_STATUS"

# nothing left to run: the container ends, 0 after clean exits, 1
# after a failure
cat >"$T/done.yaml" <<YAML
global:
  log_format: text
processes:
  once:
    enabled: true
    restart: never
    command: ["sh", "-c", "exit \${CODE}"]
YAML
CODE=0 run "$T/done.yaml"
[ "$EXIT_STATUS" -eq 0 ] || fail "all ended cleanly: exit status $EXIT_STATUS"
log_has "no process is running or will restart" || fail "no reason logged"
CODE=5 run "$T/done.yaml"
[ "$EXIT_STATUS" -eq 1 ] || fail "all ended, one failed: exit status $EXIT_STATUS"

# the checker's word on keys that cannot apply
cat >"$T/bad.yaml" <<YAML
processes:
  a:
    enabled: true
    on_failure: stop
    command: ["true"]
YAML
out=$("$PHPEEKD" -n -f "$T/bad.yaml" 2>&1) && fail "on_failure: stop accepted"
echo "$out" | grep -q 'bad.yaml:4:17: error: processes.a.on_failure: "stop" is neither continue nor shutdown' ||
    fail "on_failure error: $out"
cat >"$T/bad.yaml" <<YAML
global:
  signal_routes:
    SIGTERM: [a]
    SIGUSR1: [b]
processes:
  a:
    enabled: true
    command: ["true"]
YAML
out=$("$PHPEEKD" -n -f "$T/bad.yaml" 2>&1) && fail "bad routes accepted"
echo "$out" | grep -q 'bad.yaml:3:5: error: global.signal_routes: SIGTERM cannot be routed' ||
    fail "SIGTERM route: $out"
echo "$out" | grep -q "bad.yaml:4:15: error: global.signal_routes.SIGUSR1: 'b' is not defined" ||
    fail "unknown process: $out"
echo ok
