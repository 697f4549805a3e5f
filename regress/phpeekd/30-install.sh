#!/bin/sh
# make install into a DESTDIR: the installed daemon checks the installed
# presets and runs as PID 1 with them; make uninstall removes it all.
. "$(dirname "$0")/lib.sh"

make -s -C "$TOP" install DESTDIR="$T/root" PREFIX=/usr/local >/dev/null ||
    fail "make install failed"
R=$T/root/usr/local
for f in sbin/phpeekd sbin/phpeekctl share/man/man8/phpeekd.8 \
    share/man/man8/phpeekctl.8 share/man/man5/phpeekd.yaml.5 \
    share/phpeekd/phpeekd.yaml share/phpeekd/examples/laravel.yaml; do
	[ -e "$R/$f" ] || fail "$f not installed"
done
for f in "$R"/share/phpeekd/examples/*.yaml; do
	"$R/sbin/phpeekd" -n -f "$f" >/dev/null 2>&1 ||
	    fail "installed phpeekd rejects $f"
done
# phpeekctl init writes an installed preset that the daemon accepts
mkdir "$T/app"
PHPEEKD_SHARE=$R/share/phpeekd "$R/sbin/phpeekctl" init -o "$T/app" laravel \
    >/dev/null || fail "phpeekctl init failed"
"$R/sbin/phpeekd" -n -f "$T/app/phpeek-pm.yaml" >/dev/null 2>&1 ||
    fail "the initialised preset does not pass -n"
PHPEEKD_SHARE=$R/share/phpeekd "$R/sbin/phpeekctl" init -o "$T/app" laravel \
    >/dev/null 2>&1 && fail "init replaced an existing file without -f"
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
  api_port: 19187
  metrics_port: 19097
processes:
  svc:
    enabled: true
    command: ["sleep", "1000"]
YAML
PHPEEKD=$R/sbin/phpeekd
start_phpeekd "$T/conf.yaml"
wait_for 5 instance_pid svc-0 >/dev/null || fail "svc-0 not running"
wait_for 5 test -S "$T/ctl.sock" || fail "no control socket"
"$R/sbin/phpeekctl" -s "$T/ctl.sock" status | grep -q '^svc ' ||
    fail "installed phpeekctl cannot talk to the installed daemon"
stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS"
make -s -C "$TOP" uninstall DESTDIR="$T/root" PREFIX=/usr/local >/dev/null ||
    fail "make uninstall failed"
left=$(find "$T/root" -type f | head -n 3)
[ -z "$left" ] || fail "left after uninstall: $left"
echo ok
