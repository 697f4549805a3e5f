#!/bin/sh
# Hostile configuration files: each gives a clear error and exit 1 from
# phpeekd -n within a second; through a reload, each config role keeps
# its memory bounded and ends cleanly, and the running configuration
# stays.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/bad"
head -c 104857600 /dev/zero | tr '\0' 'a' >"$T/bad/huge.yaml"
python3 -c "print('[' * 10000)" >"$T/bad/nesting.yaml"
cat >"$T/bad/aliases.yaml" <<YAML
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
YAML
printf 'processes:\n  a:\n    command: ["\377\376"]\n' >"$T/bad/utf8.yaml"
printf 'processes:\n  a:\n    command: [x]\n    scale: 99999999999999999999\n' \
    >"$T/bad/overflow.yaml"
printf 'processes:\n  a:\n    command: [x]\n  a:\n    command: [y]\n' \
    >"$T/bad/duplicate.yaml"
printf 'processes:\n  a:\n\tcommand: [x]\n' >"$T/bad/tabs.yaml"
: >"$T/bad/empty.yaml"
mkdir "$T/bad/directory.yaml"
mkfifo "$T/bad/fifo.yaml"

expect() {
	_f=$1
	_msg=$2
	_start=$(date +%s%N)
	_out=$(timeout 5 "$PHPEEKD" -n -f "$T/bad/$_f" 2>&1)
	_rc=$?
	_ms=$((($(date +%s%N) - _start) / 1000000))
	[ "$_rc" -eq 1 ] || fail "$_f: exit status $_rc, expected 1 ($_out)"
	printf '%s\n' "$_out" | grep -q -- "$_msg" ||
	    fail "$_f: no '$_msg' in: $_out"
	[ "$_ms" -lt 1000 ] || fail "$_f: took ${_ms}ms"
}
expect huge.yaml "larger than"
expect nesting.yaml "nesting.yaml:1:65: error: nesting deeper than 64"
expect aliases.yaml "aliases expand to more than 100000 nodes"
expect utf8.yaml "utf8.yaml:3:16: error: YAML: invalid leading UTF-8"
expect overflow.yaml "overflow.yaml:4:12: error: processes.a.scale: 99999999999999999999 is out of range"
expect duplicate.yaml "duplicate.yaml:4:3: error: duplicate key 'a' (first at line 2)"
expect tabs.yaml "tabs.yaml:3:1: error: YAML: found character that cannot start any token"
expect empty.yaml "the file is empty"
expect directory.yaml "not a regular file"
expect fifo.yaml "not a regular file"

# the same through the daemon: each reload fails, nothing else moves
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
processes:
  a:
    enabled: true
    command: ["sleep", "1000"]
YAML
start_phpeekd "$T/conf.yaml" -v
wait_for 5 instance_pid a-0 >/dev/null || fail "a-0 not running"
pid=$(instance_pid a-0)
n=0
for f in huge nesting aliases utf8 overflow duplicate tabs empty directory \
    fifo; do
	n=$((n + 1))
	rm -f "$T/conf.yaml"
	if [ -d "$T/bad/$f.yaml" ] || [ -p "$T/bad/$f.yaml" ]; then
		ln -s "$T/bad/$f.yaml" "$T/conf.yaml"
	else
		cp "$T/bad/$f.yaml" "$T/conf.yaml"
	fi
	kill -HUP "$NS_INIT"
	failed_n() {
		[ "$(log_count 'reload failed: keeping configuration generation 1')" -ge "$n" ]
	}
	wait_for 1 failed_n || fail "reload of $f.yaml not answered in 1 s"
done
# a config role per reload, each ended cleanly within its memory bound
log_has "config (pid [0-9]*) died" && fail "a config role crashed"
ended() {
	[ "$(log_count 'config ended, pid [0-9]*: exit status 0')" -ge 9 ]
}
wait_for 5 ended || fail "config roles did not end cleanly"
grep -o 'config ended, pid [0-9]*: exit status 0, peak [0-9]* kB' \
    "$T/err" | awk '{print $(NF - 1)}' >"$T/peaks"
while read -r kb; do
	[ "$kb" -lt 65536 ] || fail "a config role peaked at $kb kB"
done <"$T/peaks"
[ "$(instance_pid a-0)" = "$pid" ] || fail "a-0 restarted"
stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS"
echo ok
