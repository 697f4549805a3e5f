#!/bin/sh
# The PHP stack from Debian's packages under phpeekd: a pre-start hook,
# php-fpm with a tcp health check, nginx in front of it gated on that
# health and checked over http, a PHP CLI worker at scale 3, a service
# that crashes until its start limit, one that ignores SIGTERM.  An
# engine crash in the middle restarts nothing; a reload restarts only
# what changed; shutdown runs in reverse order.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/public"
cat >"$T/public/index.php" <<'PHP'
<?php echo "hello from ", getmypid(), "\n";
PHP
echo ok >"$T/public/health.txt"
fpm_conf 19071 2
nginx_conf <<CONF
	server {
		listen 127.0.0.1:18080;
		root $T/public;
		location = /health.txt { }
		location / {
			include /etc/nginx/fastcgi_params;
			fastcgi_param SCRIPT_FILENAME \$document_root/index.php;
			fastcgi_pass 127.0.0.1:19071;
		}
	}
CONF
cat >"$T/worker.php" <<'PHP'
<?php
pcntl_async_signals(true);
pcntl_signal(SIGTERM, function () { echo "worker stopping\n"; exit(0); });
echo getenv('PHPEEK_PM_INSTANCE_ID'), " ready\n";
for (;;) sleep(1);
PHP
chmod 755 "$T" "$T/public"
chmod 644 "$T/public/index.php" "$T/public/health.txt"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  shutdown_timeout: 4
  restart_backoff_initial: 200ms
  restart_backoff_max: 5s
  max_restart_attempts: 3
hooks:
  pre-start:
    - name: prepare
      command: ["sh", "-c", "echo prepared > $T/prepared"]
processes:
  php-fpm:
    enabled: true
    priority: 10
    command: ["$FPM", "-F", "-R", "-y", "$T/fpm.conf"]
    health_check:
      type: tcp
      address: 127.0.0.1:19071
      initial_delay: 1
      period: 1
    shutdown:
      signal: SIGQUIT
  nginx:
    enabled: true
    priority: 20
    depends_on: [php-fpm]
    command: ["/usr/sbin/nginx", "-c", "$T/nginx.conf"]
    health_check:
      type: http
      url: http://127.0.0.1:18080/health.txt
      initial_delay: 0
      period: 1
  worker:
    enabled: true
    priority: 30
    scale: 3
    depends_on: [php-fpm]
    command: ["php", "$T/worker.php"]
  crasher:
    enabled: true
    restart: always
    command: ["sh", "-c", "exit 3"]
  stubborn:
    enabled: true
    command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"]
    shutdown:
      timeout: 1
YAML
start_phpeekd "$T/conf.yaml"

# the pre-start hook ran before anything started
wait_for 5 test -e "$T/prepared" || fail "pre-start hook did not run"
line_of() {
	grep -n -- "$1" "$T/err" | head -n 1 | cut -d: -f1
}
wait_for 10 log_has "nginx-0: starting -> running" || fail "nginx never ran"
hook=$(line_of "hook prepare: succeeded")
fpm=$(line_of "php-fpm-0: stopped -> starting")
ready=$(line_of "php-fpm: health check passed: ready")
ngx=$(line_of "nginx-0: stopped -> starting")
[ "$hook" -lt "$fpm" ] || fail "php-fpm started before the pre-start hook"
[ "$ready" -lt "$ngx" ] || fail "nginx started before php-fpm was healthy"

# the stack answers through nginx and php-fpm
wait_for 5 sh -c "curl -sf http://127.0.0.1:18080/ | grep -q 'hello from'" ||
    fail "nginx -> php-fpm does not answer"
wait_for 5 log_has "nginx: health check passed: ready" ||
    fail "nginx's http health check never passed"
for i in 0 1 2; do
	wait_for 5 instance_pid "worker-$i" >/dev/null ||
	    fail "worker-$i not running"
done

# the crasher: growing backoff, then failed after the start limit
wait_for 10 log_has "crasher-0: gave up after 3 restarts" ||
    fail "no start limit for the crasher"
log_has "crasher-0: running -> backoff (exit status 3; restart 1 in 200ms)" ||
    fail "first backoff is not 200ms"
log_has "restart 2 in 400ms" || fail "second backoff is not 400ms"
log_has "restart 3 in 800ms" || fail "third backoff is not 800ms"
log_has "crasher-0: running -> failed" || fail "crasher not marked failed"

# an engine crash now restarts nothing
before="$(instance_pid php-fpm-0) $(instance_pid nginx-0) $(instance_pid worker-0) $(instance_pid worker-1) $(instance_pid worker-2) $(instance_pid stubborn-0)"
old=$(role_pid engine)
kill -9 "$old"
new_engine() {
	_p=$(role_pid engine) && [ "$_p" != "$old" ]
}
wait_for 5 new_engine || fail "engine not restarted"
wait_for 5 log_has "stubborn-0: adopted running instance" ||
    fail "the new engine did not adopt"
log_has "crasher-0: failed before the engine restarted" ||
    fail "the failed crasher was not remembered"
after="$(instance_pid php-fpm-0) $(instance_pid nginx-0) $(instance_pid worker-0) $(instance_pid worker-1) $(instance_pid worker-2) $(instance_pid stubborn-0)"
[ "$before" = "$after" ] || fail "pids changed across the engine crash: $before / $after"
[ "$(log_count 'hook prepare: succeeded')" -eq 1 ] ||
    fail "the pre-start hook ran again"

# a reload that changes only the worker restarts only the workers
fpmpid=$(instance_pid php-fpm-0)
ngxpid=$(instance_pid nginx-0)
w0=$(instance_pid worker-0)
sed -i 's|"php", "'"$T"'/worker.php"|"php", "-d", "memory_limit=64M", "'"$T"'/worker.php"|' "$T/conf.yaml"
kill -HUP "$NS_INIT"
wait_for 5 log_has "configuration generation 2 applied" || fail "no reload"
worker_changed() {
	_p=$(instance_pid worker-0) && [ "$_p" != "$w0" ]
}
wait_for 10 worker_changed || fail "the changed worker was not restarted"
[ "$(instance_pid php-fpm-0)" = "$fpmpid" ] || fail "php-fpm restarted"
[ "$(instance_pid nginx-0)" = "$ngxpid" ] || fail "nginx restarted"

# shutdown: reverse order, SIGKILL for the stubborn one at its timeout
mark=$(wc -l <"$T/err")
stop_phpeekd TERM
[ "$EXIT_STATUS" -ne 0 ] || fail "exit 0 although stubborn needed SIGKILL"
tail -n +"$mark" "$T/err" >"$T/shutdown.log"
sline() {
	grep -n -- "$1" "$T/shutdown.log" | head -n 1 | cut -d: -f1
}
w=$(sline "worker-0: running -> stopping")
n=$(sline "nginx-0: running -> stopping")
f=$(sline "php-fpm-0: running -> stopping")
nstop=$(sline "nginx-0: stopping -> stopped")
[ -n "$w" ] && [ -n "$n" ] && [ -n "$f" ] || fail "not every process stopped"
[ "$w" -lt "$f" ] && [ "$n" -lt "$f" ] && [ "$nstop" -lt "$f" ] ||
    fail "php-fpm was stopped before its dependants"
grep -q "stubborn-0: still running 1s after SIGTERM, sending SIGKILL" \
    "$T/shutdown.log" || fail "stubborn was not killed at its timeout"
grep -q "php-fpm-0: running -> stopping (SIGQUIT)" "$T/shutdown.log" ||
    fail "php-fpm did not get its SIGQUIT"
echo ok
