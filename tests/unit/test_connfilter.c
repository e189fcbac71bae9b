/* SPDX-License-Identifier: Apache-2.0 */
/* test_connfilter.c - --host and --port: parsing, matching either end, the description */
#include "check.h"
#include "connfilter.h"

#include <errno.h>
#include <sys/socket.h>

static struct conn_addr v4(const char *l, uint16_t lp, const char *r, uint16_t rp)
{
	struct conn_addr a = {.family = AF_INET, .lport = lp, .rport = rp};

	snprintf(a.laddr, sizeof(a.laddr), "%s", l);
	snprintf(a.raddr, sizeof(a.raddr), "%s", r);
	return a;
}

static struct conn_addr v6(const char *l, uint16_t lp, const char *r, uint16_t rp)
{
	struct conn_addr a = v4(l, lp, r, rp);

	a.family = AF_INET6;
	return a;
}

static void test_parse(void)
{
	struct conn_filter f = {0};
	char why[160], desc[640];
	int i;

	CHECK(!conn_filter_on(&f) && !conn_filter_on(NULL));
	CHECK(conn_filter_add_host(&f, "127.0.0.1", why, sizeof(why)) == 0);
	CHECK(conn_filter_add_host(&f, "10.1.0.0/16", why, sizeof(why)) == 0);
	CHECK(conn_filter_add_host(&f, "[::1]", why, sizeof(why)) == 0);
	CHECK(conn_filter_add_host(&f, "2001:db8::/32", why, sizeof(why)) == 0);
	CHECK(conn_filter_add_host(&f, "0.0.0.0/0", why, sizeof(why)) == 0);
	CHECK(conn_filter_add_port(&f, "443", why, sizeof(why)) == 0);
	CHECK(conn_filter_add_port(&f, "65535", why, sizeof(why)) == 0);
	CHECK(conn_filter_on(&f));
	conn_filter_describe(&f, desc, sizeof(desc));
	CHECK_STR(desc, "host 127.0.0.1, host 10.1.0.0/16, host ::1, host 2001:db8::/32, host "
			"0.0.0.0/0, port 443, port 65535");

	CHECK(conn_filter_add_host(&f, "example.com", why, sizeof(why)) == -EINVAL);
	CHECK_STR(why,
		  "want an IPv4 or IPv6 address, with /PREFIX or not (names are not looked up)");
	CHECK(conn_filter_add_host(&f, "10.0.0.0/33", why, sizeof(why)) == -EINVAL);
	CHECK_STR(why, "prefix '33' is not 0 to 32");
	CHECK(conn_filter_add_host(&f, "::1/129", why, sizeof(why)) == -EINVAL);
	CHECK_STR(why, "prefix '129' is not 0 to 128");
	CHECK(conn_filter_add_host(&f, "10.0.0.0/", why, sizeof(why)) == -EINVAL);
	CHECK(conn_filter_add_host(&f, "10.0.0.0/-1", why, sizeof(why)) == -EINVAL);
	CHECK(conn_filter_add_host(&f, "10.0.0.0/8x", why, sizeof(why)) == -EINVAL);
	CHECK(conn_filter_add_host(&f, "300.1.1.1", why, sizeof(why)) == -EINVAL);
	CHECK(conn_filter_add_host(&f, "", why, sizeof(why)) == -EINVAL);
	CHECK(conn_filter_add_host(&f, "[]", why, sizeof(why)) == -EINVAL);
	CHECK(conn_filter_add_host(&f, "/8", why, sizeof(why)) == -EINVAL);
	CHECK(conn_filter_add_port(&f, "0", why, sizeof(why)) == -EINVAL);
	CHECK_STR(why, "want a port number from 1 to 65535");
	CHECK(conn_filter_add_port(&f, "65536", why, sizeof(why)) == -EINVAL);
	CHECK(conn_filter_add_port(&f, "", why, sizeof(why)) == -EINVAL);
	CHECK(conn_filter_add_port(&f, "80a", why, sizeof(why)) == -EINVAL);
	CHECK(conn_filter_add_port(&f, "-1", why, sizeof(why)) == -EINVAL);
	CHECK(f.nhosts == 5 && f.nports == 2); /* nothing refused was kept */

	for (i = f.nports; i < CONN_FILTER_MAX; i++)
		CHECK(conn_filter_add_port(&f, "1", why, sizeof(why)) == 0);
	CHECK(conn_filter_add_port(&f, "1", why, sizeof(why)) == -E2BIG);
	CHECK_STR(why, "more than 16 --port");
}

