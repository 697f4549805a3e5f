#!/bin/sh
# Scheduled tasks steered through the API without waiting for their
# minute: a trigger that answers when the run ends (sync) and one that
# does not, pause and resume with phpeek-pm's refusals, JobStatus and
# the run history; and the one-shot history of a migration-like
# process run at start-up and again on request.
. "$(dirname "$0")/lib.sh"

PHP=$(command -v php) || fail "php is not installed"
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
processes:
  migrate:
    enabled: true
    type: oneshot
    restart: never
    command: ["$PHP", "-r", "echo 'migrated', PHP_EOL;"]
  web:
    enabled: true
    depends_on: [migrate]
    command: ["sleep", "1000"]
  report:
    enabled: true
    schedule: "0 3 1 1 *"
    command: ["$PHP", "-r", "usleep(200000); exit(0);"]
  broken:
    enabled: true
    schedule: "0 3 1 1 *"
    command: ["$PHP", "-r", "exit(4);"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 5 test -S "$T/ctl.sock" || fail "no control socket"
wait_for 10 instance_pid web-0 >/dev/null || fail "web not running"

# req METHOD PATH: the status; the body lands in $T/body
req() {
	curl -s -o "$T/body" -w '%{http_code}' -X "$1" \
	    --unix-socket "$T/ctl.sock" "http://x$2"
}
J=/api/v1/processes

[ "$(req POST "$J/report/schedule/trigger?sync=true")" = 200 ] ||
    fail "sync trigger: $(cat "$T/body")"
[ "$(cat "$T/body")" = '{"status":"completed","process":"report","exit_code":0}' ] ||
    fail "sync trigger body: $(cat "$T/body")"
log_has "report-0: running -> exited (exit status 0)" ||
    fail "the answer came before the run ended"
[ "$(req POST "$J/broken/schedule/trigger?sync=true")" = 500 ] ||
    fail "a failing sync trigger: $(cat "$T/body")"
[ "$(cat "$T/body")" = '{"error":"trigger failed: process exited with code 4"}' ] ||
    fail "failing trigger body: $(cat "$T/body")"

# async: 202 at once; a second one while it runs is refused
[ "$(req POST "$J/report/schedule/trigger")" = 202 ] || fail "async trigger"
[ "$(cat "$T/body")" = '{"status":"triggered","process":"report"}' ] ||
    fail "async body: $(cat "$T/body")"
[ "$(req POST "$J/report/schedule/trigger")" = 409 ] ||
    fail "a trigger while executing: $(cat "$T/body")"
grep -q "job is already executing" "$T/body" || fail "409: $(cat "$T/body")"
[ "$(req POST "$J/report/schedule/pause")" = 409 ] ||
    fail "pause while executing"
two() {
	[ "$(log_count 'report-0: running -> exited')" -ge 2 ]
}
wait_for 5 two || fail "the async run did not end"

# pause, trigger refused, resume, resume refused
[ "$(req POST "$J/report/schedule/pause")" = 200 ] || fail "pause"
[ "$(cat "$T/body")" = '{"status":"paused","process":"report"}' ] ||
    fail "pause body: $(cat "$T/body")"
[ "$(req GET "$J/report/schedule")" = 200 ] || fail "schedule"
jq -e '.schedule.state == "paused" and .schedule.next_run == "0001-01-01T00:00:00Z"' \
    "$T/body" >/dev/null || fail "paused JobStatus: $(cat "$T/body")"
[ "$(req POST "$J/report/schedule/trigger")" = 409 ] ||
    fail "a trigger while paused"
grep -q "cannot trigger paused job" "$T/body" || fail "409: $(cat "$T/body")"
[ "$(req POST "$J/report/schedule/resume")" = 200 ] || fail "resume"
[ "$(req POST "$J/report/schedule/resume")" = 409 ] || fail "resume twice"
grep -q "job is not paused (current state: idle)" "$T/body" ||
    fail "409: $(cat "$T/body")"

# JobStatus and the history, newest first
[ "$(req GET "$J/report/schedule")" = 200 ] || fail "schedule"
jq -e '.process == "report" and .schedule.name == "report" and
    .schedule.schedule == "0 3 1 1 *" and .schedule.state == "idle" and
    (.schedule.next_run | test("^20[0-9][0-9]-01-01T")) and
    .schedule.stats.total_executions == 2 and
    .schedule.stats.success_count == 2 and .schedule.stats.success_rate == 100 and
    .schedule.stats.average_duration >= 200000000' "$T/body" >/dev/null ||
    fail "JobStatus: $(cat "$T/body")"
[ "$(req GET "$J/report/schedule/history?limit=1")" = 200 ] || fail "history"
jq -e '.limit == 1 and .count == 1 and .history[0].id == 2 and
    .history[0].success == true and .history[0].triggered == "manual" and
    .history[0].end_time > .history[0].start_time' "$T/body" >/dev/null ||
    fail "history: $(cat "$T/body")"
[ "$(req GET "$J/broken/schedule/history")" = 200 ] || fail "broken history"
jq -e '.count == 1 and .history[0].exit_code == 4 and
    .history[0].success == false and
    .history[0].error == "process exited with code 4"' "$T/body" >/dev/null ||
    fail "broken history: $(cat "$T/body")"
[ "$(req GET "$J/web/schedule")" = 404 ] || fail "schedule of a service"
[ "$(req POST "$J/web/schedule/trigger")" = 404 ] || fail "trigger a service"

# one-shot history: start-up, then a run on request
[ "$(req GET "/api/v1/oneshot/history")" = 200 ] || fail "oneshot history"
jq -e '.count == 1 and .executions[0].process_name == "migrate" and
    .executions[0].instance_id == "migrate-0" and
    .executions[0].success == true and
    .executions[0].trigger_type == "startup"' "$T/body" >/dev/null ||
    fail "oneshot history: $(cat "$T/body")"
[ "$(req POST "$J/migrate/restart")" = 200 ] || fail "restart migrate"
again() {
	[ "$(req GET "/api/v1/oneshot/history")" = 200 ] &&
	    jq -e '.count == 2 and .executions[0].trigger_type == "manual" and
	    .executions[0].success == true' "$T/body" >/dev/null
}
wait_for 5 again || fail "the second migrate run: $(cat "$T/body")"
[ "$(req GET "/api/v1/oneshot/history?limit=0")" = 400 ] ||
    fail "limit 0 accepted"

stop_phpeekd
[ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS"
