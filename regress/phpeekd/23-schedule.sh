#!/bin/sh
# Scheduled tasks: PHP CLI jobs on cron expressions, in UTC and in a
# named zone; the environment phpeek-pm documents; schedule_timeout
# kills a run that hangs; schedule_max_concurrent 1 skips a tick while
# the last run goes on; runs counted in the API and the metrics, which
# promtool accepts; heartbeat pings, in order and retried, received by
# a PHP web server standing in for healthchecks.io; a job cannot be
# stopped like a service.
. "$(dirname "$0")/lib.sh"

PHP=$(command -v php) || fail "php is not installed"
command -v promtool >/dev/null || fail "promtool is not installed"
cat >"$T/job.php" <<'PHP'
<?php
$keys = ['PHPEEK_PM_SCHEDULED', 'PHPEEK_PM_SCHEDULE', 'PHPEEK_PM_PROCESS',
    'PHPEEK_PM_START_TIME', 'JOB_GREETING'];
$out = '';
foreach ($keys as $k)
	$out .= $k . '=' . getenv($k) . "\n";
file_put_contents($argv[1] . '.' . getmypid(), $out);
echo "job done\n";
PHP
# the monitor: logs each ping; /flaky fails the first time
cat >"$T/hb.php" <<'PHP'
<?php
$log = getenv('HB_LOG');
$line = $_SERVER['REQUEST_METHOD'] . ' ' . $_SERVER['REQUEST_URI'] . ' ' .
    ($_SERVER['HTTP_X_PROBE'] ?? '-') . ' ' .
    str_replace("\n", '', file_get_contents('php://input')) . "|\n";
if ($_SERVER['REQUEST_URI'] === '/flaky' && !file_exists("$log.flaky")) {
	touch("$log.flaky");
	file_put_contents($log, "503 $line", FILE_APPEND | LOCK_EX);
	http_response_code(503);
	exit;
}
file_put_contents($log, $line, FILE_APPEND | LOCK_EX);
echo "OK\n";
PHP
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
  metrics_port: 19094
processes:
  monitor:
    enabled: true
    env:
      HB_LOG: $T/pings
    command: ["$PHP", "-S", "127.0.0.1:19095", "$T/hb.php"]
  report:
    enabled: true
    schedule: "* * * * *"
    heartbeat:
      url: http://127.0.0.1:19095/hc/report
    env:
      JOB_GREETING: hello
    command: ["$PHP", "$T/job.php", "$T/report"]
  berlin:
    enabled: true
    schedule: "CRON_TZ=Europe/Berlin * * * * *"
    heartbeat:
      success_url: http://127.0.0.1:19095/flaky
      method: GET
      retry_count: 2
      retry_delay: 1
      headers:
        X-Probe: abc
    command: ["$PHP", "-r", "exit(0);"]
  hang:
    enabled: true
    schedule: "* * * * *"
    schedule_timeout: 1s
    heartbeat:
      url: http://127.0.0.1:19095/hc/hang
    command: ["sleep", "1000"]
  long:
    enabled: true
    schedule: "* * * * *"
    schedule_max_concurrent: 1
    command: ["sh", "-c", "exec sleep 1000"]
