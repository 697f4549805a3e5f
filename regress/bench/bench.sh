#!/bin/sh
# phpeekd against its peers, each supervising the same services, each
# as PID 1 of its own PID namespace.  Prints a table; asserts nothing.
#
#	sh regress/bench/bench.sh [kills]
#
# Every service is `probe svc`, which tells the measuring probe
# (regress/bench/probe.c) the moment it runs; the probe times events,
# it does not poll /proc.  Columns:
#   pss1, pss50   PSS (KiB) of the supervisor's own processes with 1 and
#                 50 services (/proc/PID/smaps_rollup)
#   start200      ms from exec of the supervisor until 200 services run
#   restart       median ms from SIGKILL of a service until its
#                 replacement runs (no backoff), over KILLS kills
#   reap1000      ms from the moment 1000 orphans are released until
#                 the init has reaped every one
#   reaplag       ms from the last orphan's exit until none is left
#                 (both reap columns: the run with the median lag of
#                 REAPS, default 9)
#   killesc       ms past a 1 s stop timeout until a service that
#                 ignores SIGTERM is gone, after SIGTERM to the init
#   idle cs, cpu  context switches and CPU ms of the supervisor's
#                 processes over 10 s with 50 idle services
# tini and dumb-init run one child and never restart it: they only
# take part in reaping and memory.  runit, s6 and supervisord are not
# PID 1 programs here (runsvdir, s6-svscan, supervisord): their reaping
# and stop escalation are not measured (n/a).  "floor" is no supervisor
# at all, a loop of posix_spawn and waitpid (probe floor): its restart
# figure is the least this machine takes from a SIGKILL to the
# replacement's main(), the physical limit, as cat(1) is for the log
# benchmark.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
PHPEEKD=${PHPEEKD:-$TOP/phpeekd/phpeekd}
KILLS=${1:-20}
REAPS=${REAPS:-9}
W=$(mktemp -d /tmp/phpeekd-bench.XXXXXX)
trap 'pkill -9 -f "$W" 2>/dev/null; rm -rf "$W"' EXIT
chmod 755 "$W"
PROBE=$W/probe
SOCK=$W/probe.sock
# linked to libc alone, as /bin/true is
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$PROBE" \
    "$TOP/regress/bench/probe.c" || exit 1

# pids of the namespace whose init is $1
ns_pids() {
	_ns=$(readlink "/proc/$1/ns/pid" 2>/dev/null) || return 0
	for _d in /proc/[0-9]*; do
		[ "$(readlink "$_d/ns/pid" 2>/dev/null)" = "$_ns" ] &&
		    echo "${_d#/proc/}"
	done
}

# PSS in KiB of the processes whose cmdline matches, in the namespace
pss() {
	_t=0
	for _p in $(ns_pids "$1"); do
		case "$(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null)" in
		$2) _k=$(awk '/^Pss:/ {print $2}' "/proc/$_p/smaps_rollup" \
		    2>/dev/null); _t=$((_t + ${_k:-0})) ;;
		esac
	done
	echo $_t
}

# context switches and CPU ticks of matching processes
usage() {
	_cs=0
	_ticks=0
	for _p in $(ns_pids "$1"); do
		case "$(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null)" in
		$2)
			_c=$(awk '/ctxt_switches/ {s += $2} END {print s}' \
			    "/proc/$_p/status" 2>/dev/null)
			_u=$(sed 's/.*) //' "/proc/$_p/stat" 2>/dev/null |
			    awk '{print $12 + $13}')
			_cs=$((_cs + ${_c:-0}))
			_ticks=$((_ticks + ${_u:-0}))
			;;
		esac
	done
	echo "$_cs $_ticks"
}

# The probe's last word is unshare's pid; the init is its child.
stop_ns() {
	_i=$(pgrep -P "$1" | head -n 1)
	[ -n "$_i" ] && kill -9 "$_i" 2>/dev/null
	while kill -0 "$1" 2>/dev/null; do :; done
}

# Run the probe in mode $1 with argument $2 on supervisor $3 with $4
# services.  Echo its figures; with $5, leave the namespace running and
# echo unshare's pid last.
probe() {
	_cmd=$(setup_"$3" "$4")
	# shellcheck disable=SC2086
	_out=$("$PROBE" "$1" "$SOCK" "$2" -- unshare --pid --fork \
	    --mount-proc $_cmd 2>>"$W/err")
	if [ -n "${5:-}" ]; then
		echo "$_out"
		return
	fi
	stop_ns "${_out##* }"
	echo "${_out% *}"
}

# --- the same services for every supervisor -------------------------

setup_phpeekd() {	# n services
	{
		echo "global:"
		echo "  log_format: text"
		echo "  log_level: warn"
		echo "  restart_immediately: true"
		echo "  restart_backoff_initial: 1s"
		echo "  restart_backoff_max: 1s"
		echo "  max_restart_attempts: -1"
		echo "  shutdown_timeout: 30"
		echo "  resource_metrics_enabled: false"
		echo "  api_enabled: false"
		echo "  metrics_enabled: false"
		echo "  api_socket: ''"
		echo "processes:"
		_i=0
		while [ $_i -lt "$1" ]; do
			echo "  s$_i:"
			echo "    enabled: true"
			echo "    command: [\"$PROBE\", \"svc\", \"$SOCK\"$NOTERM]"
			echo "    shutdown:"
			echo "      timeout: 1"
			_i=$((_i + 1))
		done
	} >"$W/phpeekd.yaml"
	echo "$PHPEEKD -f $W/phpeekd.yaml"
}

