#!/bin/sh
# phpeekctl top under tmux: it shows processes and instances, and its
# keys restart, scale and stop the selected process; q quits.
. "$(dirname "$0")/../phpeekd/lib.sh"

command -v tmux >/dev/null || fail "tmux is not installed"
cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
  api_socket: $T/ctl.sock
  api_port: 19188
  metrics_port: 19098
processes:
  alpha:
    enabled: true
    command: ["sleep", "1000"]
  beta:
    enabled: true
    scale: 2
    command: ["sleep", "1001"]
YAML
start_phpeekd "$T/conf.yaml"
wait_for 5 instance_pid beta-1 >/dev/null || fail "beta-1 not running"
S=phpeekd-top-$$
tmux -L "$S" new-session -d -x 120 -y 30 \
    "$TOP/phpeekctl/phpeekctl -s $T/ctl.sock top" || fail "tmux"
screen() {
	tmux -L "$S" capture-pane -p
}
shows() {
	screen | grep -q -- "$1"
}
wait_for 5 shows 'beta-1 *running' ||
    { tmux -L "$S" kill-server; fail "top does not show beta-1: $(screen)"; }
shows '^alpha ' || fail "top does not show alpha"

# j selects beta, r restarts it
old=$(instance_pid beta-0)
tmux -L "$S" send-keys j r
restarted() {
	_p=$(instance_pid beta-0) && [ "$_p" != "$old" ]
}
wait_for 10 restarted || { tmux -L "$S" kill-server; fail "r did not restart beta"; }
wait_for 5 shows 'restart beta: done' || fail "no status line: $(screen)"
# + adds an instance
tmux -L "$S" send-keys +
wait_for 5 instance_pid beta-2 >/dev/null ||
    { tmux -L "$S" kill-server; fail "+ did not scale beta up"; }
wait_for 5 shows 'beta-2 *running' || fail "top does not show beta-2"
# k back to alpha, s stops it
tmux -L "$S" send-keys k s
stopped() {
	! instance_pid alpha-0 >/dev/null
}
wait_for 10 stopped || { tmux -L "$S" kill-server; fail "s did not stop alpha"; }
tmux -L "$S" send-keys q
gone() {
	! tmux -L "$S" has-session 2>/dev/null
}
wait_for 5 gone || { tmux -L "$S" kill-server; fail "q did not quit"; }
stop_phpeekd
echo ok
