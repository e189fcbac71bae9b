/* SPDX-License-Identifier: Apache-2.0 */
/* connfilter.h - which connections --host, --port and --sni keep */
#ifndef TRACER_CONNFILTER_H
#define TRACER_CONNFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conns.h"

#define CONN_FILTER_MAX 16 /* --host options, and --port options, at most */

/* A network: an address in its IPv6 form (an IPv4 one mapped: ::ffff:a.b.c.d) and how many
 * of its leading bits a matching address shares (an IPv4 prefix plus 96). */
struct conn_net {
	uint8_t addr[16];
	int bits;
};

/*
 * A connection is kept when either of its ends is in one of the networks (none given: any),
 * either of its ports is one of the ports (none given: any) and the server name its
 * ClientHello asked for matches one of the patterns (none given: any). A connection whose
 * addresses (or, with patterns, server name) are not known cannot be shown to match: with a
 * filter it is left out.
 */
struct conn_filter {
	struct conn_net hosts[CONN_FILTER_MAX];
	int nhosts;
	uint16_t ports[CONN_FILTER_MAX];
	int nports;
	const char *snis[CONN_FILTER_MAX]; /* shell patterns (fnmatch), matched ignoring case */
	int nsnis;
};

/* Adds --host `arg`: an IPv4 or IPv6 address ("[::1]" too), with an optional "/PREFIX".
 * 0, or -EINVAL (-E2BIG: too many) with why in `why`. */
int conn_filter_add_host(struct conn_filter *f, const char *arg, char *why, size_t size);

/* Adds --port `arg`: 1 to 65535. 0, or -EINVAL (-E2BIG: too many) with why in `why`. */
int conn_filter_add_port(struct conn_filter *f, const char *arg, char *why, size_t size);

/* Adds --sni `arg`, a shell pattern of a server name ("*.example.com"), kept as given (the
 * caller's string). 0, or -EINVAL (-E2BIG: too many) with why in `why`. */
int conn_filter_add_sni(struct conn_filter *f, const char *arg, char *why, size_t size);

/* Whether f leaves anything out (a --host, --port or --sni was given). */
bool conn_filter_on(const struct conn_filter *f);

/* Whether f keeps the connection whose ends are a and whose ClientHello asked for server
 * name sni ("": none asked for). */
bool conn_filter_keeps(const struct conn_filter *f, const struct conn_addr *a, const char *sni);

/* "host 127.0.0.1, host ::1/128, port 443, sni *.test" (as given, normalized); "" when f is
 * off. */
void conn_filter_describe(const struct conn_filter *f, char *buf, size_t size);

#endif
