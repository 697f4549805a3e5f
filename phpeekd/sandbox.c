/*
 * Restrictions every role puts on itself before it reads its first
 * message.
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>

#include "phpeekd.h"

static void
sandbox_rlimit(int resource, rlim_t value)
{
	struct rlimit	rl;

	rl.rlim_cur = rl.rlim_max = value;
	if (setrlimit(resource, &rl) == -1)
		fatal("setrlimit %d", resource);
}

void
sandbox_role(enum privsep_procid id)
{
	/* nothing a role runs may gain privileges through exec */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl PR_SET_NO_NEW_PRIVS");
	sandbox_rlimit(RLIMIT_CORE, 0);
	switch (id) {
	case PROC_CONFIG:
		/* it only computes: no files written, no children */
		sandbox_rlimit(RLIMIT_FSIZE, 0);
		sandbox_rlimit(RLIMIT_NPROC, 0);
		break;
	case PROC_API:
		sandbox_rlimit(RLIMIT_FSIZE, 0);
		break;
	default:
		break;
	}
}
