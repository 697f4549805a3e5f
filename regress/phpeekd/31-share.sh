#!/bin/sh
# What share/ ships: alert rules promtool accepts and whose unit tests
# pass, a Grafana dashboard that is valid JSON over phpeek_pm metrics
# phpeekd exports, a Kubernetes Deployment whose grace period outlasts
# the production preset's shutdown_timeout and whose probes are
# phpeekd's.
. "$(dirname "$0")/lib.sh"

S=$TOP/share
out=$(promtool check rules "$S/prometheus/alerts.yml" 2>&1) ||
    fail "promtool check rules: $out"
out=$(cd "$S/prometheus" && promtool test rules alerts_test.yml 2>&1) ||
    fail "promtool test rules: $out"
out=$(promtool check config "$S/prometheus/prometheus.yml" 2>&1) ||
    fail "promtool check config: $out"

jq -e '.panels | length > 0' "$S/grafana/phpeekd.json" >/dev/null ||
    fail "the dashboard is not valid JSON with panels"
for m in $(jq -r '.. | .expr? // empty' "$S/grafana/phpeekd.json" |
    grep -o 'phpeek_pm_[a-z_]*' | sort -u); do
	grep -q "\"$m\"" "$TOP/phpeekd/metrics.c" ||
	    fail "the dashboard uses $m, which phpeekd does not export"
done

grace=$(awk '/terminationGracePeriodSeconds/ {print $2}' "$S/k8s/deployment.yaml")
stop=$(awk '/shutdown_timeout/ {print $2}' "$S/examples/production.yaml")
delay=$(awk '/shutdown_delay/ {sub(/s$/, "", $2); print $2}' \
    "$S/examples/production.yaml")
[ "$grace" -gt "$((stop + ${delay:-0}))" ] ||
    fail "grace period $grace s does not outlast shutdown_delay" \
    "${delay:-0} s and shutdown_timeout $stop s"
for p in /healthz /readyz /startupz; do
	grep -q "path: $p" "$S/k8s/deployment.yaml" || fail "no probe on $p"
done
echo ok
