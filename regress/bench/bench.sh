#!/bin/sh
# phpeekd against its peers, each supervising the same services, each
# as PID 1 of its own PID namespace.  Prints a table; asserts nothing.
#
#	sh regress/bench/bench.sh [kills]
#
# Columns:
#   pss1, pss50   PSS (KiB) of the supervisor's own processes with 1 and
#                 50 services (/proc/PID/smaps_rollup)
#   start200      ms from start until 200 services run
#   restart       median ms from SIGKILL of a service until its
#                 replacement runs (no backoff), over KILLS kills
#   reap1000      ms until 1000 orphans are reaped and none is left
#   idle cs, cpu  context switches and CPU ms of the supervisor's
#                 processes over 10 s with 50 idle services
# tini and dumb-init run one child and never restart it: they only
# take part in reaping and memory.  runit, s6 and supervisord are not
# PID 1 programs here (runsvdir, s6-svscan, supervisord) and do not
# reap orphans of other processes: n/a.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
PHPEEKD=${PHPEEKD:-$TOP/phpeekd/phpeekd}
KILLS=${1:-20}
W=$(mktemp -d /tmp/phpeekd-bench.XXXXXX)
trap 'pkill -9 -f "$W" 2>/dev/null; rm -rf "$W"' EXIT

now_us() {
	echo $(($(date +%s%N) / 1000))
}

# pids of the namespace whose init is $1
ns_pids() {
	_ns=$(readlink "/proc/$1/ns/pid" 2>/dev/null) || return 0
	for _d in /proc/[0-9]*; do
		[ "$(readlink "$_d/ns/pid" 2>/dev/null)" = "$_ns" ] &&
		    echo "${_d#/proc/}"
	done
}

count_cmd() {	# init, pattern: processes whose cmdline matches
	_n=0
	for _p in $(ns_pids "$1"); do
		case "$(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null)" in
		$2) _n=$((_n + 1)) ;;
		esac
	done
	echo $_n
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

wait_count() {	# init, pattern, n, timeout s
	_end=$(($(date +%s) + $4))
	while [ "$(count_cmd "$1" "$2")" -lt "$3" ]; do
		[ "$(date +%s)" -gt "$_end" ] && return 1
	done
	return 0
}

start_ns() {	# command...: start it as PID 1, echo the init's pid
	unshare --pid --fork --mount-proc "$@" >"$W/out" 2>&1 &
	_u=$!
	_i=
	while [ -z "$_i" ]; do
		_i=$(pgrep -P "$_u" | head -n 1)
	done
	echo "$_i"
}

stop_ns() {
	kill -9 "$1" 2>/dev/null
	while kill -0 "$1" 2>/dev/null; do :; done
}

# --- the same services for every supervisor -------------------------

svc_cmd() {	# the service: a shell that records when it started
	echo "exec sh -c 'date +%s%N >$W/started.\$1; exec sleep 100000' sh"
}

setup_phpeekd() {	# n services
	{
		echo "global:"
		echo "  log_format: text"
		echo "  log_level: warn"
		echo "  restart_backoff_initial: 1ms"
		echo "  restart_backoff_max: 1ms"
		echo "  max_restart_attempts: -1"
		echo "  resource_metrics_enabled: false"
		echo "  api_enabled: false"
		echo "  metrics_enabled: false"
		echo "  api_socket: ''"
		echo "processes:"
		_i=0
		while [ $_i -lt "$1" ]; do
			echo "  s$_i:"
			echo "    enabled: true"
			echo "    command: [\"sh\", \"-c\", \"date +%s%N >$W/started.$_i; exec sleep 100000\"]"
			_i=$((_i + 1))
		done
	} >"$W/phpeekd.yaml"
	echo "$PHPEEKD -f $W/phpeekd.yaml"
}

setup_runit() {
	rm -rf "$W/sv"
	mkdir -p "$W/sv"
	_i=0
	while [ $_i -lt "$1" ]; do
		mkdir -p "$W/sv/s$_i"
		printf '#!/bin/sh\ndate +%%s%%N >%s/started.%s\nexec sleep 100000\n' \
		    "$W" "$_i" >"$W/sv/s$_i/run"
		chmod +x "$W/sv/s$_i/run"
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
		printf '#!/bin/sh\ndate +%%s%%N >%s/started.%s\nexec sleep 100000\n' \
		    "$W" "$_i" >"$W/s6/s$_i/run"
		chmod +x "$W/s6/s$_i/run"
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
			echo "command=sh -c \"date +%%s%%N >$W/started.$_i; exec sleep 100000\""
			echo "autorestart=true"
			echo "startsecs=0"
			echo "stdout_logfile=/dev/null"
			echo "stderr_logfile=/dev/null"
			_i=$((_i + 1))
		done
	} >"$W/supervisord.conf"
	echo "supervisord -c $W/supervisord.conf"
}

# patterns of each supervisor's own processes
own_phpeekd='phpeekd*'
own_runit='runsv*'
own_s6='s6-*'
own_supervisord='*supervisord*'
own_tini='tini*'
own_dumbinit='dumb-init*'

measure_pss() {	# name, n
	_cmd=$(setup_"$1" "$2")
	# shellcheck disable=SC2086
	_init=$(start_ns $_cmd)
	wait_count "$_init" 'sleep 100000*' "$2" 60 || { echo "?"; return; }
	eval "_own=\$own_$1"
	pss "$_init" "$_own"
	stop_ns "$_init"
}

