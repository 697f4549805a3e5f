#!/bin/sh
# Metrics: the Content-Type Prometheus 3 requires, promtool's lint
# clean, and a real Prometheus server scraping phpeekd.
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
processes:
  web:
    enabled: true
    scale: 2
    command: ["sleep", "1000"]
  crash:
    enabled: true
    restart: on-failure
    command: ["sh", "-c", "exit 3"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 5 instance_pid web-1 >/dev/null || fail "web not running"
wait_for 10 log_has "crash-0: gave up" || fail "crash never gave up"
sampled() {
	curl -s http://127.0.0.1:19093/metrics |
	    grep -q '^phpeek_pm_process_memory_bytes{process="web"'
}
wait_for 5 sampled || fail "no resource sample exported"
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
up() {
	curl -s 'http://127.0.0.1:19990/api/v1/query?query=phpeek_pm_process_up%7Bname%3D%22web%22%7D' |
	    grep -q '"web-1"'
}
wait_for 30 up || { kill $PROM; fail "Prometheus did not scrape phpeekd: $(tail -3 "$T/prom.log")"; }
curl -s 'http://127.0.0.1:19990/api/v1/targets' | grep -q '"health":"up"' ||
    { kill $PROM; fail "the target is not up"; }
kill $PROM
wait $PROM 2>/dev/null
stop_phpeekd
echo ok
