#!/bin/sh
# Lines per second through the log pipeline (phpeekd/logintel.c) with
# every feature on, against cat(1) of the same file to /dev/null, the
# most any reader of that file can do.  Prints a table; asserts nothing.
#
#	sh regress/bench/logintel.sh [lines]
#
# The log (default 1000000 lines) mixes what a PHP container writes:
# nginx access and error lines, PHP-FPM notices, Laravel lines with
# context, Monolog JSON, PHP fatal errors with stack traces, and lines
# holding passwords, DSNs, bearer tokens, card numbers and e-mail
# addresses.  "all" turns on redaction (two patterns of the user's and
# the built-in ones), multiline (the built-in trace shapes), JSON with
# every key, level detection (one pattern of the user's and the
# built-in ones), both filters and min_level, with the PCRE2
# interpreter as the sandboxed daemon runs it (its roles refuse the
# JIT's executable memory) and with the JIT; "built-in patterns only"
# is every feature without the user's patterns and filters, to tell
# phpeekd's cost from that of the user's regexes; "framing only" is
# the line framing with every feature off.
# Each figure is the best of RUNS runs, the file in the page cache.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
LINES=${1:-1000000}
RUNS=${RUNS:-3}
CC=${CC:-cc}
W=$(mktemp -d /tmp/phpeekd-logintel.XXXXXX)
trap 'rm -rf "$W"' EXIT

PKGS="libpcre2-8 json-c libbsd-overlay libevent"
# shellcheck disable=SC2046
$CC -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
    -Wno-unused-parameter -I"$TOP/phpeekd" \
    $(pkg-config --cflags $PKGS) -o "$W/logintel_bench" \
    "$TOP/regress/bench/logintel_bench.c" "$TOP/phpeekd/logintel.c" \
    "$TOP/phpeekd/logframe.c" $(pkg-config --libs $PKGS)

cat >"$W/gen.awk" <<'EOF'
function ts() { t++; return sprintf("%02d:%02d:%02d",
    int(t / 3600) % 24, int(t / 60) % 60, t % 60) }
