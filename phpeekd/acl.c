/*
 * Address lists for the TCP API and the metrics port: single IPv4 or
 * IPv6 addresses and CIDR blocks, as phpeek-pm's api_acl and
 * metrics_acl take them.  An IPv4 client on the dual-stack socket
 * arrives as ::ffff:a.b.c.d and is matched as the IPv4 address it is.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "phpeekd.h"

/* "a.b.c.d", "a.b.c.d/n", "x::y", "x::y/n"; -1 if it is none. */
int
acl_net_parse(const char *s, struct acl_net *an)
{
	struct acl_net	 n;
	char		 buf[INET6_ADDRSTRLEN + 8], *slash;
	const char	*errstr;
	int		 max, i;

	memset(&n, 0, sizeof(n));
	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return (-1);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (strchr(buf, ':') != NULL) {
		if (inet_pton(AF_INET6, buf, n.an_addr) != 1)
			return (-1);
		n.an_af = AF_INET6;
		max = 128;
	} else {
		if (inet_pton(AF_INET, buf, n.an_addr) != 1)
			return (-1);
		n.an_af = AF_INET;
		max = 32;
	}
	n.an_bits = (uint8_t)max;
	if (slash != NULL) {
		/* strtonum takes "+8" and " 8": a prefix is digits only */
		if (*slash == '\0' || strspn(slash, "0123456789") !=
		    strlen(slash))
			return (-1);
		n.an_bits = (uint8_t)strtonum(slash, 0, max, &errstr);
		if (errstr != NULL)
			return (-1);
	}
	/* keep only the network part, so a match is a compare */
	for (i = 0; i < 16; i++) {
		if (i * 8 >= n.an_bits)
			n.an_addr[i] = 0;
		else if (i * 8 + 8 > n.an_bits)
			n.an_addr[i] &= (uint8_t)(0xff << (8 - (n.an_bits -
			    i * 8)));
	}
	if (an != NULL)
		*an = n;
	return (0);
}

/* Whether the address (af, 4 or 16 bytes) lies in one of the nets. */
int
acl_match(const struct acl_net *nets, uint32_t n, int af, const void *addr)
{
	const uint8_t	*a = addr;
	uint32_t	 i;
	int		 b, full, rest;

	if (af == AF_INET6 && IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)
	    addr)) {
		af = AF_INET;
		a += 12;
	}
	for (i = 0; i < n; i++) {
		if (nets[i].an_af != af)
			continue;
		b = nets[i].an_bits;
		full = b / 8;
		rest = b % 8;
		if (memcmp(nets[i].an_addr, a, (size_t)full) != 0)
			continue;
		if (rest != 0 && (a[full] & (uint8_t)(0xff << (8 - rest))) !=
		    nets[i].an_addr[full])
			continue;
		return (1);
	}
	return (0);
}

/*
 * phpeek-pm's rule: in allow mode only the allow list passes (the deny
 * list is not read); in deny mode all but the deny list pass.
 */
int
acl_allows(const struct acl_conf *acl, int af, const void *addr)
{
	if (!acl->acl_enabled)
		return (1);
	if (!acl->acl_deny_mode)
		return (acl_match(acl->acl_allow, acl->acl_nallow, af, addr));
	return (!acl_match(acl->acl_deny, acl->acl_ndeny, af, addr));
}

/* A client address as text (X-Forwarded-For's first entry) into af. */
int
acl_addr_parse(const char *s, int *af, uint8_t addr[16])
{
	char	buf[INET6_ADDRSTRLEN];
	size_t	len;

	s += strspn(s, " \t");
	len = strcspn(s, ", \t");
	if (len == 0 || len >= sizeof(buf))
		return (-1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*af = AF_INET;
		return (0);
	}
	if (inet_pton(AF_INET6, buf, addr) == 1) {
		*af = AF_INET6;
		return (0);
	}
	return (-1);
}
