#!/bin/sh
# Processes added, changed and removed through the API, and the
# configuration saved: each change is checked as a reload would check
# the file (types, dependencies, cycles), a refused one changes nothing,
# an accepted one starts, restarts or stops only what it touches, and
# config/save writes a file that loads to the same processes, with
# ${VARIABLES} still unexpanded and the file's mode kept.  Changes
# apply to the file as last loaded, not as it is on disk now; the
# config role holding them runs until a reload from the file.
. "$(dirname "$0")/../phpeekd/lib.sh"

cat >"$T/conf.yaml" <<'YAML'
# a comment that config/save does not keep
global:
  log_format: text
  api_socket: ${SOCK}
processes:
  web:
    enabled: true
    command: ["sleep", "1000"]
    env:
      GREETING: ${GREETING:-hello}
YAML
chmod 600 "$T/conf.yaml"
export SOCK=$T/ctl.sock
start_phpeekd "$T/conf.yaml"
wait_for 5 test -S "$T/ctl.sock" || fail "no control socket"
wait_for 5 instance_pid web-0 >/dev/null || fail "web not running"
web=$(instance_pid web-0)
no_config() {
	! role_pid config >/dev/null
}
wait_for 5 no_config || fail "an idle config role runs"
# on disk only, never loaded: no change through the API brings it in
cp "$T/conf.yaml" "$T/loaded.yaml"
printf '  stray:\n    enabled: true\n    command: ["sleep", "1003"]\n' \
    >>"$T/conf.yaml"

# req METHOD PATH [JSON]: the status; the body lands in $T/body
req() {
	curl -s -o "$T/body" -w '%{http_code}' -X "$1" \
	    --unix-socket "$T/ctl.sock" ${3:+-d "$3"} "http://x$2"
}
body_has() {
	grep -q -- "$1" "$T/body" || fail "body: $(cat "$T/body"), not $1"
}

[ "$(req POST /api/v1/processes '{"name":"worker","process":{"enabled":true,"command":["sleep","1001"],"scale":2}}')" = 201 ] ||
    fail "add: $(cat "$T/body")"
[ "$(cat "$T/body")" = '{"status":"created","process":"worker","message":"Process added successfully"}' ] ||
    fail "add body: $(cat "$T/body")"
wait_for 5 instance_pid worker-1 >/dev/null || fail "worker-1 not started"
! instance_pid stray-0 >/dev/null || fail "an unloaded process was started"
role_pid config >/dev/null || fail "the config role holding a change ended"
cp "$T/loaded.yaml" "$T/conf.yaml"
[ "$(req POST /api/v1/processes '{"name":"worker","process":{"enabled":true,"command":["true"]}}')" = 409 ] ||
    fail "a duplicate add was not 409"

# refused changes: the message names the field; nothing changes
[ "$(req POST /api/v1/processes '{"name":"bad","process":{"enabled":true,"command":["sleep","1"],"scale":"many"}}')" = 400 ] ||
    fail "a bad scale was accepted"
body_has 'processes.bad.scale: expected an integer, got \\"many\\"'
[ "$(req POST /api/v1/processes '{"name":"dep","process":{"enabled":true,"command":["true"],"depends_on":["nope"]}}')" = 400 ] ||
    fail "an unknown dependency was accepted"
body_has nope
[ "$(req PUT /api/v1/processes/web '{"process":{"enabled":true,"command":["sleep","1000"],"depends_on":["worker"]}}')" = 200 ] ||
    fail "web depends on worker: $(cat "$T/body")"
web=$(instance_pid web-0)
[ "$(req PUT /api/v1/processes/worker '{"process":{"enabled":true,"command":["sleep","1001"],"depends_on":["web"]}}')" = 400 ] ||
    fail "a cycle was accepted"