measure_start() {	# name: ms until 200 services run
	_cmd=$(setup_"$1" 200)
	_t0=$(now_us)
	# shellcheck disable=SC2086
	_init=$(start_ns $_cmd)
	if ! wait_count "$_init" 'sleep 100000*' 200 60; then
		echo "?"
		stop_ns "$_init"
		return
	fi
	echo $((($(now_us) - _t0) / 1000))
	stop_ns "$_init"
}

measure_restart() {	# name: median ms from kill to restarted
	_cmd=$(setup_"$1" 1)
	# shellcheck disable=SC2086
	_init=$(start_ns $_cmd)
	wait_count "$_init" 'sleep 100000*' 1 30 || { echo "?"; return; }
	_k=0
	: >"$W/lat"
	while [ $_k -lt "$KILLS" ]; do
		_victim=
		while [ -z "$_victim" ]; do
			for _p in $(ns_pids "$_init"); do
				case "$(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null)" in
				'sleep 100000'*) _victim=$_p ;;
				esac
			done
		done
		rm -f "$W/started.0"
		_t0=$(date +%s%N)
		kill -9 "$_victim"
		while [ ! -s "$W/started.0" ]; do :; done
		echo $((($(cat "$W/started.0") - _t0) / 1000)) >>"$W/lat"
		# wait until the replacement is the sleep again
		while [ "$(count_cmd "$_init" 'sleep 100000*')" -lt 1 ]; do :; done
		# runsv and s6-supervise hold back a restart for a service
		# that ran less than a second: let it run longer than that
		sleep 1.1
		_k=$((_k + 1))
	done
	sort -n "$W/lat" | awk '{v[NR] = $1} END {printf "%.2f", v[int((NR + 1) / 2)] / 1000}'
	stop_ns "$_init"
}

measure_idle() {	# name: "cs cpu_ms" over 10 s with 50 services
	_cmd=$(setup_"$1" 50)
	# shellcheck disable=SC2086
	_init=$(start_ns $_cmd)
	wait_count "$_init" 'sleep 100000*' 50 60 || { echo "? ?"; return; }
	sleep 1
	eval "_own=\$own_$1"
	set -- $(usage "$_init" "$_own")
	_cs0=$1
	_t0=$2
	sleep 10
	set -- $(usage "$_init" "$_own")
	echo "$(($1 - _cs0)) $((($2 - _t0) * 10))"
	stop_ns "$_init"
}

# 1000 orphans: a child double-forks them and exits
measure_reap() {	# command...
	cat >"$W/orphans.sh" <<'EOF2'
i=0
while [ $i -lt 1000 ]; do (sleep 0.01 &); i=$((i + 1)); done
EOF2
	_t0=$(now_us)
	_init=$(start_ns "$@" sh "$W/orphans.sh")
	# done when nothing but the init is left, zombies included
	while [ "$(ns_pids "$_init" | wc -l)" -gt 1 ]; do :; done
	echo $((($(now_us) - _t0) / 1000))
	stop_ns "$_init"
}

reap_phpeekd() {
	cat >"$W/reap.yaml" <<YAML
global: {log_level: warn, api_enabled: false, metrics_enabled: false, api_socket: "", resource_metrics_enabled: false}
processes:
  forker:
    enabled: true
    restart: never
    command: ["sh", "$W/orphans.sh"]
  idle:
    enabled: true
    command: ["sleep", "100000"]
YAML
	cat >"$W/orphans.sh" <<'EOF2'
i=0
while [ $i -lt 1000 ]; do (sleep 0.01 &); i=$((i + 1)); done
EOF2
	_t0=$(now_us)
	_init=$(start_ns "$PHPEEKD" -f "$W/reap.yaml")
	while ! grep -q "forker-0: running -> exited" "$W/out" 2>/dev/null &&
	    ! [ "$(count_cmd "$_init" 'sleep 0.01*')" -eq 0 -a \
	    "$(count_cmd "$_init" 'sh *orphans*')" -eq 0 ]; do :; done
	while [ "$(count_cmd "$_init" 'sleep 0.01*')" -gt 0 ] ||
	    [ -n "$(for p in $(ns_pids "$_init"); do
	    awk '$3 == "Z" {print}' /proc/$p/stat 2>/dev/null; done)" ]; do
		:
	done
	echo $((($(now_us) - _t0) / 1000))
	stop_ns "$_init"
}

have() {
	command -v "$1" >/dev/null 2>&1
}

printf '%-12s %8s %8s %9s %9s %9s %8s %8s\n' supervisor pss1 pss50 \
    start200 restart reap1000 idle-cs cpu-ms
for s in phpeekd runit s6 supervisord; do
	case $s in
	runit) have runsvdir || continue ;;
	s6) have s6-svscan || continue ;;
	supervisord) have supervisord || continue ;;
	esac
	p1=$(measure_pss $s 1)
	p50=$(measure_pss $s 50)
	st=$(measure_start $s)
	rs=$(measure_restart $s)
	if [ $s = phpeekd ]; then
		rp=$(reap_phpeekd)
	else
		rp=n/a
	fi
	set -- $(measure_idle $s)
	printf '%-12s %8s %8s %9s %9s %9s %8s %8s\n' $s "$p1" "$p50" "$st" \
	    "$rs" "$rp" "$1" "$2"
done
for s in tini dumb-init; do
	have $s || continue
	rp=$(measure_reap $s --)
	printf '%-12s %8s %8s %9s %9s %9s %8s %8s\n' $s n/a n/a n/a n/a \
	    "$rp" n/a n/a
done