function pick(a, n) { return a[1 + int(rand() * n)] }
function out(s) { print s; n++ }
function access(  p, ua, st) {
	p = pick(paths, np); ua = pick(uas, nu)
	if (p == "/health") ua = "kube-probe/1.29"
	st = rand() < 0.95 ? 200 : (rand() < 0.5 ? 404 : 502)
	out(sprintf("172.18.0.%d - - [27/Nov/2025:%s +0000] \"%s %s " \
	    "HTTP/1.1\" %d %d \"-\" \"%s\"", 2 + int(rand() * 200),
	    ts(), pick(methods, nm), p, st, int(rand() * 40000), ua))
}
function fpm(  r) {
	r = rand()
	if (r < 0.6)
		out(sprintf("[27-Nov-2025 %s] NOTICE: [pool www] child " \
		    "%d started", ts(), 100 + int(rand() * 9000)))
	else if (r < 0.85)
		out(sprintf("[27-Nov-2025 %s] NOTICE: [pool www] child " \
		    "%d exited with code 0 after %d.%02d seconds from " \
		    "start", ts(), 100 + int(rand() * 9000),
		    int(rand() * 3600), int(rand() * 100)))
	else
		out(sprintf("[27-Nov-2025 %s] WARNING: [pool www] seems " \
		    "busy (you may need to increase pm.start_servers, " \
		    "or pm.min/max_spare_servers), spawning 8 children, " \
		    "there are 0 idle, and %d total children", ts(),
		    10 + int(rand() * 40)))
}
function laravel(  r, u) {
	r = rand(); u = int(rand() * 100000)
	if (r < 0.45)
		out(sprintf("[2025-11-27 %s] production.INFO: Order %d " \
		    "placed by user %d {\"order_id\":%d,\"total\":%d.%02d," \
		    "\"currency\":\"EUR\"}", ts(), u * 7, u, u * 7,
		    int(rand() * 500), int(rand() * 100)))
	else if (r < 0.75)
		out(sprintf("[2025-11-27 %s] production.DEBUG: Cache hit " \
		    "for key users:%d:profile", ts(), u))
	else if (r < 0.9)
		out(sprintf("[2025-11-27 %s] production.WARNING: Slow " \
		    "query took %dms {\"sql\":\"select * from orders where " \
		    "user_id = ? and status = ?\",\"bindings\":[%d,\"paid\"]}",
		    ts(), 500 + int(rand() * 4000), u))
	else
		out(sprintf("[2025-11-27 %s] production.ERROR: SQLSTATE" \
		    "[HY000] [2002] Connection refused (SQL: select * from " \
		    "users where id = %d) {\"exception\":\"[object] " \
		    "(Illuminate\\\\Database\\\\QueryException(code: 2002))\"}",
		    ts(), u))
}
function monolog(  r, u) {
	r = rand(); u = int(rand() * 100000)
	if (r < 0.6)
		out(sprintf("{\"message\":\"Matched route \\\"app_order\\\"." \
		    "\",\"context\":{\"route\":\"app_order\",\"route_param" \
		    "eters\":{\"id\":\"%d\"},\"request_uri\":\"https://shop" \
		    ".example.com/orders/%d\",\"method\":\"GET\"},\"level\":" \
		    "200,\"level_name\":\"INFO\",\"channel\":\"request\"," \
		    "\"datetime\":\"2025-11-27T%s.123456+00:00\",\"extra\":" \
		    "{}}", u, u, ts()))
	else if (r < 0.9)
		out(sprintf("{\"message\":\"SELECT t0.id, t0.email FROM " \
		    "customer t0 WHERE t0.id = ?\",\"context\":{\"params\":" \
		    "{\"1\":%d}},\"level\":100,\"level_name\":\"DEBUG\"," \
		    "\"channel\":\"doctrine\",\"datetime\":\"2025-11-27T%s." \
		    "123456+00:00\",\"extra\":{}}", u, ts()))
	else
		out(sprintf("{\"message\":\"Uncaught PHP Exception Runtime" \
		    "Exception: \\\"Stock service unavailable\\\" at /var/" \
		    "www/html/src/Service/Stock.php line %d\",\"context\":" \
		    "{\"exception\":{\"class\":\"RuntimeException\",\"code\"" \
		    ":0}},\"level\":500,\"level_name\":\"CRITICAL\",\"chann" \
		    "el\":\"request\",\"datetime\":\"2025-11-27T%s.123456+" \
		    "00:00\",\"extra\":{}}", 10 + int(rand() * 200), ts()))
}
function trace(  l) {
	l = 10 + int(rand() * 300)
	out(sprintf("PHP Fatal error:  Uncaught RuntimeException: Payment " \
	    "gateway timeout in /var/www/html/app/Services/Payment.php:%d",
	    l))
	out("Stack trace:")
	out("#0 /var/www/html/app/Http/Controllers/CheckoutController.php" \
	    "(42): App\\Services\\Payment->charge()")
	out("#1 /var/www/html/vendor/laravel/framework/src/Illuminate/" \
	    "Routing/Controller.php(54): App\\Http\\Controllers\\" \
	    "CheckoutController->store()")
	out("#2 /var/www/html/vendor/laravel/framework/src/Illuminate/" \
	    "Routing/ControllerDispatcher.php(43): Illuminate\\Routing\\" \
	    "Controller->callAction()")
	out("#3 /var/www/html/public/index.php(51): Illuminate\\" \
	    "Foundation\\Http\\Kernel->handle()")
	out("#4 {main}")
	out(sprintf("  thrown in /var/www/html/app/Services/Payment.php " \
	    "on line %d", l))
}
function secret(  r, u) {
	r = rand(); u = int(rand() * 100000)
	if (r < 0.25)
		out(sprintf("[2025-11-27 %s] production.INFO: Connecting to " \
		    "mysql://shop:s3cr3t%d@db:3306/shop", ts(), u))
	else if (r < 0.5)
		out(sprintf("[2025-11-27 %s] production.INFO: Login attempt " \
		    "{\"email\":\"user%d@example.com\",\"password\":\"hunter" \
		    "%d\",\"ip\":\"10.0.%d.%d\"}", ts(), u, u, u % 256,
		    (u * 7) % 256))
	else if (r < 0.7)
		out(sprintf("[2025-11-27 %s] production.DEBUG: outgoing " \
		    "request Authorization: Bearer %08x%08x%08x%08x", ts(),
		    u, u * 31, u * 17, u * 13))
	else if (r < 0.85)
		out(sprintf("[2025-11-27 %s] production.INFO: Payment with " \
		    "card 4111 1111 1111 1111 for order %d accepted", ts(), u))
	else
		out(sprintf("[2025-11-27 %s] production.INFO: Customer %d " \
		    "ssn 123-45-6789 updated", ts(), u))
}
function nginx_error() {
	out(sprintf("2025/11/27 %s [error] 31#31: *%d upstream timed out " \
	    "(110: Connection timed out) while reading response header " \
	    "from upstream, client: 172.18.0.%d, server: _, request: " \
	    "\"GET /api/orders HTTP/1.1\", upstream: \"fastcgi://127.0." \
	    "0.1:9000\", host: \"shop.example.com\"", ts(),
	    int(rand() * 100000), 2 + int(rand() * 200)))
}
BEGIN {
	srand(7)
	nm = split("GET GET GET GET POST PUT DELETE", methods, " ")
	np = split("/ /api/users /api/orders /login /health /health " \
	    "/static/app.js /api/cart /search?q=shoes&page=2 " \
	    "/favicon.ico /api/products/42", paths, " ")
	nu = split("Mozilla/5.0_(X11;_Linux_x86_64)_AppleWebKit/537.36_" \
	    "(KHTML,_like_Gecko)_Chrome/120.0_Safari/537.36 " \
	    "curl/8.5.0 GuzzleHttp/7 Mozilla/5.0_(iPhone;_CPU_iPhone_" \
	    "OS_17_0_like_Mac_OS_X)_Mobile/15E148", uas, " ")
	for (i = 1; i <= nu; i++)
		gsub(/_/, " ", uas[i])
	while (n < N) {
		r = rand()
		if (r < 0.38) access()
		else if (r < 0.50) fpm()
		else if (r < 0.70) laravel()
		else if (r < 0.86) monolog()
		else if (r < 0.875) trace()
		else if (r < 0.95) secret()
		else nginx_error()
	}
}
EOF

