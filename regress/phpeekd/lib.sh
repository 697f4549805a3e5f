# Helpers for the end-to-end tests: phpeekd runs as PID 1 of its own
# PID namespace (unshare --pid --fork --mount-proc) and the test looks
# at it from outside, through /proc.
#
# Waiting is always for a condition (a log line, a process appearing
# or leaving) with a deadline, never a bare sleep.

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
PHPEEKD=${PHPEEKD:-$TOP/phpeekd/phpeekd}
T=$(mktemp -d /tmp/phpeekd-test.XXXXXX)
UNSHARE_PID=
NS_INIT=
EXIT_STATUS=

fail() {
	echo "FAIL: $*" >&2
	echo "--- phpeekd stderr:" >&2
	tail -n 40 "$T/err" >&2 2>/dev/null
	echo "--- phpeekd stdout:" >&2
	tail -n 10 "$T/out" >&2 2>/dev/null
	exit 1
}

cleanup() {
	_rc=$?
	[ -n "$NS_INIT" ] && kill -9 "$NS_INIT" 2>/dev/null
	[ -n "$UNSHARE_PID" ] && wait "$UNSHARE_PID" 2>/dev/null
	# whatever the test checked: no sanitizer report, no role that
	# died of its own accord, no sandbox violation
	if [ -z "${EXPECT_VIOLATIONS:-}" ] && [ -f "$T/err" ] && grep -E -q 'AddressSanitizer|runtime error:|killed by SIGABRT|killed by SIGSEGV|sandbox violation|fatal in' "$T/err"; then
		echo "FAIL: the daemon reported a fault:" >&2
		grep -E 'AddressSanitizer|runtime error:|killed by SIG(ABRT|SEGV)|sandbox violation|fatal in' "$T/err" | head -n 5 >&2
		_rc=1
	fi
	rm -rf "$T"
	exit $_rc
}
trap cleanup EXIT
trap "exit 1" HUP INT PIPE TERM

# wait_for SECONDS command...: poll the condition until it holds.
wait_for() {
	_limit=$1
	shift
	_end=$(($(date +%s%N) + _limit * 1000000000))
	while ! "$@"; do
		[ "$(date +%s%N)" -gt "$_end" ] && return 1
		sleep 0.02
	done
	return 0
}

# fpm_conf PORT CHILDREN [POOL [LINE...]]: $T/fpm.conf for Debian's
# php-fpm in the foreground, logging to stderr, one pool (www) of
# CHILDREN static workers on 127.0.0.1:PORT with the further lines
# given; $FPM is the binary.
fpm_conf() {
	FPM=$(ls /usr/sbin/php-fpm* 2>/dev/null | head -n 1)
	[ -x "$FPM" ] || fail "php-fpm is not installed"
	{
		printf '[global]\nerror_log = /proc/self/fd/2\ndaemonize = no\n'
		printf '[%s]\nuser = www-data\ngroup = www-data\n' "${3:-www}"
		printf 'listen = 127.0.0.1:%s\npm = static\n' "$1"
		printf 'pm.max_children = %s\n' "$2"
		if [ $# -gt 3 ]; then shift 3; else set --; fi
		for _l in "$@"; do
			echo "$_l"
		done
	} >"$T/fpm.conf"
}

# nginx_conf: $T/nginx.conf for an nginx in the foreground, writing
# nothing outside $T; its server blocks come on standard input.
nginx_conf() {
	{
		cat <<CONF
daemon off;
worker_processes 1;
error_log stderr;
pid $T/nginx.pid;
events { worker_connections 32; }
http {
	access_log off;
	client_body_temp_path $T/nginx-body;
	fastcgi_temp_path $T/nginx-fcgi;
	proxy_temp_path $T/nginx-proxy;
	uwsgi_temp_path $T/nginx-uwsgi;
	scgi_temp_path $T/nginx-scgi;
CONF
		cat
		echo "}"
	} >"$T/nginx.conf"
}

log_has() {
	grep -q -- "$1" "$T/err"
}

log_count() {
	grep -c -- "$1" "$T/err"
}

# start_phpeekd CONFIG [args]: start and wait for the first generation.
start_phpeekd() {
	_conf=$1
	shift
	unshare --pid --fork --mount-proc "$PHPEEKD" -d -f "$_conf" "$@" \
	    >"$T/out" 2>"$T/err" &
	UNSHARE_PID=$!
	wait_for 5 find_ns_init || fail "phpeekd did not start"
	wait_for 5 log_has "configuration generation 1 loaded" ||
	    fail "configuration was not loaded"
}

find_ns_init() {
	NS_INIT=$(pgrep -P "$UNSHARE_PID" | head -n 1)
	[ -n "$NS_INIT" ]
}

# Every process of the namespace, as host pids.
ns_pids() {
	_ns=$(readlink "/proc/$NS_INIT/ns/pid" 2>/dev/null) || return 0
	for _d in /proc/[0-9]*; do
		[ "$(readlink "$_d/ns/pid" 2>/dev/null)" = "$_ns" ] &&
		    echo "${_d#/proc/}"
	done
}

cmdline() {
	tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"
}

# role_pid NAME: the pid of "phpeekd: NAME".
role_pid() {
	for _p in $(ns_pids); do
		case "$(cmdline "$_p")" in
		"phpeekd: $1"*) echo "$_p"; return 0 ;;
		esac
	done
	return 1
}

# pids_of PATTERN: namespace processes whose command line matches.
pids_of() {
	for _p in $(ns_pids); do
		case "$(cmdline "$_p")" in
		$1) echo "$_p" ;;
		esac
	done
}

# The pid whose environment says it is instance ID.
instance_pid() {
	for _p in $(ns_pids); do
		tr '\0' '\n' 2>/dev/null <"/proc/$_p/environ" |
		    grep -qx "PHPEEK_PM_INSTANCE_ID=$1" || continue
		# the instance's leader: its own process group
		[ "$(awk '{print $5}' "/proc/$_p/stat" 2>/dev/null)" = "$_p" ] &&
		    echo "$_p" && return 0
	done
	return 1
}

zombies() {
	for _p in $(ns_pids); do
		[ "$(awk '{print $3}' "/proc/$_p/stat" 2>/dev/null)" = Z ] &&
		    echo "$_p"
	done
}

ns_gone() {
	! kill -0 "$UNSHARE_PID" 2>/dev/null
}

# stop_phpeekd [SIGNAL]: signal PID 1 and collect its exit status.
stop_phpeekd() {
	kill -"${1:-TERM}" "$NS_INIT"
	wait "$UNSHARE_PID"
	EXIT_STATUS=$?
	NS_INIT=
	UNSHARE_PID=
}