static void test_match(void)
{
	struct conn_filter f = {0};
	char why[160];
	struct conn_addr out = v4("127.0.0.1", 40000, "127.0.0.1", 8443);

	CHECK(conn_filter_keeps(&f, &out, "")); /* off: everything */

	CHECK(conn_filter_add_port(&f, "8443", why, sizeof(why)) == 0);
	CHECK(conn_filter_keeps(&f, &out, "")); /* the peer's port */
	CHECK(conn_filter_keeps(&f, &(struct conn_addr){0}, "") == false);
	/* a server's end: its own port */
	CHECK(conn_filter_keeps(&f, &(struct conn_addr){.family = AF_INET,
							.laddr = "127.0.0.1",
							.raddr = "127.0.0.1",
							.lport = 8443,
							.rport = 51000}, ""));
	CHECK(!conn_filter_keeps(&f, &(struct conn_addr){.family = AF_INET,
							 .laddr = "127.0.0.1",
							 .raddr = "127.0.0.1",
							 .lport = 8444,
							 .rport = 51000}, ""));

	CHECK(conn_filter_add_host(&f, "10.0.0.0/8", why, sizeof(why)) == 0);
	CHECK(!conn_filter_keeps(&f, &out, "")); /* the port matches, the host does not: both must */
	struct conn_addr in10 = v4("10.200.3.4", 40000, "192.0.2.1", 8443);
	CHECK(conn_filter_keeps(&f, &in10, "")); /* the local end is in 10/8 */
	struct conn_addr mapped = v6("::ffff:10.9.9.9", 40000, "::1", 8443);
	CHECK(conn_filter_keeps(&f, &mapped, "")); /* an IPv4-mapped end is IPv4 */
	struct conn_addr v6only = v6("::1", 40000, "::1", 8443);
	CHECK(!conn_filter_keeps(&f, &v6only, ""));

	struct conn_filter g = {0};
	CHECK(conn_filter_add_host(&g, "2001:db8:8000::/33", why, sizeof(why)) == 0);
	struct conn_addr inside = v6("::1", 1, "2001:db8:ffff::1", 2);
	struct conn_addr outside = v6("::1", 1, "2001:db8:7fff::1", 2);
	CHECK(conn_filter_keeps(&g, &inside, ""));
	CHECK(!conn_filter_keeps(&g, &outside, ""));
	struct conn_addr garbled = v6("nonsense", 1, "", 2);
	CHECK(!conn_filter_keeps(&g, &garbled, ""));

	struct conn_filter all = {0}; /* ::/0 holds the IPv4 addresses too */
	CHECK(conn_filter_add_host(&all, "::/0", why, sizeof(why)) == 0);
	CHECK(conn_filter_keeps(&all, &out, ""));
	struct conn_filter v4all = {0};
	CHECK(conn_filter_add_host(&v4all, "0.0.0.0/0", why, sizeof(why)) == 0);
	CHECK(conn_filter_keeps(&v4all, &out, "") && !conn_filter_keeps(&v4all, &v6only, ""));
}

static void test_sni(void)
{
	struct conn_filter f = {0};
	struct conn_addr a = v4("127.0.0.1", 40000, "127.0.0.1", 443);
	char why[160], desc[640];

	CHECK(conn_filter_add_sni(&f, "*.example.com", why, sizeof(why)) == 0);
	CHECK(conn_filter_add_sni(&f, "api.test", why, sizeof(why)) == 0);
	CHECK(conn_filter_on(&f));
	CHECK(conn_filter_keeps(&f, &a, "www.Example.COM")); /* names match in any case */
	CHECK(conn_filter_keeps(&f, &a, "API.test"));
	CHECK(!conn_filter_keeps(&f, &a, "example.com")); /* '*.' wants a label before */
	CHECK(!conn_filter_keeps(&f, &a, "")); /* no name sent: not shown to match */
	CHECK(conn_filter_add_port(&f, "8443", why, sizeof(why)) == 0);
	CHECK(!conn_filter_keeps(&f, &a, "api.test")); /* the port must match too */
	conn_filter_describe(&f, desc, sizeof(desc));
	CHECK_STR(desc, "port 8443, sni *.example.com, sni api.test");

	CHECK(conn_filter_add_sni(&f, "", why, sizeof(why)) == -EINVAL);
	CHECK_STR(why, "want a server name pattern of 1 to 255 characters");
	CHECK(conn_filter_add_sni(&f, "a b", why, sizeof(why)) == -EINVAL);
	CHECK(conn_filter_add_sni(&f, "caf\xc3\xa9", why, sizeof(why)) == -EINVAL);
	CHECK_STR(why, "a server name has no blank or byte outside printable ASCII");
	CHECK(conn_filter_add_sni(&f, "[ab", why, sizeof(why)) == -EINVAL);
	CHECK_STR(why, "'[' without its ']'");
	CHECK(conn_filter_add_sni(&f, "[ab].test", why, sizeof(why)) == 0);
	CHECK(conn_filter_keeps(&f, &(struct conn_addr){.lport = 8443}, "b.test"));
}

int main(void)
{
	test_parse();
	test_match();
	test_sni();
	return check_done();
}
