#!/bin/sh
# Metrics: the Content-Type Prometheus 3 requires, promtool's lint
# clean, phpeek-pm's names, each family once and no series twice, and
# a real Prometheus server scraping phpeekd.
. "$(dirname "$0")/../phpeekd/lib.sh"

command -v promtool >/dev/null || fail "promtool is not installed"
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
  api_port: 19183
  metrics_port: 19093
  resource_metrics_interval: 1
  restart_backoff_initial: 50ms
hooks:
  pre-start:
    - name: warm-cache
      command: ["true"]
    - name: optional
      command: ["false"]
      continue_on_error: true
processes:
  web:
    enabled: true
    scale: 2
    command: ["sleep", "1000"]
  crash:
    enabled: true
    restart: on-failure
    command: ["sh", "-c", "exit 3"]
  checked:
    enabled: true
    command: ["sleep", "1001"]
    health_check:
      type: exec
      command: ["true"]
      initial_delay: 1
      period: 1
  broken:
    enabled: true
    command: ["sleep", "1002"]
    health_check:
      type: tcp
      address: 127.0.0.1:1
      initial_delay: 1
      period: 1
      failure_threshold: 1000
YAML
start_phpeekd "$T/conf.yaml"
wait_for 5 instance_pid web-1 >/dev/null || fail "web not running"
wait_for 10 log_has "crash-0: gave up" || fail "crash never gave up"
sampled() {
	curl -s http://127.0.0.1:19093/metrics |
	    grep -q '^phpeek_pm_process_memory_bytes{process="web"'
}
wait_for 5 sampled || fail "no resource sample exported"
# both checks have run twice: a pass and a failure on record
checked() {
	curl -s http://127.0.0.1:19093/metrics >"$T/hc.txt"
	grep -q '^phpeek_pm_health_check_total{name="checked",type="exec",status="success"} [2-9]' "$T/hc.txt" &&
	    grep -q '^phpeek_pm_health_check_total{name="broken",type="tcp",status="failure"} [2-9]' "$T/hc.txt"
}
wait_for 10 checked || fail "health checks not counted: $(grep health_check "$T/hc.txt")"
for m in 'phpeek_pm_health_check_status{name="checked",type="exec"} 1' \
    'phpeek_pm_health_check_status{name="broken",type="tcp"} 0' \
    'phpeek_pm_health_check_consecutive_fails{name="checked"} 0' \
    'phpeek_pm_health_check_total{name="broken",type="tcp",status="success"} 0'; do
	grep -q -x -F "$m" "$T/hc.txt" || fail "no line: $m"
done
grep -q '^phpeek_pm_health_check_consecutive_fails{name="broken"} [1-9]' \
    "$T/hc.txt" || fail "broken's consecutive failures not counted"
# hooks: the pre-start ones ran before anything started
for m in 'phpeek_pm_hook_executions_total{name="warm-cache",type="pre_start",status="success"} 1' \
    'phpeek_pm_hook_executions_total{name="warm-cache",type="pre_start",status="failure"} 0' \
    'phpeek_pm_hook_duration_seconds_count{name="warm-cache",type="pre_start"} 1' \
    'phpeek_pm_hook_duration_seconds_bucket{name="warm-cache",type="pre_start",le="+Inf"} 1'; do
	grep -q -x -F "$m" "$T/hc.txt" || fail "no line: $m"
done
grep -q -x 'phpeek_pm_hook_executions_total{name="optional",type="pre_start",status="failure"} 1' \
    "$T/hc.txt" || fail "the continue_on_error hook not counted as failed"
# the histogram: +Inf and _count are the number of checks
n=$(sed -n 's/^phpeek_pm_health_check_total{name="checked",type="exec",status="success"} //p' "$T/hc.txt")
grep -q -x "phpeek_pm_health_check_duration_seconds_bucket{name=\"checked\",type=\"exec\",le=\"+Inf\"} $n" "$T/hc.txt" ||
    fail "histogram +Inf is not $n"
grep -q -x "phpeek_pm_health_check_duration_seconds_count{name=\"checked\",type=\"exec\"} $n" "$T/hc.txt" ||
    fail "histogram count is not $n"
