#!/bin/sh
# The readiness file (global.readiness): a stale one is removed at
# start; it appears when every tracked process runs (all_running) or
# has passed its health check (all_healthy), goes when one fails its
# check or is stopped, follows a reload (mode, content, the tracked
# list) and survives a bad one, and is gone before any service is
# signalled at shutdown, shutdown_delay before.  The service is PHP's
# own web server with an http check; a held process and a scheduled
# task never count.
. "$(dirname "$0")/lib.sh"

R=$T/run/ready/file
CTL="$TOP/phpeekctl/phpeekctl -s $T/ctl.sock"
command -v php >/dev/null || fail "php is not installed"
cat >"$T/router.php" <<'PHP'
<?php
if (file_exists(__DIR__ . '/healthy')) {
	echo "ok\n";
} else {
	http_response_code(503);
	echo "not yet\n";
}
PHP

# conf MODE THRESHOLD [readiness lines...]
conf() {
	_mode=$1
	_thr=$2
	shift 2
	{
		cat <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
  api_port: 0
  metrics_enabled: false
  restart_backoff_initial: 1s
  restart_backoff_max: 1s
  shutdown_delay: ${DELAY:-0s}
  readiness:
    enabled: true
    path: $R
    mode: $_mode
YAML
		for _l in "$@"; do
			echo "    $_l"
		done
		cat <<YAML
processes:
  web:
    enabled: true
    command: ["php", "-S", "127.0.0.1:19088", "$T/router.php"]
    health_check:
      type: http
      url: http://127.0.0.1:19088/
      initial_delay: 0
      period: 1
      failure_threshold: $_thr
  worker:
    enabled: true
    command: ["sh", "-c", "trap 'if [ -e $R ]; then echo present; else echo absent; fi >$T/at-term; date +%s%N >$T/term-at; exit 0' TERM; while :; do sleep 1 & wait; done"]
  held:
    enabled: true
    initial_state: stopped
    command: ["sleep", "1000"]
  nightly:
    enabled: true
    schedule: "0 3 * * *"
    command: ["true"]
YAML
	} >"$T/conf.yaml"
}

present() { [ -f "$R" ]; }
absent() { [ ! -e "$R" ]; }
content_is() { [ "$(cat "$R" 2>/dev/null)" = "$1" ]; }

# a file left by an earlier container must not say ready
mkdir -p "$T/run/ready"
echo stale >"$R"
conf all_running 100
t0=$(date +%s)
start_phpeekd "$T/conf.yaml"
wait_for 5 log_has "readiness: removed a stale $R" ||
    fail "the stale file was not removed"

# all_running: running is enough, a failing check does not matter
wait_for 10 log_has "web: http health check failed" ||
    fail "the check never ran"
wait_for 10 present || fail "all_running: no file with web and worker running"
ts=$(sed -n 's/^timestamp=//p' "$R")
[ "$(head -n 1 "$R")" = ready ] && [ "$(wc -l <"$R")" -eq 2 ] &&
    [ "$ts" -ge "$t0" ] && [ "$ts" -le "$(date +%s)" ] ||
    fail "default content: $(cat "$R")"
[ "$(stat -c %a "$R")" = 644 ] || fail "mode $(stat -c %a "$R")"
[ "$(stat -c %a "$T/run/ready")" = 755 ] ||
    [ "$(stat -c %a "$T/run/ready")" = 700 ] || fail "directory mode"

# all_healthy: the file goes until the check passes
conf all_healthy 1
kill -HUP "$NS_INIT"
wait_for 5 log_has "configuration generation 2 applied" || fail "no reload"
wait_for 5 absent || fail "all_healthy: file kept while web fails its check"
touch "$T/healthy"
wait_for 15 present || fail "all_healthy: no file after the check passed"
wait_for 5 log_has "web: health check passed: ready" ||
    fail "the file came before the check passed"

# unhealthy: gone, back once the replacement passes
rm "$T/healthy"
wait_for 10 log_has "web: unhealthy" || fail "web never unhealthy"
wait_for 5 absent || fail "file kept while web is unhealthy"
touch "$T/healthy"
wait_for 15 present || fail "no file after web recovered"

# a tracked process stopped through the API
$CTL stop worker >/dev/null || fail "stop worker"
wait_for 5 absent || fail "file kept with worker stopped"
$CTL start worker >/dev/null || fail "start worker"
wait_for 10 present || fail "no file after worker started"

# a reload: content of the user's, only web tracked, a delay at stop
DELAY=1500ms
conf all_healthy 1 "content: up" "processes: [web]"
kill -HUP "$NS_INIT"
wait_for 5 log_has "configuration generation 3 applied" || fail "no reload"
wait_for 5 content_is up || fail "content after reload: $(cat "$R")"
n=$(log_count "readiness: not ready")
$CTL stop worker >/dev/null || fail "stop worker"
$CTL stop web >/dev/null || fail "stop web"
wait_for 5 absent || fail "file kept with web stopped"
[ "$(log_count "readiness: not ready")" -eq $((n + 1)) ] ||
    fail "an untracked process changed readiness"
$CTL start web >/dev/null || fail "start web"
$CTL start worker >/dev/null || fail "start worker"
wait_for 15 present || fail "no file after web started"
wait_for 5 instance_pid worker-0 >/dev/null || fail "worker not running"

# a bad reload keeps the file and its content
printf 'global:\n  readiness: [\n' >"$T/conf.yaml"
kill -HUP "$NS_INIT"
wait_for 5 log_has "reload failed: keeping configuration generation 3" ||
    fail "bad reload not refused"
present && content_is up || fail "bad reload touched the file"

# shutdown: the file is gone before any service hears of it, and
# shutdown_delay passes between the two
rm -f "$T/term-at" "$T/at-term"
t1=$(date +%s%N)
kill -TERM "$NS_INIT"
wait_for 1 absent || fail "file kept after SIGTERM"
# the probe over HTTP says the same while the delay runs
draining() {
	curl -s --unix-socket "$T/ctl.sock" -o "$T/readyz" -w '%{http_code}' \
	    http://x/readyz | grep -qx 503 &&
	    grep -q '"status":"shutting down"' "$T/readyz"
}
wait_for 1 draining || fail "/readyz during the delay: $(cat "$T/readyz")"
[ ! -e "$T/term-at" ] || fail "the worker was stopped during the delay"
wait "$UNSHARE_PID"
EXIT_STATUS=$?
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS"
[ "$(cat "$T/at-term" 2>/dev/null)" = absent ] ||
    fail "the worker got SIGTERM while the file was there"
log_has "shutdown_delay: stopping in 1500ms" || fail "no delay logged"
[ $(($(cat "$T/term-at") - t1)) -ge 1400000000 ] ||
    fail "SIGTERM reached the worker $(($(cat "$T/term-at") - t1)) ns after"
absent || fail "file left after exit"
echo "ok - readiness file"
