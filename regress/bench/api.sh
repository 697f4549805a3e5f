#!/bin/sh
# The API and the metrics of phpeekd under load: phpeekd runs as PID 1
# of its own PID namespace and supervises 500 instances (web, scale
# 500, each a sleep), alone ("idle") and with 50 more that crash every
# second and are restarted at once ("crash50").  Prints a table;
# asserts nothing.
#
#	sh regress/bench/api.sh
#
# Run it in a network namespace of its own when other things on the
# machine use fixed ports:
#
#	unshare --net sh -c 'ip link set lo up && sh regress/bench/api.sh'
#
# Outside one, the metrics port is the first free one from
# METRICS_PORT (default 19090); the API is only on a Unix socket.
#
# Resource sampling is on (the default), so the scrape carries CPU,
# memory, threads and open files of every instance; the measurements
# start once the first sample is in.
#
# The metrics port lets each client address have 100 requests a second
# (bursts of 200) and answers 429 beyond that, so a single wrk going
# flat out measures mostly the refusals.  The scrape columns therefore
# come from wrk held under that limit, where every answer is a real
# scrape, and the flood columns from wrk going flat out.  wrk keeps its
# connections alive, as Prometheus does.
#
# Columns:
#   bytes         size of one /metrics scrape
#   ka50          p50 ms of 50 scrapes one after the other on one
#                 kept-alive connection (wrk -t1 -c1)
#   scr/s         scrapes (2xx) a second from wrk -t2 -c8 -d10s, each
#                 connection waiting a random 0 to 180 ms after each
#                 answer (about 80 a second in all)
#   scr50, scr99  p50 and p99 ms of those scrapes, as wrk reports them
#   flood/s       responses a second from wrk -t2 -c8 -d10s at full
#                 speed on /metrics, 429s included
#   ok/s          of those, the 2xx a second
#   st50, st99    median and p99 ms of `phpeekctl status` over the
#                 control socket, process start to exit, over N runs
#   curl50, curl99  the same for curl --unix-socket .../api/v1/processes
#   rs            median ms from SIGKILL of the instance web-0 until
#                 its replacement runs (backoff 1 ms), over KILLS kills
#   rs+scr        the same while the paced wrk of scr/s scrapes
#   rs+flood      the same while the flat-out wrk of flood/s runs
# Round trips are timed with date +%s%N around the command, so they
# include starting the client; the header gives what the two dates
# alone cost (not subtracted).  Below the table: what went wrong, if
# anything (unexpected non-2xx, socket errors, failed runs, daemon
# warnings), how often crashy was restarted, and how many audit lines
# the refused requests left in the log.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
PHPEEKD=${PHPEEKD:-$TOP/phpeekd/phpeekd}
PHPEEKCTL=${PHPEEKCTL:-$TOP/phpeekctl/phpeekctl}
N=${N:-200}
KILLS=${KILLS:-20}
SCALE=500
CRASHY=50
W=$(mktemp -d /tmp/phpeekd-bench-api.XXXXXX)
SOCK=$W/sock
UNS=
INIT=
WRK=

cleanup() {
	[ -n "$WRK" ] && kill "$WRK" 2>/dev/null && wait "$WRK" 2>/dev/null
	[ -z "$INIT" ] && [ -n "$UNS" ] && INIT=$(pgrep -P "$UNS" | head -n 1)
	[ -n "$INIT" ] && kill -9 "$INIT" 2>/dev/null
	[ -n "$UNS" ] && wait "$UNS" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

die() {
	echo "api.sh: $*" >&2
	exit 1
}

now_ns() {
	date +%s%N
}

# --- tools, network -------------------------------------------------

if ! command -v wrk >/dev/null 2>&1; then
	[ "$(id -u)" -eq 0 ] || die "wrk missing: apt-get install -y wrk"
	echo "installing wrk" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk \
	    >/dev/null 2>&1 || die "apt-get install -y wrk failed"
fi
for t in curl pgrep unshare; do
	command -v $t >/dev/null 2>&1 || die "$t missing"
done
[ -x "$PHPEEKD" ] || die "no $PHPEEKD: build it first"
[ -x "$PHPEEKCTL" ] || die "no $PHPEEKCTL: build it first"

# a network namespace of our own starts with lo down
if command -v ip >/dev/null 2>&1; then
	case "$(ip -o link show lo 2>/dev/null)" in
	*'<'*UP*'>'*) ;;
	*) ip link set lo up 2>/dev/null || die "lo is down" ;;
	esac
fi

