#!/bin/sh
# Install the Debian packages phpeekd needs to build, test and run its
# demo, once.  Packages already present are left alone, so this is
# quiet and quick on every run after the first.
set -eu

pkgs="gcc make pkg-config libevent-dev libyaml-dev libbsd-dev
libjson-c-dev libpcre2-dev libcurl4-openssl-dev libssl-dev openssl libseccomp-dev check mandoc clang
libclang-rt-14-dev
php-cli php-fpm nginx curl procps util-linux prometheus jq tmux wrk"

missing=
for p in $pkgs; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run as root, or: apt-get install -y$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
