#!/bin/sh
# PHP-FPM pool metrics over phpeekd's own FastCGI client: Debian's
# php-fpm with its status page, nginx in front of the same page; the
# figures phpeekd exports match what the page says through nginx, a
# pool that does not answer is up 0 with its failures counted and its
# other series left out, per-worker series come with per_process only
# and name php-fpm's children, and promtool accepts the whole.
. "$(dirname "$0")/lib.sh"

command -v nginx >/dev/null || fail "nginx is not installed"
command -v promtool >/dev/null || fail "promtool is not installed"
mkdir -p "$T/public"
fpm_conf 19075 3 shop "pm.status_path = /status" "ping.path = /ping"
nginx_conf <<CONF
	server {
		listen 127.0.0.1:18082;
		location = /status {
			include /etc/nginx/fastcgi_params;
			fastcgi_param SCRIPT_NAME /status;
			fastcgi_param SCRIPT_FILENAME /status;
			fastcgi_pass 127.0.0.1:19075;
		}
	}
CONF
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  metrics_port: 19098
  api_socket: $T/ctl.sock
processes:
  php-fpm:
    enabled: true
    readiness: notify
    command: ["$FPM", "-F", "-R", "-y", "$T/fpm.conf"]
    fpm_metrics:
      socket: 127.0.0.1:19075
      status_path: /status
      ping_path: /ping
      interval: 1
      timeout: 1
  nginx:
    enabled: true
    depends_on: [php-fpm]
    command: ["nginx", "-c", "$T/nginx.conf"]
  gone:
    enabled: true
    command: ["sleep", "1000"]
    fpm_metrics:
      socket: 127.0.0.1:1
      interval: 1
      timeout: 1
YAML
out=$("$PHPEEKD" -n -f "$T/conf.yaml" 2>&1) &&
    fail "timeout 1 with interval 1 accepted"
echo "$out" | grep -q "fpm_metrics: timeout (1s) must be shorter than interval (1s)" ||
    fail "-n: $out"
sed -i 's/interval: 1/interval: 2/' "$T/conf.yaml"
start_phpeekd "$T/conf.yaml"

M=http://127.0.0.1:19098/metrics
scraped() {
	curl -s "$M" >"$T/m.txt" &&
	    grep -q '^phpfpm_up{pool="shop",socket="127.0.0.1:19075"} 1$' \
	    "$T/m.txt" &&
	    grep -q '^phpfpm_scrape_failures_total{pool="gone",socket="127.0.0.1:1"} [1-9]' \
	    "$T/m.txt"
}
wait_for 15 scraped || fail "no scrape: $(grep phpfpm "$T/m.txt")"
lint=$(promtool check metrics <"$T/m.txt" 2>&1) || fail "promtool: $lint"
[ -z "$lint" ] || fail "promtool warns: $lint"
# per-worker series are asked for, not given
grep -q phpfpm_process_ "$T/m.txt" && fail "per-worker series unasked"

# OPcache, through the script phpeekd wrote, and the ping page
[ "$(stat -c %U:%a /run/phpeekd/fpm/phpeekd-opcache.php)" = root:644 ] ||
    fail "the OPcache script: $(stat -c %U:%a /run/phpeekd/fpm/phpeekd-opcache.php)"
cached() {
	curl -s "$M" >"$T/m.txt" &&
	    grep -q '^phpfpm_opcache_hits_total{pool="shop",socket="127.0.0.1:19075"} [1-9]' "$T/m.txt"
}
wait_for 10 cached || fail "no OPcache hits: $(grep opcache "$T/m.txt")"
for m in 'phpfpm_opcache_enabled{pool="shop",socket="127.0.0.1:19075"} 1' \
    'phpfpm_ping_up{pool="shop",socket="127.0.0.1:19075"} 1'; do
	grep -q -x -F "$m" "$T/m.txt" || fail "no line: $m"
done
grep -q '^phpfpm_opcache_cached_scripts{pool="shop",socket="127.0.0.1:19075"} [1-9]' \
    "$T/m.txt" || fail "no cached script"
grep -q '^phpfpm_opcache_used_memory_bytes{pool="shop",socket="127.0.0.1:19075"} [1-9]' \
    "$T/m.txt" || fail "no OPcache memory"
grep -q '^phpfpm_opcache_enabled{pool="gone"' "$T/m.txt" &&
    fail "OPcache of a dead pool"
lint=$(promtool check metrics <"$T/m.txt" 2>&1) || fail "promtool: $lint"
[ -z "$lint" ] || fail "promtool warns: $lint"

# what nginx gets from the same page, right after
wait_for 5 curl -sf -o "$T/page.json" "http://127.0.0.1:18082/status?json" ||
    fail "the status page through nginx"
val() {	# metric: its value for the shop pool
	sed -n "s/^$1{pool=\"shop\",socket=\"127.0.0.1:19075\"} //p" "$T/m.txt"
}
[ "$(val phpfpm_total_processes)" = "$(jq '."total processes"' "$T/page.json")" ] ||
    fail "total processes: $(val phpfpm_total_processes) vs $(jq '."total processes"' "$T/page.json")"
