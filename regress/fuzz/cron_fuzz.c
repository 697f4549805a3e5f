/*
 * libFuzzer target: arbitrary text as a cron expression.  The parser
 * must accept or refuse it with a message, never crash, and an
 * accepted expression must only set bits inside each field's range.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phpeekd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct cron	 c;
	char		*s, err[256];

	if ((s = malloc(len + 1)) == NULL)
		return (0);
	memcpy(s, data, len);
	s[len] = '\0';
	if (cron_parse(s, &c, err, sizeof(err)) == 0) {
		if ((c.cr_bits[0] >> 60) != 0 || (c.cr_bits[1] >> 24) != 0 ||
		    (c.cr_bits[2] & 1) != 0 || (c.cr_bits[2] >> 32) != 0 ||
		    (c.cr_bits[3] & 1) != 0 || (c.cr_bits[3] >> 13) != 0 ||
		    (c.cr_bits[4] >> 7) != 0)
			abort();
	} else if (err[0] == '\0')
		abort();
	free(s);
	return (0);
}