run_script() {	# dir
	printf '#!/bin/sh\nexec %s svc %s\n' "$PROBE" "$SOCK" >"$1/run"
	chmod +x "$1/run"
}

setup_runit() {
	rm -rf "$W/sv"
	mkdir -p "$W/sv"
	_i=0
	while [ $_i -lt "$1" ]; do
		mkdir -p "$W/sv/s$_i"
		run_script "$W/sv/s$_i"
		_i=$((_i + 1))
	done
	echo "runsvdir -P $W/sv"
}

setup_s6() {
	rm -rf "$W/s6"
	mkdir -p "$W/s6"
	_i=0
	while [ $_i -lt "$1" ]; do
		mkdir -p "$W/s6/s$_i"
		run_script "$W/s6/s$_i"
		_i=$((_i + 1))
	done
	echo "s6-svscan $W/s6"
}

setup_supervisord() {
	{
		echo "[supervisord]"
		echo "nodaemon=true"
		echo "logfile=/dev/null"
		echo "pidfile=$W/supervisord.pid"
		echo "loglevel=warn"
		_i=0
		while [ $_i -lt "$1" ]; do
			echo "[program:s$_i]"
			echo "command=$PROBE svc $SOCK"
			echo "autorestart=true"
			echo "startsecs=0"
			echo "stdout_logfile=/dev/null"
			echo "stderr_logfile=/dev/null"
			_i=$((_i + 1))
		done
	} >"$W/supervisord.conf"
	echo "supervisord -c $W/supervisord.conf"
}

setup_tini() {
	echo "tini -- $PROBE orphans $SOCK 1000"
}

setup_dumbinit() {
	echo "dumb-init $PROBE orphans $SOCK 1000"
}

# no supervisor at all: posix_spawn, wait, posix_spawn again
setup_floor() {
	echo "$PROBE floor $SOCK -- $PROBE svc $SOCK"
}

setup_reap() {	# phpeekd with a service that makes 1000 orphans
	cat >"$W/reap.yaml" <<YAML
global: {log_level: warn, api_enabled: false, metrics_enabled: false, api_socket: "", resource_metrics_enabled: false}
processes:
  forker:
    enabled: true
    restart: never
    command: ["$PROBE", "orphans", "$SOCK", "1000"]
  idle:
    enabled: true
    command: ["sleep", "100000"]
YAML
	echo "$PHPEEKD -f $W/reap.yaml"
}

# patterns of each supervisor's own processes
own_phpeekd='phpeekd*'
own_runit='runsv*'
own_s6='s6-*'
own_supervisord='*supervisord*'

measure_pss() {	# name, n
	_out=$(probe start "$2" "$1" "$2" keep)
	case $_out in
	\?*) echo "?" ;;
	*) _i=$(pgrep -P "${_out##* }" | head -n 1)
	   eval "_own=\$own_$1"
	   pss "$_i" "$_own" ;;
	esac
	stop_ns "${_out##* }"
}

measure_idle() {	# name: "cs cpu_ms" over 10 s with 50 services
	_out=$(probe start 50 "$1" 50 keep)
	_i=$(pgrep -P "${_out##* }" | head -n 1)
	eval "_own=\$own_$1"
	sleep 1
	set -- $(usage "$_i" "$_own")
	_cs0=$1
	_t0=$2
	sleep 10
	set -- $(usage "$_i" "$_own")
	echo "$(($1 - _cs0)) $((($2 - _t0) * 10))"
	stop_ns "${_out##* }"
}

# the run with the median lag of REAPS: one run is at the mercy of the
# scheduler, with 1000 processes ending on two cores
reap() {	# setup name
	_k=0
	: >"$W/reaps"
	while [ $_k -lt "$REAPS" ]; do
		probe reap 0 "$1" 0 >>"$W/reaps"
		_k=$((_k + 1))
	done
	sort -n -k 2 "$W/reaps" | sed -n "$(((REAPS + 1) / 2))p"
}

have() {
	command -v "$1" >/dev/null 2>&1
}

NOTERM=
row() {
	printf '%-12s %6s %6s %8s %8s %8s %8s %8s %7s %6s\n' "$@"
}
row supervisor pss1 pss50 start200 restart reap1000 reaplag killesc \
    idle-cs cpu-ms
for s in phpeekd runit s6 supervisord; do
	case $s in
	runit) have runsvdir || continue ;;
	s6) have s6-svscan || continue ;;
	supervisord) have supervisord || continue ;;
	esac
	p1=$(measure_pss $s 1)
	p50=$(measure_pss $s 50)
	st=$(probe start 200 $s 200)
	rs=$(probe restart "$KILLS" $s 1)
	rp="n/a n/a"
	ke=n/a
	if [ $s = phpeekd ]; then
		rp=$(reap reap)
		NOTERM=', "noterm"'
		ke=$(probe stop 1000 phpeekd 1)
		NOTERM=
	fi
	set -- $rp $(measure_idle $s)
	row $s "$p1" "$p50" "$st" "$rs" "$1" "$2" "$ke" "$3" "$4"
done
for s in tini dumb-init; do
	have $s || continue
	set -- $(reap "$(echo $s | tr -d -)")
	row $s n/a n/a n/a n/a "$1" "$2" n/a n/a n/a
done
row floor n/a n/a n/a "$(probe restart "$KILLS" floor 1)" n/a n/a n/a n/a n/a
