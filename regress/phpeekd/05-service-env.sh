#!/bin/sh
# A service starts with no blocked and no ignored signal, and with only
# fds 0, 1 and 2, even when phpeekd itself was started with signals
# ignored (ignored signals survive exec), 32 and 33 among them, which
# glibc hides, and holds many fds.
. "$(dirname "$0")/lib.sh"

# no shell can ignore 32 and 33: a program that does, then runs phpeekd
cat >"$T/ign.c" <<'C'
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct {
		void		*handler;
		unsigned long	 flags;
		void		*restorer;
		uint64_t	 mask;
	}	ksa;

	(void)argc;
	memset(&ksa, 0, sizeof(ksa));
	ksa.handler = SIG_IGN;
	if (syscall(SYS_rt_sigaction, 32, &ksa, NULL, 8) == -1 ||
	    syscall(SYS_rt_sigaction, 33, &ksa, NULL, 8) == -1)
		return (126);
	execv(argv[1], argv + 1);
	return (127);
}
C
${CC:-cc} -o "$T/ign" "$T/ign.c" || fail "cannot build the helper"
printf '#!/bin/sh\nexec %s %s "$@"\n' "$T/ign" "$PHPEEKD" >"$T/phpeekd"
chmod +x "$T/phpeekd"
PHPEEKD=$T/phpeekd

cat >"$T/conf.yaml" <<YAML
global:
  log_format: text
processes:
  svc:
    enabled: true
    command: ["sleep", "1000"]
    working_dir: /tmp
    env:
      GREETING: "hello world"
YAML
# phpeekd inherits SIGUSR1 and SIGHUP ignored from this shell
(trap '' USR1 HUP; exec 7</dev/null 8</dev/null; start_phpeekd "$T/conf.yaml"
 echo "$UNSHARE_PID $NS_INIT" >"$T/pids"; UNSHARE_PID=; NS_INIT=)
read UNSHARE_PID NS_INIT <"$T/pids"
wait_for 5 instance_pid svc-0 >/dev/null || fail "svc-0 not running"
p=$(instance_pid svc-0)
grep -q '^SigBlk:[[:space:]]*0*$' "/proc/$p/status" ||
    fail "blocked signals: $(grep SigBlk "/proc/$p/status")"
grep -q '^SigIgn:[[:space:]]*0*$' "/proc/$p/status" ||
    fail "ignored signals: $(grep SigIgn "/proc/$p/status")"
fds=$(ls "/proc/$p/fd" | sort -n | tr '\n' ' ')
[ "$fds" = "0 1 2 " ] || fail "service fds: $fds"
[ "$(readlink "/proc/$p/fd/0")" = /dev/null ] || fail "stdin is not /dev/null"
[ "$(readlink "/proc/$p/cwd")" = /tmp ] || fail "working_dir not applied"
tr '\0' '\n' <"/proc/$p/environ" | grep -qx 'GREETING=hello world' ||
    fail "env not applied"
tr '\0' '\n' <"/proc/$p/environ" | grep -qx 'PHPEEK_PM_PROCESS_NAME=svc' ||
    fail "PHPEEK_PM_PROCESS_NAME missing"
# its own session and process group
[ "$(awk '{print $6}' "/proc/$p/stat")" = "$p" ] || fail "not a session leader"
stop_phpeekd
echo ok