port_free() {	# no listener on TCP port $1 in this network namespace
	_h=$(printf '%04X' "$1")
	! awk -v h="$_h" '$4 == "0A" { split($2, a, ":"); if (a[2] == h) f = 1 }
	    END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

PORT=${METRICS_PORT:-19090}
while ! port_free "$PORT"; do
	PORT=$((PORT + 1))
done
URL=http://127.0.0.1:$PORT/metrics

# each wrk connection waits 0 to 180 ms (90 on average) after each
# answer: 8 connections stay under the 100 requests a second a client
# address may make, and do not ask all at the same moment
cat >"$W/pace.lua" <<'EOF'
local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("id", threads)
end
function init(args)
	math.randomseed(os.time() * 100 + id)
end
function delay()
	return math.random(0, 180)
end
EOF

# one connection, kept alive, asking again as soon as it has its answer,
# 50 times: well within the burst of 200
cat >"$W/seq.lua" <<'EOF'
local n = 0
function response(status, headers, body)
	n = n + 1
	if n >= 50 then
		wrk.thread:stop()
	end
end
EOF

# --- phpeekd ---------------------------------------------------------

config() {	# crashy instances
	# web-0 says when it starts; it alone runs "sleep 100000"
	web_sh="case \$PHPEEK_PM_INSTANCE_ID in web-0) date +%s%N >$W/started;"
	web_sh="$web_sh exec sleep 100000;; esac; exec sleep 100001"
	cat <<EOF
global:
  log_format: text
  log_level: warn
  restart_backoff_initial: 1ms
  restart_backoff_max: 1ms
  max_restart_attempts: -1
  api_enabled: false
  api_socket: $SOCK
  metrics_enabled: true
  metrics_port: $PORT
processes:
  web:
    enabled: true
    scale: $SCALE
    restart: always
    command: ["sh", "-c", "$web_sh"]
EOF
	[ "$1" -gt 0 ] && cat <<EOF
  crashy:
    enabled: true
    scale: $1
    restart: always
    command: ["sh", "-c", "sleep 1; exit 1"]
EOF
}

# pids, as seen from here, of the namespace's processes running exactly $1
ns_pgrep() {
	pgrep --ns "$INIT" --nslist pid -x -f "$1"
}

ns_count() {
	pgrep --ns "$INIT" --nslist pid -c -x -f "$1"
}

start_daemon() {	# crashy instances
	config "$1" >"$W/phpeekd.yaml"
	rm -f "$SOCK" "$W/started"
	unshare --pid --fork --mount-proc "$PHPEEKD" -f "$W/phpeekd.yaml" \
	    >"$W/out" 2>"$W/err" &
	UNS=$!
	_end=$(($(date +%s) + 60))
	INIT=
	while [ -z "$INIT" ]; do
		[ "$(date +%s)" -gt "$_end" ] && die "phpeekd did not start"
		INIT=$(pgrep -P "$UNS" | head -n 1)
		[ -n "$INIT" ] || sleep 0.05
	done
	while [ "$(ns_count 'sleep 10000[01]')" -lt $SCALE ] ||
	    ! curl -sf -o /dev/null "$URL" ||
	    ! "$PHPEEKCTL" -s "$SOCK" status >/dev/null 2>&1; do
		kill -0 "$INIT" 2>/dev/null || {
			tail -n 5 "$W/err" >&2
			die "phpeekd exited"
		}
		[ "$(date +%s)" -gt "$_end" ] &&
		    die "only $(ns_count 'sleep 10000[01]') of $SCALE run"
		sleep 0.1
	done
	# the first resource sample (resource_metrics_interval, 5 s)
	# makes the scrape four times as large: wait for it
	while [ "$(sampled)" -lt $SCALE ]; do
		[ "$(date +%s)" -gt "$_end" ] &&
		    die "no resource sample of every instance"
		sleep 0.2
	done
	# let the crashing ones get into their stride, and the bucket of
	# the requests above fill up again
	sleep 2
}

# instances of web with a resource sample in the metrics
sampled() {
	curl -s --unix-socket "$SOCK" http://localhost/metrics |
	    grep -c '^phpeek_pm_process_memory_bytes{process="web"'
}

stop_daemon() {
	kill -9 "$INIT" 2>/dev/null
	wait "$UNS" 2>/dev/null
	INIT=
	UNS=
}

# restarts of process $1 so far, from the metrics
restarts() {
	curl -s --unix-socket "$SOCK" http://localhost/metrics |
	    awk -v p="name=\"$1\"" '/^phpeek_pm_process_restarts_total/ &&
	    index($0, p) { s += $NF } END { printf "%d", s }'
}

# --- measurements ----------------------------------------------------

# median and p99 of the microsecond values in file $1, in ms
med_p99() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "? ?"; exit }
		i = int(NR * 0.99 + 0.999); if (i > NR) i = NR
		printf "%.2f %.2f\n", v[int((NR + 1) / 2)] / 1000, v[i] / 1000 }'
}