awk -v N="$LINES" -f "$W/gen.awk" >"$W/app.log"
lines=$(wc -l <"$W/app.log")
bytes=$(wc -c <"$W/app.log")
cat "$W/app.log" >/dev/null		# into the page cache

now_ns() {
	date +%s%N
}

# best wall time in ns of RUNS runs of the command
best() {
	_best=
	_i=0
	while [ "$_i" -lt "$RUNS" ]; do
		_t0=$(now_ns)
		"$@" >"$W/out"
		_t1=$(now_ns)
		_t=$((_t1 - _t0))
		if [ -z "$_best" ] || [ "$_t" -lt "$_best" ]; then
			_best=$_t
		fi
		_i=$((_i + 1))
	done
	echo "$_best"
}

t_cat=$(best sh -c 'cat "$1" >/dev/null' sh "$W/app.log")
t_none=$(best "$W/logintel_bench" none "$W/app.log")
t_jit=$(best "$W/logintel_bench" all-jit "$W/app.log")
t_bi=$(best "$W/logintel_bench" builtin "$W/app.log")
t_all=$(best "$W/logintel_bench" all "$W/app.log")
read -r _ entries dropped <"$W/out"

awk -v lines="$lines" -v bytes="$bytes" -v tc="$t_cat" -v tn="$t_none" \
    -v ta="$t_all" -v tj="$t_jit" -v tb="$t_bi" -v entries="$entries" \
    -v dropped="$dropped" 'BEGIN {
	rc = lines / (tc / 1e9); rn = lines / (tn / 1e9)
	ra = lines / (ta / 1e9); rj = lines / (tj / 1e9)
	rb = lines / (tb / 1e9)
	printf("%d lines, %.1f MB; \"all\" made %d entries and dropped %d\n\n",
	    lines, bytes / 1e6, entries, dropped)
	printf("%-28s %10s %14s %8s\n", "", "seconds", "lines/s", "vs cat")
	printf("%-28s %10.3f %14.0f %8.3f\n", "cat > /dev/null", tc / 1e9,
	    rc, 1)
	printf("%-28s %10.3f %14.0f %8.3f\n", "framing only", tn / 1e9, rn,
	    rn / rc)
	printf("%-28s %10.3f %14.0f %8.3f\n", "every feature, interpreter",
	    ta / 1e9, ra, ra / rc)
	printf("%-28s %10.3f %14.0f %8.3f\n", "every feature, JIT", tj / 1e9,
	    rj, rj / rc)
	printf("%-28s %10.3f %14.0f %8.3f\n", "built-in patterns only",
	    tb / 1e9, rb, rb / rc)
	printf("\ntarget: every feature >= 0.5 of cat: %s (%.3f, JIT %.3f)\n",
	    ra / rc >= 0.5 ? "met" : "NOT met", ra / rc, rj / rc)
}'
