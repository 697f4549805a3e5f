#!/bin/sh
# The log pipeline on a PHP CLI worker's real output: a Laravel error
# line gets its level and loses the card number and the password, a PHP
# fatal error and its stack trace come out as one record, a JSON line
# gives its level, message and fields, a debug line below min_level and
# an excluded line are dropped, and the logs endpoint sees the levels;
# a pattern that does not compile is refused at its place in the file.
. "$(dirname "$0")/lib.sh"

PHP=$(command -v php) || fail "php is not installed"
cat >"$T/app.php" <<'PHP'
<?php
echo "[2026-11-23 10:00:00] local.ERROR: payment failed for card 4111111111111111 password=hunter2\n";
echo "PHP Fatal error:  Uncaught Exception: boom in /app/job.php:3\n";
echo "Stack trace:\n";
echo "#0 /app/run.php(12): Job->handle()\n";
echo "#1 {main}\n";
echo "  thrown in /app/job.php on line 3\n";
echo '{"level":"warning","message":"slow query","ms":1500}', "\n";
echo "DEBUG cache hit\n";
echo "healthcheck ok\n";
echo "done\n";
sleep(1000);
PHP
cat >"$T/conf.yaml" <<YAML
global:
  log_format: json
  api_socket: $T/ctl.sock
processes:
  app:
    enabled: true
    command: ["$PHP", "$T/app.php"]
    logging:
      min_level: info
      redaction:
        enabled: true
      multiline:
        enabled: true
        max_lines: 50
        timeout: 1
      json:
        enabled: true
        detect_auto: true
        extract_level: true
        extract_message: true
        merge_fields: true
      level_detection:
        enabled: true
        patterns:
          debug: "^DEBUG"
      filters:
        exclude: ["^healthcheck"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 10 grep -q '"msg":"done"' "$T/out" || fail "no output: $(cat "$T/out")"
rec() {	# jq filter over the app's records
	grep '"process":"app"' "$T/out" | jq -c "select($1)"
}
e=$(rec '.msg | test("payment failed")')
[ -n "$e" ] || fail "the error line is gone: $(cat "$T/out")"
printf "%s\n" "$e" | jq -e '.level == "ERROR"' >/dev/null || fail "level: $e"
printf "%s\n" "$e" | grep -q 4111111111111111 && fail "card number not redacted: $e"
printf "%s\n" "$e" | grep -q hunter2 && fail "password not redacted: $e"
printf "%s\n" "$e" | grep -q 'REDACTED' || fail "no placeholder: $e"
t=$(rec '.msg | test("Uncaught Exception")')
[ "$(printf "%s\n" "$t" | wc -l)" = 1 ] || fail "the trace is not one record: $t"
printf "%s\n" "$t" | jq -e '(.msg | test("#1 \\{main\\}")) and (.msg | test("thrown in")) and .level == "ERROR"' >/dev/null ||
    fail "trace record: $t"
[ -z "$(rec '.msg | test("^#0")')" ] || fail "a trace line came out alone"
j=$(rec '.msg == "slow query"')
printf "%s\n" "$j" | jq -e '.level == "WARN" and .ms == "1500"' >/dev/null ||
    fail "JSON line: $j"
[ -z "$(rec '.msg | test("cache hit")')" ] || fail "debug line not dropped"
[ -z "$(rec '.msg | test("healthcheck")')" ] || fail "excluded line not dropped"
curl -s --unix-socket "$T/ctl.sock" "http://x/api/v1/processes/app/logs" |
    jq -e '[.logs[] | select(.Message == "slow query")][0].Level == "warn"' >/dev/null ||
    fail "logs endpoint: $(curl -s --unix-socket "$T/ctl.sock" http://x/api/v1/processes/app/logs)"
stop_phpeekd

# a bad pattern: refused with its place, before anything runs
sed -i 's/debug: "\^DEBUG"/debug: "(unclosed"/' "$T/conf.yaml"
out=$("$PHPEEKD" -n -f "$T/conf.yaml" 2>&1) && fail "a bad pattern passed"
echo "$out" | grep -q "conf.yaml:[0-9]*:[0-9]*: error: processes.app.logging: .*unclosed" ||
    fail "-n: $out"
