/*
 * Cutting a stream of output into lines: the framing under logpipe.c,
 * kept apart so that it can be fuzzed without an engine around it.
 */

#include <sys/types.h>

#include <string.h>

#include "phpeekd.h"

/*
 * Call emit for every complete line in buf[0..len) (without its
 * newline), and for the rest too when it fills limit bytes or force is
 * set.  What is left moves to the front of buf; its length is
 * returned.
 */
size_t
logframe(char *buf, size_t len, size_t limit, int force,
    void (*emit)(void *, const char *, size_t), void *arg)
{
	char	*nl, *p = buf;
	size_t	 left = len;

	while (left > 0 && (nl = memchr(p, '\n', left)) != NULL) {
		emit(arg, p, (size_t)(nl - p));
		left -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	if (left >= limit || (force && left > 0)) {
		emit(arg, p, left);
		left = 0;
	}
	if (left > 0 && p != buf)
		memmove(buf, p, left);
	return (left);
}
