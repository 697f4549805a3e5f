#!/bin/sh
# The api with 64 file descriptors and 2,000 concurrent connections:
# each connection is answered or closed, the api does not crash, and it
# answers again once the storm is over.
. "$(dirname "$0")/lib.sh"

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
  api_port: 19186
  metrics_port: 19096
processes:
  svc:
    enabled: true
    command: ["sleep", "1000"]
YAML
(ulimit -n 64; start_phpeekd "$T/conf.yaml"
 echo "$UNSHARE_PID $NS_INIT" >"$T/pids"; UNSHARE_PID=; NS_INIT=)
read UNSHARE_PID NS_INIT <"$T/pids"
up() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' \
	    http://127.0.0.1:19186/api/v1/health)" = 200 ]
}
wait_for 5 up || fail "the api does not answer"
api=$(role_pid api)
[ "$(awk '/^Max open files/ {print $4}' "/proc/$api/limits")" = 64 ] ||
    fail "the api's fd limit is not 64"

i=0
while [ $i -lt 2000 ]; do
	echo 'url = "http://127.0.0.1:19186/api/v1/health"'
	echo 'output = "/dev/null"'
	i=$((i + 1))
done >"$T/urls"
(ulimit -n 8192; curl -s --no-progress-meter -K "$T/urls" --parallel \
    --parallel-max 2000 --max-time 20 -w '%{http_code}\n' >"$T/codes" \
    2>/dev/null)
bad=$(grep -v -x -E '200|503|429|000' "$T/codes" | sort | uniq -c)
[ -z "$bad" ] || fail "unexpected answers: $bad"
[ "$(wc -l <"$T/codes")" -eq 2000 ] || fail "curl did not try all 2000"
grep -q -x 200 "$T/codes" || fail "not one request answered"
wait_for 10 up || fail "the api does not answer after the storm"
log_has "api (pid [0-9]*) died" && fail "the api role died"
[ "$(role_pid api)" = "$api" ] || fail "the api role was replaced"
log_has "out of file descriptors: not accepting for 100 ms" ||
    fail "the api did not notice it ran out of descriptors"
stop_phpeekd
echo ok
