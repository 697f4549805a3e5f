/*
 * libFuzzer target: arbitrary bytes as a configuration file through the
 * whole parse and validate path, as the config role runs it.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>

#include "phpeekd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct parse_result	pr;

	(void)parse_config("fuzz.yaml", (const char *)data, len, &pr);
	parse_result_clear(&pr);
	return (0);
}
