#!/bin/sh
# The image's start-up, as the container runs it (no Docker engine
# here): the installed phpeekd as PID 1 of its own PID and mount
# namespaces, over the image's files (share/docker: the Laravel preset
# with Debian's paths, the PHP-FPM pool, nginx.conf) and a stand-in
# Laravel application.  The stack comes up, answers through nginx and
# PHP-FPM, the image's HEALTHCHECK command passes, and SIGTERM (the
# image's STOPSIGNAL) stops it in order with horizon:terminate first.
. "$(dirname "$0")/lib.sh"

make -s -C "$TOP" install DESTDIR="$T/root" PREFIX=/usr/local >/dev/null ||
    fail "make install failed"
R=$T/root/usr/local
mkdir -p "$T/html/public" "$T/etc"
cat >"$T/html/artisan" <<'PHP'
<?php
// A stand-in for Laravel's artisan: the commands the preset runs.
pcntl_async_signals(true);
$cmd = $argv[1] ?? '';
$log = __DIR__ . '/artisan.log';
file_put_contents($log, "$cmd\n", FILE_APPEND);
if ($cmd === 'migrate' || $cmd === 'horizon:terminate')
	exit(0);
pcntl_signal(SIGTERM, function () use ($cmd, $log) {
	file_put_contents($log, "$cmd stopped\n", FILE_APPEND);
	exit(0);
});
echo "$cmd running\n";
for (;;)
	sleep(1);
PHP
cat >"$T/html/public/index.php" <<'PHP'
<?php echo "laravel says hi\n";
PHP
chmod -R a+rX "$T/html"
chmod a+x "$T"
cp "$TOP/share/docker/phpeek-pm.yaml" "$T/etc/phpeek-pm.yaml"
# the test's own ports for the API and metrics
sed -i "s|api_port: 9180|api_port: 19189|; s|metrics_port: 9090|metrics_port: 19099|" \
    "$T/etc/phpeek-pm.yaml"
mkdir -p /etc/phpeek-pm /run/php

unshare --pid --fork --mount --mount-proc sh -c "
	mount --bind $T/etc /etc/phpeek-pm &&
	mount --bind $T/html /var/www/html &&
	mount --bind $TOP/share/docker/www.conf /etc/php/8.2/fpm/pool.d/www.conf &&
	mount --bind $TOP/share/docker/nginx.conf /etc/nginx/nginx.conf &&
	cd /var/www/html &&
	exec $R/sbin/phpeekd -f /etc/phpeek-pm/phpeek-pm.yaml" \
    >"$T/out" 2>"$T/err" &
UNSHARE_PID=$!
wait_for 5 find_ns_init || fail "phpeekd did not start"
# exec: PID 1 of the namespace becomes phpeekd itself
wait_for 5 sh -c "tr '\0' ' ' </proc/$NS_INIT/cmdline | grep -q 'phpeekd: parent'" ||
    fail "PID 1 is not phpeekd"
wait_for 20 log_has "nginx: health check passed: ready" ||
    fail "nginx never became healthy"
for i in migrate-0 php-fpm-0 nginx-0 horizon-0 queue-default-2 scheduler-0; do
	log_has "$i: starting -> running" || fail "$i never ran"
done
log_has "migrate-0: running -> completed" || fail "migrations did not complete"
curl -s http://127.0.0.1:80/ | grep -q "laravel says hi" ||
    fail "the app does not answer through nginx and PHP-FPM"
# the image's HEALTHCHECK
wait_for 10 "$R/sbin/phpeekctl" -s /run/phpeekd.sock check >/dev/null ||
    fail "phpeekctl check (HEALTHCHECK) does not pass"
stop_phpeekd TERM
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS after SIGTERM"
grep -q "hook horizon-terminate: succeeded" "$T/err" ||
    fail "horizon:terminate did not run before horizon stopped"
grep -q "^horizon stopped" "$T/html/artisan.log" ||
    fail "horizon did not stop on its signal"
t=$(grep -n "hook horizon-terminate: succeeded" "$T/err" | cut -d: -f1)
h=$(grep -n "horizon-0: stopping -> stopped" "$T/err" | cut -d: -f1)
[ "$t" -lt "$h" ] || fail "horizon stopped before horizon:terminate"
echo ok