YAML
CTL="$TOP/phpeekctl/phpeekctl -s $T/ctl.sock"
# what comes before the first run is checked before its minute: do not
# start in the last seconds of one (the clock is the event awaited)
sec=$(date +%S)
sec=${sec#0}
[ "$sec" -lt 50 ] || sleep $((61 - sec))
start_phpeekd "$T/conf.yaml"
wait_for 10 curl -sf -o /dev/null http://127.0.0.1:19095/up ||
    fail "the monitor does not answer"
# nothing runs before its minute; the daemon waits instead of exiting
! ls "$T"/report.* >/dev/null 2>&1 || fail "a job ran before its minute"
before=$(date +%s)
info=$(curl -s --unix-socket "$T/ctl.sock" http://x/api/v1/processes/report)
after=$(date +%s)
echo "$info" | jq -e '.info.type == "scheduled" and
    .info.state == "scheduled" and .info.schedule == "* * * * *" and
    (.info.next_run % 60) == 0' >/dev/null ||
    fail "job info: $info"
next=$(echo "$info" | jq .info.next_run)
[ "$next" -gt "$before" ] && [ "$next" -le $((after + 60)) ] ||
    fail "next_run $next is not the next minute after $before..$after"

code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    --unix-socket "$T/ctl.sock" http://x/api/v1/processes/report/stop)
[ "$code" = 409 ] || fail "stopping a job gave $code, not 409"

# the first minute: every job runs once
wait_for 65 log_has "report-0: scheduled run" || fail "report never ran"
ran=$(date +%s)
[ $((ran % 60)) -le 2 ] || fail "the run began $((ran % 60))s into the minute"
wait_for 5 log_has "report-0: .*exited" || fail "report did not finish"
f=$(ls "$T"/report.* | head -n 1)
grep -qx "PHPEEK_PM_SCHEDULED=true" "$f" || fail "env: $(cat "$f")"
grep -qx "PHPEEK_PM_SCHEDULE=\* \* \* \* \*" "$f" || fail "env: $(cat "$f")"
grep -qx "PHPEEK_PM_PROCESS=report" "$f" || fail "env: $(cat "$f")"
grep -qx "JOB_GREETING=hello" "$f" || fail "env: $(cat "$f")"
st=$(sed -n 's/^PHPEEK_PM_START_TIME=//p' "$f")
[ $((st - next)) -ge 0 ] && [ $((st - next)) -le 2 ] ||
    fail "PHPEEK_PM_START_TIME $st, due $next"
grep -q "instance_id=report-0 stream=stdout msg=\"job done\"" "$T/out" || fail "the job's output is not in the log"
wait_for 5 log_has "berlin-0: scheduled run" || fail "berlin never ran"
wait_for 5 log_has "hang-0: timed out after 1000ms" ||
    fail "schedule_timeout did not kill the hung run"
wait_for 5 log_has "long-0: scheduled run" || fail "long never ran"

# pings: start before the end, the exit code with a failure, a retry
pinged() {
	grep -qx -- "$1" "$T/pings"
}
for p in "POST /hc/report - |" "POST /hc/hang/fail - exit code -1|" \
    "503 GET /flaky abc |" "GET /flaky abc |"; do
	wait_for 5 pinged "$p" || fail "no ping $p: $(cat "$T/pings")"
done
[ "$(grep -n "/hc/report" "$T/pings" | head -n 2 | cut -d' ' -f2 |
    tr '\n' ' ')" = "/hc/report/start /hc/report " ] ||
    fail "report's pings out of order: $(cat "$T/pings")"
[ "$(grep "/hc/hang" "$T/pings" | head -n 1)" = "POST /hc/hang/start - |" ] ||
    fail "hang's start ping: $(cat "$T/pings")"
log_has "berlin: heartbeat success ping to http://127.0.0.1:19095/flaky: HTTP 503; retrying in 1s" ||
    fail "the failed ping was not logged"

# the second minute: report runs again, long is still busy: skipped
wait_for 65 log_has "long: run skipped: 1 still running" ||
    fail "an overlapping run was not skipped"
wait_for 5 sh -c "[ \$(ls $T/report.* | wc -l) -ge 2 ]" ||
    fail "report did not run a second time"
# metric_is SERIES: the scrape has exactly this line
metric_is() {
	curl -s http://127.0.0.1:19094/metrics >"$T/m.txt" &&
	    grep -qx -- "$1" "$T/m.txt"
}
for m in 'phpeek_pm_scheduled_task_total{task="report",status="success"} 2' \
    'phpeek_pm_scheduled_task_total{task="hang",status="failure"} 2' \
    'phpeek_pm_scheduled_task_total{task="long",status="skipped"} 1' \
    'phpeek_pm_scheduled_task_total{task="berlin",status="success"} 2' \
    'phpeek_pm_scheduled_task_last_exit_code{task="report"} 0' \
    'phpeek_pm_scheduled_task_last_exit_code{task="hang"} -1' \
    'phpeek_pm_heartbeat_pings_total{task="report",status="success"} 4' \
    'phpeek_pm_heartbeat_pings_total{task="berlin",status="success"} 2' \
    'phpeek_pm_heartbeat_pings_total{task="berlin",status="failure"} 0'; do
	wait_for 5 metric_is "$m" || fail "metrics lack $m"
done
lint=$(promtool check metrics <"$T/m.txt" 2>&1) || fail "promtool: $lint"
[ -z "$lint" ] || fail "promtool warns: $lint"
grep -q '^phpeek_pm_scheduled_task_next_run_timestamp{task="report"} [1-9]' \
    "$T/m.txt" || fail "no next run exported"
$CTL -j show report | jq -e '.info.run_count == 2 and
    .info.success_rate == 100 and .info.last_exit_code == 0' >/dev/null ||
    fail "show report: $($CTL -j show report)"

stop_phpeekd TERM
[ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS"