# /readyz: a process whose check never passed is not ready
code=$(curl -s -o "$T/ready.json" -w '%{http_code}' http://127.0.0.1:19093/readyz)
[ "$code" = 503 ] || fail "readyz with a failing check: $code"
jq -e '.processes.broken.ok == false and .processes.checked.ok == true' \
    "$T/ready.json" >/dev/null || fail "readyz: $(cat "$T/ready.json")"
hdr=$(curl -s -D - -o "$T/metrics.txt" http://127.0.0.1:19093/metrics |
    tr -d '\r' | awk -F': ' 'tolower($1) == "content-type" {print $2}')
[ "$hdr" = "text/plain; version=0.0.4; charset=utf-8" ] ||
    fail "Content-Type: $hdr"
lint=$(promtool check metrics <"$T/metrics.txt" 2>&1) ||
    fail "promtool: $lint"
[ -z "$lint" ] || fail "promtool warns: $lint"
grep -q '^phpeek_pm_process_up{name="web",instance="web-1"} 1$' \
    "$T/metrics.txt" || fail "process_up missing"
grep -q '^phpeek_pm_process_restarts_total{name="crash",reason="crash"} 3$' \
    "$T/metrics.txt" || fail "restarts_total missing"
grep -q '^phpeek_pm_process_last_exit_code{name="crash",instance="crash-0"} 3$' \
    "$T/metrics.txt" || fail "last_exit_code missing"
grep -q '^phpeek_pm_process_last_exit_code{name="web",' "$T/metrics.txt" &&
    fail "last_exit_code of an instance that never exited"
for m in 'phpeek_pm_process_desired_scale{name="web"} 2' \
    'phpeek_pm_process_current_scale{name="web"} 2' \
    'phpeek_pm_process_current_scale{name="crash"} 0' \
    'phpeek_pm_manager_process_count 4' \
    'phpeek_pm_config_reloads_total 1' \
    'phpeek_pm_build_info{version="0.1.0",go_version="none"} 1'; do
	grep -q -x -F "$m" "$T/metrics.txt" || fail "no line: $m"
done
for m in phpeek_pm_process_start_time_seconds phpeek_pm_process_cpu_percent \
    phpeek_pm_process_memory_percent phpeek_pm_process_threads \
    phpeek_pm_process_file_descriptors phpeek_pm_manager_start_time_seconds; do
	grep -q "^$m[{ ]" "$T/metrics.txt" || fail "no $m"
done
# every family announced once, every series once
dup=$(grep '^# TYPE' "$T/metrics.txt" | sort | uniq -d)
[ -z "$dup" ] || fail "families twice: $dup"
dup=$(grep -v '^#' "$T/metrics.txt" | sed 's/ [^ ]*$//' | sort | uniq -d)
[ -z "$dup" ] || fail "series twice: $dup"
# the samples behind the resource metrics, phpeek-pm's history endpoint
H="http://x/api/v1/metrics/history?process=web&instance=web-0"
curl -s --unix-socket "$T/ctl.sock" "$H&since=2020-01-01T00:00:00Z&limit=2" |
    grep -q '"since":"2020-01-01T00:00:00Z","limit":2,"samples":[12],"data":\[{"timestamp":' ||
    fail "history: $(curl -s --unix-socket "$T/ctl.sock" "$H&since=2020-01-01T00:00:00Z")"
[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/ctl.sock" \
    "$H&since=yesterday")" = 400 ] || fail "history: a bad since"
[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/ctl.sock" \
    "$H&limit=0")" = 400 ] || fail "history: limit 0"
$TOP/phpeekctl/phpeekctl -s "$T/ctl.sock" metrics >"$T/ctl-metrics.txt" ||
    fail "phpeekctl metrics"
promtool check metrics <"$T/ctl-metrics.txt" >/dev/null 2>&1 ||
    fail "phpeekctl metrics is not the exposition"

# the daemon's start time survives a restart of the api role
st=$(sed -n 's/^phpeek_pm_manager_start_time_seconds //p' "$T/metrics.txt")
[ -n "$st" ] && [ "$st" -le "$(date +%s)" ] || fail "start time: $st"
api=$(role_pid api)
kill -9 "$api"
back() {
	_p=$(role_pid api) && [ "$_p" != "$api" ] &&
	    curl -s http://127.0.0.1:19093/metrics >"$T/m2.txt" &&
	    grep -q '^phpeek_pm_process_up' "$T/m2.txt"
}
wait_for 10 back || fail "the api role did not come back"
grep -q -x "phpeek_pm_manager_start_time_seconds $st" "$T/m2.txt" ||
    fail "start time after an api restart: $(grep start_time_seconds "$T/m2.txt" | tail -1), not $st"

# a real Prometheus scrapes it
cat >"$T/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: phpeekd
    static_configs:
      - targets: ["127.0.0.1:19093"]
YAML
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
    --web.listen-address=127.0.0.1:19990 >"$T/prom.log" 2>&1 &
PROM=$!
# query Q: Prometheus's answer to the PromQL expression Q
query() {
	curl -s -G --data-urlencode "query=$1" \
	    http://127.0.0.1:19990/api/v1/query
}
up() {
	query 'up{job="phpeekd"} == 1' | grep -q '"value":\[[0-9.]*,"1"\]'
}
wait_for 30 up || { kill $PROM; fail "Prometheus did not scrape phpeekd: $(tail -3 "$T/prom.log")"; }
query 'phpeek_pm_process_up{name="web"}' | grep -q '"web-1"' ||
    { kill $PROM; fail "no phpeek_pm_process_up in Prometheus"; }
curl -s 'http://127.0.0.1:19990/api/v1/targets' | grep -q '"lastError":""' ||
    { kill $PROM; fail "the scrape reported an error"; }
kill $PROM
wait $PROM 2>/dev/null
stop_phpeekd
echo ok
