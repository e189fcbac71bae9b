/* SPDX-License-Identifier: Apache-2.0 */
/* pcapng.h - captured plaintext as a pcapng file: one synthetic TCP stream per connection */
#ifndef TRACER_PCAPNG_H
#define TRACER_PCAPNG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "conns.h"
#include "side.h"

#define PCAPNG_LINKTYPE_RAW 101 /* packets begin with their IPv4 or IPv6 header */

/* Addresses of connections the tracer could not look up (documented in README). */
#define PCAPNG_UNKNOWN_LOCAL "192.0.2.1"     /* TEST-NET-1 */
#define PCAPNG_UNKNOWN_REMOTE "198.51.100.1" /* TEST-NET-2 */
#define PCAPNG_UNKNOWN_RPORT 1

/* One connection's TCP stream: its ends and the next sequence number each way. */
struct pcap_stream {
	uint64_t key;
	int family;		       /* AF_INET or AF_INET6 */
	uint8_t local[16], remote[16]; /* network order; IPv4 in the first 4 bytes */
	uint16_t lport, rport;
	bool opened;	  /* its SYN, SYN-ACK and ACK are written */
	uint32_t next[2]; /* by enum side */
	uint64_t call[2]; /* the call whose bytes start at base[] */
	uint32_t base[2];
	bool have_call[2];
};

struct pcapng {
	FILE *f;
	bool own; /* f was opened here (else stdout) */
	const char *path;
	int err; /* the first write error (errno), 0 */
	struct pcap_stream *v;
	int n, cap;
	uint64_t packets;
};

/*
 * Opens path for writing ("-": stdout): created 0600, never through a symlink, an existing
 * file refused unless force (then truncated, and made 0600). Writes the section header and
 * the interface. Returns 0, or -errno after saying through diag what failed.
 */
int pcapng_open(struct pcapng *w, const char *path, bool force);

/* Writes the section header and interface description blocks to w->f. */
void pcapng_write_header(struct pcapng *w);

/*
 * One data chunk of connection `key` (addr NULL: not known, then PCAPNG_UNKNOWN_* with
 * a local port from the key): `offset` bytes into a call of `call_len` bytes that moved
 * data in direction `sent` (by the process). Each call takes call_len sequence numbers, so
 * bytes never captured (lost, truncated, unreadable) are a gap Wireshark shows.
 * The stream's handshake comes first, from the side that sent first. `comment` goes with
 * the packet.
 */
void pcapng_data(struct pcapng *w, uint64_t key, const struct conn_addr *addr, bool sent,
		 uint64_t call_id, uint32_t call_len, uint32_t offset, const uint8_t *data,
		 uint32_t len, uint64_t time_ns, const char *comment);

/* Connection `key` ended: FIN both ways, if it has a stream; then it is forgotten. */
void pcapng_close(struct pcapng *w, uint64_t key, uint64_t time_ns);

/* Flushes; returns 0 or the first write error (-errno), said once through diag. */
int pcapng_flush(struct pcapng *w);

/* Closes the file (not stdout) and frees the streams; returns as pcapng_flush. */
int pcapng_finish(struct pcapng *w);

/* The Internet checksum of len bytes, starting from sum (not yet folded). */
uint16_t pcapng_checksum(uint32_t sum, const uint8_t *p, size_t len);

#endif