# from wrk's output in $1: "responses/s 2xx/s p50 p99 non2xx errors"
wrk_parse() {
	awk '
	function ms(s) {
		if (s ~ /us$/) return s / 1000
		if (s ~ /ms$/) return s + 0
		if (s ~ /m$/) return s * 60000
		if (s ~ /s$/) return s * 1000
		return s
	}
	$1 == "50%" { p50 = ms($2) }
	$1 == "99%" { p99 = ms($2) }
	/requests in/ { n = $1 }
	/^Requests\/sec:/ { rps = $2 }
	/Non-2xx or 3xx responses:/ { bad = $NF }
	/Socket errors:/ { sub(/.*Socket errors: /, ""); gsub(/ /, ""); err = $0 }
	END {
		if (n == "") { print "? ? ? ? ? ?"; exit }
		ok = n > 0 ? rps * (n - bad) / n : 0
		printf "%.0f %.0f %.2f %.2f %d %s\n", rps, ok, p50, p99, bad,
		    err == "" ? "-" : err
	}' "$1"
}

# time N runs of a command, microseconds a line in file $1
time_runs() {
	_f=$1
	shift
	: >"$_f"
	_i=0
	while [ $_i -lt "$N" ]; do
		_t0=$(now_ns)
		"$@" || echo "exit $?" >>"$_f.fail"
		_t1=$(now_ns)
		echo $(((_t1 - _t0) / 1000)) >>"$_f"
		_i=$((_i + 1))
	done
}

ctl_status() {
	"$PHPEEKCTL" -s "$SOCK" status >/dev/null 2>>"$W/ctl.err"
}

curl_procs() {
	_c=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
	    http://localhost/api/v1/processes)
	[ "$_c" = 200 ] || { echo "http $_c" >>"$W/curl.err"; return 1; }
}

# median ms from SIGKILL of web-0 until its replacement has started
restart_median() {
	: >"$W/lat"
	_k=0
	while [ $_k -lt "$KILLS" ]; do
		_end=$(($(date +%s) + 10))
		_v=
		while [ -z "$_v" ]; do
			[ "$(date +%s)" -gt "$_end" ] && break 2
			_v=$(ns_pgrep 'sleep 100000' | head -n 1)
			[ -n "$_v" ] || sleep 0.01
		done
		rm -f "$W/started"
		_t0=$(now_ns)
		kill -9 "$_v"
		# the replacement writes the time it starts: polling need
		# not be fast, and must leave the CPUs to phpeekd
		while [ ! -s "$W/started" ]; do
			[ "$(date +%s)" -gt "$_end" ] && break 2
			sleep 0.005
		done
		echo $((($(cat "$W/started") - _t0) / 1000)) >>"$W/lat"
		sleep 0.2
		_k=$((_k + 1))
	done
	[ $_k -lt "$KILLS" ] && echo "$_k of $KILLS kills seen back" >>"$W/notes"
	med_p99 "$W/lat" | cut -d ' ' -f 1
}

wrk_bg() {	# wrk arguments: start it for longer than needed
	wrk -t2 -c8 -d300s --latency "$@" "$URL" >"$W/wrk.bg" 2>&1 &
	WRK=$!
	sleep 1
}

wrk_bg_stop() {	# label for the notes, whether 429s are expected
	kill -INT "$WRK" 2>/dev/null
	wait "$WRK" 2>/dev/null
	WRK=
	# shellcheck disable=SC2046
	set -- "$1" $(wrk_parse "$W/wrk.bg") "$2"
	[ "$6" != 0 ] && [ "$8" != flood ] &&
	    echo "$1: $6 non-2xx of $2/s" >>"$W/notes"
	[ "$7" != - ] && echo "$1: socket errors $7" >>"$W/notes"
}

row() {
	printf '%-8s %6s %5s %5s %6s %6s %7s %6s %6s %6s %6s %6s %6s %6s %8s\n' \
	    "$@"
}

