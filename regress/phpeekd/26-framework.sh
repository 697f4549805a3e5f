#!/bin/sh
# The application in WORKDIR is recognised (Laravel, Symfony, WordPress
# or plain PHP) and the directories it writes to are made 0775 and
# handed to www-data before anything starts; a link inside is not
# followed; nothing is touched on a read-only root or for plain PHP.
. "$(dirname "$0")/lib.sh"

WWW=$(id -u www-data) || fail "no www-data user"
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_enabled: false
  metrics_enabled: false
processes:
  app:
    enabled: true
    command: ["sleep", "1000"]
YAML
# run_in DIR: phpeekd with WORKDIR=DIR, started and stopped
run_in() {
	: >"$T/err"
	WORKDIR=$1 start_phpeekd "$T/conf.yaml"
	stop_phpeekd
	[ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS"
}
owned() {	# path: made, 0775 or a file, and www-data's
	[ -e "$1" ] || fail "$1 missing"
	[ "$(stat -c %u:%g "$1")" = "$WWW:$(id -g www-data)" ] ||
	    fail "$1 belongs to $(stat -c %u:%g "$1")"
}

L=$T/laravel
mkdir -p "$L/storage/app"
touch "$L/artisan" "$L/storage/app/upload.txt"
ln -s /etc/passwd "$L/storage/app/passwd"
run_in "$L"
log_has "framework: laravel in $L" || fail "laravel not detected"
for d in storage/framework/sessions storage/framework/views \
    storage/framework/cache storage/logs bootstrap/cache; do
	owned "$L/$d"
	[ "$(stat -c %a "$L/$d")" = 775 ] || fail "$d: mode $(stat -c %a "$L/$d")"
done
owned "$L/storage/app/upload.txt"
[ "$(stat -c %u /etc/passwd)" = 0 ] || fail "a link was followed"
[ "$(stat -c %u "$L/artisan")" = 0 ] || fail "more than storage was handed over"

S=$T/symfony
mkdir -p "$S/bin" "$S/var/cache"
touch "$S/bin/console"
run_in "$S"
log_has "framework: symfony in $S" || fail "symfony not detected"
owned "$S/var/log"
owned "$S/var/cache"

W=$T/wordpress
mkdir -p "$W"
touch "$W/wp-config.php"
run_in "$W"
log_has "framework: wordpress in $W" || fail "wordpress not detected"
owned "$W/wp-content/uploads"

G=$T/plain
mkdir -p "$G"
touch "$G/index.php"
run_in "$G"
log_has "framework: generic in $G" || fail "generic not detected"
[ "$(ls "$G")" = index.php ] || fail "something was made for plain PHP"

R=$T/readonly
mkdir -p "$R"
touch "$R/artisan"
PHPEEK_PM_READ_ONLY_ROOT=true run_in "$R"
log_has "framework: read-only root" || fail "read-only root not seen"
[ ! -e "$R/storage" ] || fail "directories made on a read-only root"
