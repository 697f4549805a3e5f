#!/bin/sh
# PHP-FPM auto-tuning with Debian's php-fpm: limits from cgroup v2 and
# v1 fixture trees, the pool configured through the exported PHP_FPM_*
# variables, so php-fpm itself runs the computed number of workers; a
# dry run prints the result; a bad profile or too little memory stops
# phpeekd before anything starts.
. "$(dirname "$0")/lib.sh"

FPM=$(ls /usr/sbin/php-fpm* 2>/dev/null | head -n 1)
[ -x "$FPM" ] || fail "php-fpm is not installed"
FIX=$TOP/regress/unit/autotune
cat >"$T/fpm.conf" <<'CONF'
[global]
error_log = /proc/self/fd/2
daemonize = no
[www]
user = www-data
group = www-data
listen = 127.0.0.1:19073
pm = ${PHP_FPM_PM}
pm.max_children = ${PHP_FPM_MAX_CHILDREN}
pm.start_servers = ${PHP_FPM_START_SERVERS}
pm.min_spare_servers = ${PHP_FPM_MIN_SPARE}
pm.max_spare_servers = ${PHP_FPM_MAX_SPARE}
pm.max_requests = ${PHP_FPM_MAX_REQUESTS}
CONF
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_enabled: false
  metrics_enabled: false
processes:
  php-fpm:
    enabled: true
    readiness: notify
    command: ["$FPM", "-F", "-R", "-y", "$T/fpm.conf"]
YAML

# dry run: medium on 2 GiB and 4 CPUs, the reference's worked example
out=$(PHPEEKD_AUTOTUNE_ROOT=$FIX/v2-2g-4cpu "$PHPEEKD" -n -f "$T/conf.yaml" \
    --php-fpm-profile=medium 2>/dev/null) || fail "dry run failed"
for l in "pm = dynamic" "pm.max_children = 16" "pm.start_servers = 6" \
    "pm.min_spare_servers = 4" "pm.max_spare_servers = 8" \
    "pm.max_requests = 1000" \
    "Memory: 992MB allocated / 2048MB total (48.4% used)"; do
	echo "$out" | grep -qxF "   $l" || fail "dry run lacks \"$l\": $out"
done
out=$("$PHPEEKD" -n -f "$T/conf.yaml" -P huge 2>&1) &&
    fail "an unknown profile passed"
echo "$out" | grep -q "invalid profile: huge (valid: dev, light, medium, heavy, bursty)" ||
    fail "unknown profile: $out"

# the daemon: heavy on the v2 fixture, php-fpm runs start_servers
export PHPEEKD_AUTOTUNE_ROOT=$FIX/v2-2g-4cpu
start_phpeekd "$T/conf.yaml" -P light
wait_for 10 log_has "php-fpm-0: ready (it says so)" ||
    fail "php-fpm did not start with the tuned pool"
log_has "PHP-FPM auto-tuning calculated profile=light pm=dynamic" ||
    fail "no calculator log line"
# php-fpm writes its title over its environment: the proof that the
# variables reached it is the pool it runs
master=$(pids_of "php-fpm: master process*")
[ -n "$master" ] || fail "no php-fpm master"
start=$(sed -n 's/.*calculated profile=light .* start_servers=\([0-9]*\) .*/\1/p' "$T/err")
[ "$start" = 4 ] || fail "light on 2 GiB, 4 CPUs: start_servers $start, not 4"
workers() {
	[ "$(pgrep -c -P "$master")" = "$1" ]
}
wait_for 5 workers "$start" ||
    fail "php-fpm runs $(pgrep -c -P "$master") workers, not start_servers=$start"
stop_phpeekd
[ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS"

# dev on cgroup v1 with 1 GiB: static, two workers
export PHPEEKD_AUTOTUNE_ROOT=$FIX/v1-1g
export PHP_FPM_AUTOTUNE_PROFILE=dev
: >"$T/err"
start_phpeekd "$T/conf.yaml"
wait_for 10 log_has "php-fpm-0: ready (it says so)" ||
    fail "php-fpm (dev) did not start"
master=$(pids_of "php-fpm: master process*")
wait_for 5 workers 2 || fail "dev: $(pgrep -c -P "$master") workers, not 2"
stop_phpeekd
unset PHP_FPM_AUTOTUNE_PROFILE

# too little memory: an error, exit 1, and php-fpm never started
export PHPEEKD_AUTOTUNE_ROOT=$FIX/absurd-tiny
unshare --pid --fork --mount-proc "$PHPEEKD" -f "$T/conf.yaml" -P heavy \
    >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || fail "exit status $rc with too little memory"
log_has "PHP-FPM auto-tuning: insufficient memory" || fail "no reason given"
! log_has "php-fpm-0: stopped -> starting" || fail "php-fpm was started"
