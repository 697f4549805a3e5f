#!/bin/sh
# A configuration with no HTTP check, heartbeat or socket runs two
# processes, parent and engine (the config role has ended), and neither
# maps libcurl or OpenSSL.  restart_immediately
# brings a killed service back at once, and the crash right after that
# waits restart_backoff_initial.  A reload that adds an HTTP check and a
# control socket replaces the engine with one that has libcurl and
# starts the api; of the services, only the one the reload changed
# restarts.  A reload that turns TLS on replaces the api with one that
# has OpenSSL.
. "$(dirname "$0")/lib.sh"
PHP=$(command -v php) || fail "php is not installed"
echo ok >"$T/health.txt"

# conf STAGE: 1 nothing but two services; 2 a changed worker, an HTTP
# check and a control socket; 3 the TCP API with TLS as well
conf() {
	{
		echo "global:"
		echo "  log_format: text"
		echo "  metrics_enabled: false"
		echo "  restart_immediately: true"
		echo "  restart_backoff_initial: 3s"
		echo "  restart_backoff_max: 30s"
		echo "  max_restart_attempts: -1"
		if [ "$1" -lt 2 ]; then
			echo "  api_socket: ''"
		else
			echo "  api_socket: $T/ctl.sock"
		fi
		if [ "$1" -lt 3 ]; then
			echo "  api_enabled: false"
		else
			echo "  api_enabled: true"
			echo "  api_port: 19186"
			echo "  api_tls: {enabled: true, cert_file: $T/s.crt," \
			    "key_file: $T/s.key}"
		fi
		echo "processes:"
		echo "  worker:"
		echo "    enabled: true"
		echo "    command: [\"sleep\", \"$((999 + $1 / 2 * 2))\"]"
		echo "  web:"
		echo "    enabled: true"
		echo "    command: [\"$PHP\", \"-S\", \"127.0.0.1:19131\", \"-t\", \"$T\"]"
		[ "$1" -lt 2 ] && return
		echo "    health_check:"
		echo "      type: http"
		echo "      url: http://127.0.0.1:19131/health.txt"
		echo "      initial_delay: 0"
		echo "      period: 1"
	} >"$T/conf.yaml"
}
conf 1
start_phpeekd "$T/conf.yaml"
wait_for 5 instance_pid worker-0 >/dev/null || fail "worker-0 not running"
wait_for 5 instance_pid web-0 >/dev/null || fail "web-0 not running"

# two processes, neither with libcurl or OpenSSL mapped
role_pid api >/dev/null && fail "an api role runs with nothing to serve"
no_config() {
	! role_pid config >/dev/null
}
wait_for 5 no_config || fail "the config role runs with nothing to parse"
for r in parent engine; do
	p=$(role_pid "$r") || fail "no $r role"
	grep -E -q 'libcurl|libssl|libcrypto' "/proc/$p/maps" &&
	    fail "the $r role maps libcurl or OpenSSL"
done

# the first crash: back at once; the one right after: backs off
w=$(instance_pid worker-0)
kill -9 "$w"
back() {
	_p=$(instance_pid worker-0) && [ "$_p" != "$w" ]
}
wait_for 5 back || fail "worker-0 was not restarted"
log_has "worker-0: running -> backoff (killed by SIGKILL; restart 1 in 0ms)" ||
    fail "the first restart was not immediate"
w=$(instance_pid worker-0)
kill -9 "$w"
wait_for 5 log_has "restart 2 in 3000ms" ||
    fail "the second crash in a row did not back off"
instance_pid worker-0 >/dev/null && fail "worker-0 came back before its backoff"
wait_for 6 back || fail "worker-0 did not come back after its backoff"

# a reload that needs libcurl and the api, and changes the worker
worker=$(instance_pid worker-0)
web=$(instance_pid web-0)
engine=$(role_pid engine)
conf 2
kill -HUP "$NS_INIT"
wait_for 5 log_has "engine: starting again with libcurl" ||
    fail "the engine was not replaced"
wait_for 10 log_has "web: health check passed" ||
    fail "the HTTP check never passed"
e=$(role_pid engine) || fail "no engine after the reload"
[ "$e" != "$engine" ] || fail "the same engine runs"
grep -q libcurl "/proc/$e/maps" || fail "the new engine has no libcurl"
wait_for 5 role_pid api >/dev/null || fail "no api role for the socket"
wait_for 5 test -S "$T/ctl.sock" || fail "no control socket"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/ctl.sock" \
    http://x/api/v1/health)
[ "$code" = 200 ] || fail "the control socket answered $code"
# the new engine took up the old generation, then reloaded: what
# changed restarts, and only that
restarted() {
	_p=$(instance_pid worker-0) && [ "$_p" != "$worker" ]
}
wait_for 5 restarted || fail "the changed worker-0 was not restarted"
log_has "worker: changed, restarting" || fail "no restart of the worker"
[ "$(cmdline "$(instance_pid worker-0)")" = "sleep 1001 " ] ||
    fail "worker-0 runs the old command"
[ "$(instance_pid web-0)" = "$web" ] || fail "the unchanged web-0 was restarted"

# a reload that turns TLS on: the api is replaced by one with OpenSSL
command -v openssl >/dev/null || fail "openssl is not installed"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 2 -subj "/CN=127.0.0.1" -keyout "$T/s.key" -out "$T/s.crt" \
    -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null ||
    fail "openssl: cannot make a certificate"
api=$(role_pid api)
grep -q libssl "/proc/$api/maps" && fail "the api maps OpenSSL without TLS"
worker=$(instance_pid worker-0)
conf 3
kill -HUP "$NS_INIT"
wait_for 5 log_has "api: starting again with OpenSSL" ||
    fail "the api was not replaced"
tls() {
	curl -sf -o /dev/null --cacert "$T/s.crt" \
	    https://127.0.0.1:19186/api/v1/health
}
wait_for 5 tls || fail "the API does not answer over TLS"
a=$(role_pid api) || fail "no api after the reload"
[ "$a" != "$api" ] || fail "the same api runs"
grep -q libssl "/proc/$a/maps" || fail "the new api has no OpenSSL"
[ "$(instance_pid worker-0)" = "$worker" ] || fail "worker-0 was restarted"
[ "$(instance_pid web-0)" = "$web" ] || fail "web-0 was restarted"
log_has "died" && fail "a role died: $(grep died "$T/err" | head -n 1)"

stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS"
echo ok