scenario() {	# name, crashy instances
	_name=$1
	_ncrash=$2
	: >"$W/notes"
	rm -f "$W"/*.fail "$W/ctl.err" "$W/curl.err"
	start_daemon "$_ncrash"
	_r0=$(restarts crashy)
	_s0=$(date +%s)

	_bytes=$(curl -s -o /dev/null -w '%{size_download}' "$URL")

	wrk -t1 -c1 -d10s --latency -s "$W/seq.lua" "$URL" >"$W/wrk.seq" 2>&1
	# shellcheck disable=SC2046
	set -- $(wrk_parse "$W/wrk.seq")
	_ka50=$3
	[ "$5" != 0 ] && echo "$_name kept-alive wrk: $5 non-2xx" >>"$W/notes"
	sleep 1

	wrk -t2 -c8 -d10s --latency -s "$W/pace.lua" "$URL" >"$W/wrk.pace" 2>&1
	# shellcheck disable=SC2046
	set -- $(wrk_parse "$W/wrk.pace")
	_scr=$2 _scr50=$3 _scr99=$4
	[ "$5" != 0 ] && echo "$_name paced wrk: $5 non-2xx" >>"$W/notes"
	[ "$6" != - ] && echo "$_name paced wrk: socket errors $6" >>"$W/notes"

	time_runs "$W/st" ctl_status
	# shellcheck disable=SC2046
	set -- $(med_p99 "$W/st")
	_st50=$1 _st99=$2
	time_runs "$W/cu" curl_procs
	# shellcheck disable=SC2046
	set -- $(med_p99 "$W/cu")
	_cu50=$1 _cu99=$2
	for _f in st cu; do
		[ -s "$W/$_f.fail" ] && echo "$_name: $(wc -l <"$W/$_f.fail")" \
		    "of $N runs failed: $(sort -u "$W/$_f.fail" | head -n 3 |
		    tr '\n' ' ')" >>"$W/notes"
	done
	[ -s "$W/ctl.err" ] && echo "$_name phpeekctl: $(sort -u "$W/ctl.err" |
	    head -n 1)" >>"$W/notes"
	[ -s "$W/curl.err" ] && echo "$_name curl: $(sort "$W/curl.err" |
	    uniq -c | head -n 3 | tr '\n' ' ')" >>"$W/notes"

	_rs=$(restart_median)
	wrk_bg -s "$W/pace.lua"
	_rsscr=$(restart_median)
	wrk_bg_stop "$_name rs+scr wrk" paced

	wrk -t2 -c8 -d10s --latency "$URL" >"$W/wrk.flood" 2>&1
	# shellcheck disable=SC2046
	set -- $(wrk_parse "$W/wrk.flood")
	_flood=$1 _ok=$2
	[ "$6" != - ] && echo "$_name flood wrk: socket errors $6" >>"$W/notes"
	wrk_bg
	_rsflood=$(restart_median)
	wrk_bg_stop "$_name rs+flood wrk" flood

	if [ "$_ncrash" -gt 0 ]; then
		_r1=$(restarts crashy)
		_dt=$(($(date +%s) - _s0))
		echo "$_name: crashy restarted $((_r1 - _r0)) times in" \
		    "${_dt}s ($(((_r1 - _r0) / (_dt > 0 ? _dt : 1)))/s)" \
		    >>"$W/notes"
	fi
	# what the daemon complained of, but for the configuration check
	grep -E 'level=(WARN|ERROR)' "$W/err" | grep -v ': warning: ' |
	    sed 's/^time=[^ ]* //' | sort | uniq -c | sort -rn | head -n 5 |
	    sed "s/^ */$_name log: /" >>"$W/notes"
	_audit=$(grep -c 'rate limit exceeded' "$W/err")
	[ "$_audit" -gt 0 ] && echo "$_name log: $_audit lines" \
	    "\"audit: 127.0.0.1: rate limit exceeded\"" >>"$W/notes"
	stop_daemon

	row "$_name" "$_bytes" "$_ka50" "$_scr" "$_scr50" "$_scr99" "$_flood" \
	    "$_ok" "$_st50" "$_st99" "$_cu50" "$_cu99" "$_rs" "$_rsscr" "$_rsflood"
	cat "$W/notes" >>"$W/allnotes"
}

# --- run --------------------------------------------------------------

T0=$(now_ns)
# what timing a run with two dates costs by itself
time_runs "$W/nothing" true
echo "machine: $(nproc) cpus, $(uname -sr), $(awk -F': ' \
    '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo "load: $(cut -d ' ' -f 1-3 /proc/loadavg); wrk $(wrk -v 2>&1 |
    awk 'NR == 1 { print $2 }'); metrics port $PORT"
echo "instances: web $SCALE (sleep), crashy $CRASHY (sleep 1; exit 1)" \
    "in crash50; N=$N, KILLS=$KILLS; timer overhead" \
    "$(med_p99 "$W/nothing" | cut -d ' ' -f 1) ms"
echo
row scenario bytes ka50 scr/s scr50 scr99 flood/s ok/s st50 st99 curl50 \
    curl99 rs rs+scr rs+flood
: >"$W/allnotes"
scenario idle 0
scenario crash50 $CRASHY
if [ -s "$W/allnotes" ]; then
	echo
	cat "$W/allnotes"
fi
echo
echo "total $((($(now_ns) - T0) / 1000000000)) s"
