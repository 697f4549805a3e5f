/*
 * phpeekctl: the administration client of phpeekd.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PHPEEKCTL_VERSION	"0.1.0"

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-j] [-s socket] command [argument ...]\n",
	    getprogname());
	exit(2);
}

int
main(int argc, char *argv[])
{
	int	ch;

	while ((ch = getopt(argc, argv, "js:")) != -1) {
		switch (ch) {
		case 'j':
		case 's':
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (strcmp(argv[0], "version") == 0) {
		printf("phpeekctl %s\n", PHPEEKCTL_VERSION);
		return (0);
	}
	fprintf(stderr, "%s: unknown command: %s\n", getprogname(), argv[0]);
	return (2);
}