[ "$(val phpfpm_total_processes)" = 3 ] || fail "static pool of 3"
for f in max_children_reached:'."max children reached"' \
    slow_requests:'."slow requests"' listen_queue:'."listen queue"' \
    listen_queue_length:'."listen queue len"'; do
	m=${f%%:*}
	k=${f#*:}
	[ "$(val phpfpm_$m)" = "$(jq "$k" "$T/page.json")" ] ||
	    fail "$m: $(val phpfpm_$m) vs $(jq "$k" "$T/page.json")"
done
# accepted connections only grow: nginx's request came after ours
a=$(val phpfpm_accepted_connections)
b=$(jq '."accepted conn"' "$T/page.json")
[ -n "$a" ] && [ "$a" -ge 1 ] && [ "$a" -lt "$b" ] ||
    fail "accepted conn: phpeekd $a, then nginx $b"
[ "$(val phpfpm_active_processes)" -ge 1 ] ||
    fail "the status request itself is an active process"

# a pool that does not answer: up 0, and nothing else of it
grep -q '^phpfpm_up{pool="gone",socket="127.0.0.1:1"} 0$' "$T/m.txt" ||
    fail "gone is not down"
grep -q '^phpfpm_accepted_connections{pool="gone"' "$T/m.txt" &&
    fail "a dead pool's counters are exported"
[ "$(log_count "gone: php-fpm status: connect: Connection refused")" = 1 ] ||
    fail "the outage is not logged once"

# per_process by a reload, which restarts nothing: a series per worker
# of the static pool, the pids php-fpm's children have in phpeekd's
# namespace
fpm_before=$(pids_of "php-fpm: master*")
[ -n "$fpm_before" ] || fail "no php-fpm master"
sed -i 's|^      ping_path: /ping$|&\n      per_process: true|' "$T/conf.yaml"
grep -q "per_process: true" "$T/conf.yaml" || fail "per_process not set"
kill -HUP "$NS_INIT"
wait_for 5 log_has "configuration generation 2 applied" ||
    fail "the reload was not applied"
workers() {
	curl -s "$M" >"$T/m.txt" &&
	    [ "$(grep -c '^phpfpm_process_state{pool="shop",socket="127.0.0.1:19075",pid="[0-9]*",state="[A-Za-z ]*"} 1$' "$T/m.txt")" = 3 ]
}
wait_for 10 workers || fail "no per-worker series: $(grep phpfpm_process "$T/m.txt")"
[ "$(pids_of "php-fpm: master*")" = "$fpm_before" ] ||
    fail "turning per_process on restarted php-fpm"
lint=$(promtool check metrics <"$T/m.txt" 2>&1) || fail "promtool: $lint"
[ -z "$lint" ] || fail "promtool warns: $lint"
exported=$(sed -n 's/^phpfpm_process_state{pool="shop",socket="127.0.0.1:19075",pid="\([0-9]*\)".*/\1/p' \
    "$T/m.txt" | sort -n | tr '\n' ' ')
children=$(for p in $(pids_of "php-fpm: pool shop*"); do
	awk '/^NSpid:/ { print $NF }' "/proc/$p/status"
done | sort -n | tr '\n' ' ')
[ -n "$children" ] && [ "$exported" = "$children" ] ||
    fail "worker pids: exported $exported, php-fpm's children $children"
# the worker that serves phpeekd's request is busy in its own scrape
grep -q '^phpfpm_process_state{pool="shop",.*,state="Running"} 1$' \
    "$T/m.txt" || fail "no worker runs the status request"
for m in phpfpm_process_requests phpfpm_process_request_duration \
    phpfpm_process_last_request_cpu phpfpm_process_last_request_memory; do
	[ "$(grep -c "^$m{pool=\"shop\",socket=\"127.0.0.1:19075\",pid=\"[0-9]*\"} [0-9.e+]*$" "$T/m.txt")" = 3 ] ||
	    fail "$m: $(grep "^$m" "$T/m.txt")"
	[ "$(grep -c "^# TYPE $m " "$T/m.txt")" = 1 ] || fail "$m announced twice"
done
grep -q '^# TYPE phpfpm_process_requests untyped$' "$T/m.txt" ||
    fail "phpfpm_process_requests is not untyped as the pool counters"
# every worker served at least phpeekd's earlier scrapes, in all no
# more than the pool accepted
sum=$(sed -n 's/^phpfpm_process_requests{pool="shop",[^}]*} //p' "$T/m.txt" |
    awk '{ s += $1 } END { print s }')
acc=$(val phpfpm_accepted_connections)
[ "$sum" -ge 1 ] && [ "$sum" -le "$acc" ] ||
    fail "worker requests $sum, pool accepted $acc"
grep -q '^phpfpm_process_[a-z_]*{pool="gone"' "$T/m.txt" &&
    fail "per-worker series of a pool without per_process"

# php-fpm stops: the pool goes down, and comes back with it
$TOP/phpeekctl/phpeekctl -s "$T/ctl.sock" stop php-fpm >/dev/null ||
    fail "stop php-fpm"
down() {
	curl -s "$M" | grep -q '^phpfpm_up{pool="shop",socket="127.0.0.1:19075"} 0$'
}
wait_for 10 down || fail "the pool did not go down"
curl -s "$M" >"$T/m.txt"
grep -q '^phpfpm_total_processes{pool="shop"' "$T/m.txt" &&
    fail "a stopped pool's figures are still exported"
grep -q '^phpfpm_process_state{pool="shop"' "$T/m.txt" &&
    fail "a stopped pool's workers are still exported"
$TOP/phpeekctl/phpeekctl -s "$T/ctl.sock" start php-fpm >/dev/null ||
    fail "start php-fpm"
wait_for 10 scraped || fail "the pool did not come back"
wait_for 5 log_has "php-fpm: php-fpm status answers again" ||
    fail "the recovery is not logged"
stop_phpeekd
