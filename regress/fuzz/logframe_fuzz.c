/*
 * libFuzzer target: service output in arbitrary pieces through the
 * line framing.  Lines never hold a newline nor exceed the limit, no
 * byte is lost or invented, and the buffer never overflows.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phpeekd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define LIMIT	64

struct tally {
	size_t	bytes;
	size_t	lines;
};

static void
emit(void *arg, const char *line, size_t len)
{
	struct tally	*t = arg;

	if (len > LIMIT || memchr(line, '\n', len) != NULL)
		abort();
	t->bytes += len;
	t->lines++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct tally	 t = { 0, 0 };
	char		 buf[LIMIT];
	size_t		 have = 0, off = 0, chunk, newlines = 0, i;

	if (len < 1)
		return (0);
	for (i = 1; i < len; i++)
		if (data[i] == '\n')
			newlines++;
	/* the first byte picks the size of the reads */
	for (off = 1; off < len; off += chunk) {
		chunk = 1 + data[0] % 37;
		if (chunk > len - off)
			chunk = len - off;
		if (chunk > LIMIT - have)
			chunk = LIMIT - have;
		memcpy(buf + have, data + off, chunk);
		have = logframe(buf, have + chunk, LIMIT, 0, emit, &t);
		if (have >= LIMIT)
			abort();
	}
	have = logframe(buf, have, LIMIT, 1, emit, &t);
	if (have != 0 || t.bytes + newlines != len - 1)
		abort();
	return (0);
}
