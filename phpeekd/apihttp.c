/*
 * HTTP for the api role: placeholder until the REST API lands; the
 * listeners the parent hands over are kept open so clients queue.
 */

#include <sys/types.h>

#include <unistd.h>

#include "phpeekd.h"

static int	apihttp_fds[LISTEN_METRICS + 1] = { -1, -1, -1, -1 };

void
apihttp_listen(int kind, int fd)
{
	if (apihttp_fds[kind] != -1)
		close(apihttp_fds[kind]);
	apihttp_fds[kind] = fd;
}
