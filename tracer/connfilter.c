/* SPDX-License-Identifier: Apache-2.0 */
/* connfilter.c - which connections --host, --port and --sni keep */
#define _GNU_SOURCE /* FNM_CASEFOLD */
#include "connfilter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define V4_MAPPED_BITS 96 /* ::ffff:0:0/96 holds the IPv4 addresses */

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Text as an address in its IPv6 form: 0, or -1 when it is neither IPv4 nor IPv6. *v4: it
 * was IPv4. */
static int parse_addr(const char *text, uint8_t addr[16], bool *v4)
{
	struct in_addr a4;

	*v4 = inet_pton(AF_INET, text, &a4) == 1;
	if (*v4) {
		memcpy(addr, v4_mapped, sizeof(v4_mapped));
		memcpy(addr + 12, &a4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, text, addr) == 1 ? 0 : -1;
}

/* Whether addr's first `bits` bits are net's. */
static bool in_net(const struct conn_net *net, const uint8_t addr[16])
{
	int whole = net->bits / 8, rest = net->bits % 8;
	uint8_t mask = (uint8_t)(0xff00 >> rest);

	return memcmp(addr, net->addr, (size_t)whole) == 0 &&
	       (!rest || ((addr[whole] ^ net->addr[whole]) & mask) == 0);
}

int conn_filter_add_host(struct conn_filter *f, const char *arg, char *why, size_t size)
{
	char text[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(arg, '/');
	size_t len = slash ? (size_t)(slash - arg) : strlen(arg);
	struct conn_net net = {0};
	bool v4;
	long bits;
	char *end;

	if (f->nhosts == CONN_FILTER_MAX) {
		snprintf(why, size, "more than %d --host", CONN_FILTER_MAX);
		return -E2BIG;
	}
	if (len >= 2 && arg[0] == '[' && arg[len - 1] == ']') { /* [::1] as in a URL */
		arg++;
		len -= 2;
	}
	if (len > 0 && len < sizeof(text)) {
		memcpy(text, arg, len);
		text[len] = '\0';
	}
	if (len == 0 || len >= sizeof(text) || parse_addr(text, net.addr, &v4)) {
		snprintf(why, size,
			 "want an IPv4 or IPv6 address, with /PREFIX or not (names are "
			 "not looked up)");
		return -EINVAL;
	}
	net.bits = 128;
	if (slash) {
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || errno || bits < 0 || bits > (v4 ? 32 : 128)) {
			snprintf(why, size, "prefix '%s' is not 0 to %d", slash + 1, v4 ? 32 : 128);
			return -EINVAL;
		}
		net.bits = (int)bits + (v4 ? V4_MAPPED_BITS : 0);
	}
	f->hosts[f->nhosts++] = net;
	return 0;
}

int conn_filter_add_port(struct conn_filter *f, const char *arg, char *why, size_t size)
{
	char *end;
	long port;

	if (f->nports == CONN_FILTER_MAX) {
		snprintf(why, size, "more than %d --port", CONN_FILTER_MAX);
		return -E2BIG;
	}
	errno = 0;
	port = strtol(arg, &end, 10);
	if (!arg[0] || *end || errno || port < 1 || port > 65535) {
		snprintf(why, size, "want a port number from 1 to 65535");
		return -EINVAL;
	}
	f->ports[f->nports++] = (uint16_t)port;
	return 0;
}

int conn_filter_add_sni(struct conn_filter *f, const char *arg, char *why, size_t size)
{
	int depth = 0;
	const char *c;

	if (f->nsnis == CONN_FILTER_MAX) {
		snprintf(why, size, "more than %d --sni", CONN_FILTER_MAX);
		return -E2BIG;
	}
	if (!arg[0] || strlen(arg) >= HELLO_SNI_LEN) {
		snprintf(why, size, "want a server name pattern of 1 to %d characters",
			 HELLO_SNI_LEN - 1);
		return -EINVAL;
	}
	for (c = arg; *c; c++) {
		if (*c <= 0x20 || *c >= 0x7f) {
			snprintf(why, size, "a server name has no blank or byte outside printable "
					    "ASCII");
			return -EINVAL;
		}
		depth += *c == '[' && !depth;
		depth -= *c == ']' && depth;
	}
	if (depth) {
		snprintf(why, size, "'[' without its ']'");
		return -EINVAL;
	}
	f->snis[f->nsnis++] = arg;
	return 0;
}

bool conn_filter_on(const struct conn_filter *f)
{
	return f && (f->nhosts || f->nports || f->nsnis);
}

static bool sni_kept(const struct conn_filter *f, const char *sni)
{
	int i;

	for (i = 0; sni[0] && i < f->nsnis; i++)
		if (fnmatch(f->snis[i], sni, FNM_CASEFOLD) == 0)
			return true;
	return false;
}

/* Whether the end at text (of the connection's family) is in one of f's networks. */
static bool host_kept(const struct conn_filter *f, const char *text)
{
	uint8_t addr[16];
	bool v4;
	int i;

	if (parse_addr(text, addr, &v4))
		return false;
	for (i = 0; i < f->nhosts; i++)
		if (in_net(&f->hosts[i], addr))
			return true;
	return false;
}

static bool port_kept(const struct conn_filter *f, uint16_t port)
{
	int i;

	for (i = 0; i < f->nports; i++)
		if (f->ports[i] == port)
			return true;
	return false;
}

bool conn_filter_keeps(const struct conn_filter *f, const struct conn_addr *a, const char *sni)
{
	if (!conn_filter_on(f))
		return true;
	return (!f->nhosts || host_kept(f, a->laddr) || host_kept(f, a->raddr)) &&
	       (!f->nports || port_kept(f, a->lport) || port_kept(f, a->rport)) &&
	       (!f->nsnis || sni_kept(f, sni));
}

void conn_filter_describe(const struct conn_filter *f, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];
	size_t n = 0;
	int i, bits;

	buf[0] = '\0';
	for (i = 0; f && i < f->nhosts && n < size; i++) {
		const struct conn_net *net = &f->hosts[i];
		bool v4 = memcmp(net->addr, v4_mapped, sizeof(v4_mapped)) == 0 &&
			  net->bits >= V4_MAPPED_BITS;

		inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? net->addr + 12 : net->addr, text,
			  sizeof(text));
		bits = v4 ? net->bits - V4_MAPPED_BITS : net->bits;
		n += (size_t)snprintf(buf + n, size - n, "%shost %s", n ? ", " : "", text);
		if (bits != (v4 ? 32 : 128) && n < size)
			n += (size_t)snprintf(buf + n, size - n, "/%d", bits);
	}
	for (i = 0; f && i < f->nports && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%sport %u", n ? ", " : "",
				      (unsigned)f->ports[i]);
	for (i = 0; f && i < f->nsnis && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%ssni %s", n ? ", " : "", f->snis[i]);
}
