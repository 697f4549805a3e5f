/*
 * Unit tests of the API's address lists: what parses as an address or
 * CIDR block and what does not, prefix matching at every boundary,
 * IPv4 clients seen through the dual-stack socket, and phpeek-pm's
 * allow and deny modes.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phpeekd.h"

static int
in_net(const char *net, const char *addr)
{
	struct acl_net	n;
	uint8_t		a[16];
	int		af;

	ck_assert_msg(acl_net_parse(net, &n) == 0, "%s does not parse", net);
	ck_assert_msg(acl_addr_parse(addr, &af, a) == 0, "%s does not parse",
	    addr);
	return (acl_match(&n, 1, af, a));
}

START_TEST(test_parse)
{
	static const char *const good[] = {
		"10.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "192.168.1.7/32",
		"::1", "::/0", "2001:db8::/32", "fe80::1/128",
		"::ffff:10.0.0.1",
	};
	static const char *const bad[] = {
		"", "10.0.0", "10.0.0.256", "10.0.0.0/33", "10.0.0.0/",
		"10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0.0/8/8",
		"::1/129", "2001:db8::g", "localhost", " 10.0.0.1",
		"10.0.0.1 ", "10.0.0.0/08x",
		"1234567890123456789012345678901234567890123456789012345678",
	};
	struct acl_net	n;
	size_t		i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(acl_net_parse(good[i], &n) == 0, "%s refused",
		    good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(acl_net_parse(bad[i], &n) == -1, "\"%s\" taken",
		    bad[i]);
	/* host bits are cleared: 10.1.2.3/8 is 10.0.0.0/8 */
	ck_assert_int_eq(acl_net_parse("10.1.2.3/8", &n), 0);
	ck_assert_int_eq(n.an_bits, 8);
	ck_assert_int_eq(n.an_addr[0], 10);
	ck_assert_int_eq(n.an_addr[1] | n.an_addr[2] | n.an_addr[3], 0);
}
END_TEST

START_TEST(test_match)
{
	ck_assert(in_net("10.0.0.0/8", "10.255.255.255"));
	ck_assert(!in_net("10.0.0.0/8", "11.0.0.0"));
	ck_assert(!in_net("10.0.0.0/8", "9.255.255.255"));
	/* a prefix that ends inside a byte */
	ck_assert(in_net("192.168.4.0/22", "192.168.7.255"));
	ck_assert(!in_net("192.168.4.0/22", "192.168.8.0"));
	ck_assert(!in_net("192.168.4.0/22", "192.168.3.255"));
	ck_assert(in_net("172.16.0.0/12", "172.31.1.1"));
	ck_assert(!in_net("172.16.0.0/12", "172.32.0.0"));
	ck_assert(in_net("0.0.0.0/0", "203.0.113.9"));
	ck_assert(in_net("127.0.0.1", "127.0.0.1"));
	ck_assert(!in_net("127.0.0.1", "127.0.0.2"));
	ck_assert(in_net("2001:db8::/32", "2001:db8:ffff::1"));
	ck_assert(!in_net("2001:db8::/32", "2001:db9::1"));
	ck_assert(in_net("::1", "::1"));
	ck_assert(!in_net("::1", "::2"));
	ck_assert(in_net("2001:db8::/33", "2001:db8:7fff::1"));
	ck_assert(!in_net("2001:db8::/33", "2001:db8:8000::1"));
	/* families do not mix, but a mapped IPv4 client is IPv4 */
	ck_assert(!in_net("::/0", "10.0.0.1"));
	ck_assert(!in_net("0.0.0.0/0", "::1"));
	ck_assert(in_net("10.0.0.0/8", "::ffff:10.9.8.7"));
	ck_assert(!in_net("10.0.0.0/8", "::ffff:11.9.8.7"));
}
END_TEST

START_TEST(test_modes)
{
	struct acl_conf	*acl;
	uint8_t		 a[16];
	int		 af;

	acl = calloc(1, sizeof(*acl));
	ck_assert_ptr_nonnull(acl);
	ck_assert_int_eq(acl_addr_parse("10.1.1.1", &af, a), 0);
	/* off: everything passes */
	ck_assert(acl_allows(acl, af, a));
	/* allow mode, empty list: nothing passes */
	acl->acl_enabled = 1;
	ck_assert(!acl_allows(acl, af, a));
	ck_assert_int_eq(acl_net_parse("10.0.0.0/8", &acl->acl_allow[0]), 0);
	acl->acl_nallow = 1;
	ck_assert(acl_allows(acl, af, a));
	/* the deny list is not read in allow mode */
	ck_assert_int_eq(acl_net_parse("10.1.0.0/16", &acl->acl_deny[0]), 0);
	acl->acl_ndeny = 1;
	ck_assert(acl_allows(acl, af, a));
	/* deny mode: all but the deny list */
	acl->acl_deny_mode = 1;
	ck_assert(!acl_allows(acl, af, a));
	ck_assert_int_eq(acl_addr_parse("10.2.1.1", &af, a), 0);
	ck_assert(acl_allows(acl, af, a));
	free(acl);
}
END_TEST

/* X-Forwarded-For: the left-most entry, and nothing that is not one. */
START_TEST(test_forwarded)
{
	uint8_t	a[16];
	int	af;

	ck_assert_int_eq(acl_addr_parse("203.0.113.7, 10.0.0.1", &af, a), 0);
	ck_assert_int_eq(af, AF_INET);
	ck_assert_int_eq(a[0], 203);
	ck_assert_int_eq(acl_addr_parse(" 2001:db8::1,10.0.0.1", &af, a), 0);
	ck_assert_int_eq(af, AF_INET6);
	ck_assert_int_eq(acl_addr_parse("", &af, a), -1);
	ck_assert_int_eq(acl_addr_parse(", 10.0.0.1", &af, a), -1);
	ck_assert_int_eq(acl_addr_parse("unknown", &af, a), -1);
	ck_assert_int_eq(acl_addr_parse("10.0.0.1:8080", &af, a), -1);
	ck_assert_int_eq(acl_addr_parse(
	    "1111:2222:3333:4444:5555:6666:7777:8888:9999", &af, a), -1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("acl");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_match);
	tcase_add_test(tc, test_modes);
	tcase_add_test(tc, test_forwarded);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
