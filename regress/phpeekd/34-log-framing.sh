#!/bin/sh
# Output framed into lines however it arrives: a line written in three
# pieces with pauses between them is one record, a 100,000-byte line is
# split at 64 KiB into two records that keep every byte, and a last
# line without a newline comes out when the program ends.
. "$(dirname "$0")/lib.sh"

cat >"$T/frag.sh" <<'SH'
printf 'hel'
sleep 0.3
printf 'lo wor'
sleep 0.3
printf 'ld\n'
head -c 100000 /dev/zero | tr '\0' x
echo
printf 'the end'
SH
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
processes:
  frag:
    enabled: true
    restart: never
    command: ["sh", "$T/frag.sh"]
  idle:
    enabled: true
    command: ["sleep", "1000"]
YAML
start_phpeekd "$T/conf.yaml"
ended() {
	log_has "frag-0: running -> "
}
wait_for 10 ended || fail "frag did not end"
wait_for 5 grep -q 'instance_id=frag-0 stream=stdout msg="the end"' \
    "$T/out" || fail "the last line, without a newline, was lost"
grep -q 'instance_id=frag-0 stream=stdout msg="hello world"$' "$T/out" ||
    fail "a line written in pieces is not one record: $(grep frag-0 "$T/out" | cut -c1-200)"
grep 'instance_id=frag-0 stream=stdout msg="x' "$T/out" |
    sed 's/.*msg="\(x*\)".*/\1/' | awk '{print length($0)}' >"$T/lens"
[ "$(cat "$T/lens" | tr '\n' ' ')" = "65536 34464 " ] ||
    fail "the long line came out as records of $(cat "$T/lens" | tr '\n' ' ')"
stop_phpeekd
[ "$EXIT_STATUS" -eq 0 ] || fail "exit status $EXIT_STATUS"
echo ok
