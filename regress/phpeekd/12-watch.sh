#!/bin/sh
# -w reloads when the file changes, also when an editor renames a new
# file over it and when a Kubernetes ConfigMap swaps its ..data symlink.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/cm/v1" "$T/cm/v2"
cat >"$T/cm/v1/phpeekd.yaml" <<YAML
global:
  log_format: text
processes:
  a:
    enabled: true
    command: ["sleep", "1000"]
YAML
sed 's/1000/2000/' "$T/cm/v1/phpeekd.yaml" >"$T/cm/v2/phpeekd.yaml"
ln -s v1 "$T/cm/..data"
ln -s ..data/phpeekd.yaml "$T/cm/phpeekd.yaml"
start_phpeekd "$T/cm/phpeekd.yaml" -w
wait_for 5 instance_pid a-0 >/dev/null || fail "a-0 not running"

# the ConfigMap way: a new ..data symlink renamed into place
ln -s v2 "$T/cm/..data_tmp"
mv -T "$T/cm/..data_tmp" "$T/cm/..data"
wait_for 5 log_has "configuration generation 2 loaded" ||
    fail "symlink swap not seen"
wait_for 5 sh -c "pgrep -f 'sleep 2000' >/dev/null" ||
    fail "the new command does not run"

# the editor way: write elsewhere, rename over the file
rm "$T/cm/phpeekd.yaml"
sed 's/2000/3000/' "$T/cm/v2/phpeekd.yaml" >"$T/cm/new.yaml"
mv "$T/cm/new.yaml" "$T/cm/phpeekd.yaml"
wait_for 5 log_has "configuration generation 3 loaded" ||
    fail "rename over the file not seen"
wait_for 5 sh -c "pgrep -f 'sleep 3000' >/dev/null" ||
    fail "the renamed file's command does not run"
stop_phpeekd
echo ok