body_has "worker"
body_has "web"
[ "$(req POST /api/v1/processes '{"process":{}}')" = 400 ] || fail "no name"
body_has "process name is required"
[ "$(req POST /api/v1/processes '{"name":"x"}')" = 400 ] || fail "no process"
body_has "process configuration is required"
[ "$(req POST /api/v1/processes '{"name":')" = 400 ] || fail "bad JSON"
[ "$(req PUT /api/v1/processes/ghost '{"process":{}}')" = 404 ] ||
    fail "updating an unknown process"
[ "$(req DELETE /api/v1/processes/ghost)" = 404 ] ||
    fail "removing an unknown process"
! instance_pid bad-0 >/dev/null || fail "a refused process runs"

# an update restarts that process only
w0=$(instance_pid worker-0)
[ "$(req PUT /api/v1/processes/worker '{"process":{"enabled":true,"command":["sleep","1002"],"scale":2}}')" = 200 ] ||
    fail "update: $(cat "$T/body")"
body_has '"status":"updated"'
changed() {
	_p=$(instance_pid worker-0) && [ "$_p" != "$w0" ] &&
	    cmdline "$_p" | grep -q "sleep 1002"
}
wait_for 10 changed || fail "worker not restarted with its new command"
[ "$(instance_pid web-0)" = "$web" ] || fail "web was restarted"

# remove: web stops, and is gone from the API
[ "$(req DELETE /api/v1/processes/web)" = 200 ] || fail "remove"
body_has '"status":"removed"'
wait_for 10 sh -c "! kill -0 $web 2>/dev/null" || fail "web still runs"
[ "$(req GET /api/v1/processes/web)" = 404 ] || fail "web still listed"

# save: the same processes, variables unexpanded, mode kept
w0=$(instance_pid worker-0)
[ "$(req POST /api/v1/config/save)" = 200 ] || fail "save: $(cat "$T/body")"
[ "$(cat "$T/body")" = '{"status":"saved","message":"Configuration saved successfully"}' ] ||
    fail "save body: $(cat "$T/body")"
[ "$(stat -c %a "$T/conf.yaml")" = 600 ] || fail "mode not kept"
grep -q 'api_socket: ${SOCK}' "$T/conf.yaml" ||
    fail "a variable was expanded: $(cat "$T/conf.yaml")"
! grep -q '^  web:' "$T/conf.yaml" || fail "web saved"
grep -q '^  "\{0,1\}worker"\{0,1\}:' "$T/conf.yaml" || fail "worker not saved"
"$PHPEEKD" -n -f "$T/conf.yaml" >/dev/null 2>&1 ||
    fail "the saved file does not load: $("$PHPEEKD" -n -f "$T/conf.yaml" 2>&1)"
ls "$T"/conf.yaml.* >/dev/null 2>&1 && fail "a temporary file was left"
$TOP/phpeekctl/phpeekctl -s "$T/ctl.sock" reload >/dev/null || fail "reload"
wait_for 5 log_has "configuration generation 5 loaded" || fail "no generation 5"
[ "$(instance_pid worker-0)" = "$w0" ] ||
    fail "reloading the saved file restarted worker"

# validate: the file on disk, checked and not applied
[ "$(req POST /api/v1/config/validate)" = 200 ] ||
    fail "validate the saved file: $(cat "$T/body")"
jq -e '.valid == true and .errors == 0' "$T/body" >/dev/null ||
    fail "validate: $(cat "$T/body")"
cp "$T/conf.yaml" "$T/good.yaml"
printf '    scale: -3\n' >>"$T/conf.yaml"
[ "$(req POST /api/v1/config/validate)" = 422 ] ||
    fail "validate a broken file: $(cat "$T/body")"
line=$(wc -l <"$T/conf.yaml")
jq -e ".valid == false and .errors == 1 and
    .diagnostics[0].severity == \"error\" and
    .diagnostics[0].line == $line" "$T/body" >/dev/null ||
    fail "validate report: $(cat "$T/body")"
[ "$(instance_pid worker-0)" = "$w0" ] || fail "validate applied something"
wait_for 5 no_config || fail "the config role outlived its work"

stop_phpeekd
[ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS"
