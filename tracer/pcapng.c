/* SPDX-License-Identifier: Apache-2.0 */
/* pcapng.c - captured plaintext as a pcapng file: one synthetic TCP stream per connection */
#include "pcapng.h"
#include "diag.h"
#include "grow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK_SHB 0x0A0D0D0Au
#define BLOCK_IDB 1u
#define BLOCK_EPB 6u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define OPT_END 0
#define OPT_COMMENT 1
#define OPT_SHB_USERAPPL 4
#define OPT_IF_NAME 2
#define OPT_IF_TSRESOL 9

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define IP4_HDR 20
#define IP6_HDR 40
#define TCP_HDR 20
#define MAX_PACKET (IP6_HDR + TCP_HDR + 65535)

/* A block being built: pcapng blocks are small but for the packet. */
struct block {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void put(struct block *b, const void *data, size_t len)
{
	if (b->oom)
		return;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *grown;

		while (cap < b->len + len)
			cap *= 2;
		grown = realloc(b->p, cap);
		if (!grown) {
			b->oom = true;
			return;
		}
		b->p = grown;
		b->cap = cap;
	}
	if (len) /* data may be NULL then */
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void put32(struct block *b, uint32_t v)
{
	put(b, &v, 4);
}

static void pad4(struct block *b)
{
	static const uint8_t zero[4];

	put(b, zero, (4 - b->len % 4) % 4);
}

/* An option: code, length, value padded to 32 bits. */
static void put_option(struct block *b, uint16_t code, const void *value, size_t len)
{
	uint16_t hdr[2] = {code, (uint16_t)len};

	put(b, hdr, 4);
	put(b, value, len);
	pad4(b);
}

/* Starts a block of `type` (its length is filled by end_block). */
static void begin_block(struct block *b, uint32_t type)
{
	b->len = 0;
	put32(b, type);
	put32(b, 0);
}

/* Ends the options, sets the length at both ends and writes the block. */
static void end_block(struct pcapng *w, struct block *b, bool options)
{
	uint32_t total;

	if (options)
		put_option(b, OPT_END, NULL, 0);
	total = (uint32_t)b->len + 4;
	put32(b, total);
	if (b->oom) {
		if (!w->err)
			w->err = ENOMEM;
		return;
	}
	memcpy(b->p + 4, &total, 4);
	if (fwrite(b->p, 1, b->len, w->f) != b->len && !w->err)
		w->err = errno ? errno : EIO;
}

void pcapng_write_header(struct pcapng *w)
{
	static const char appl[] = "tracer (TLS plaintext from uprobes)";
	static const char ifname[] = "tracer";
	struct block b = {0};
	uint32_t magic = BYTE_ORDER_MAGIC;
	uint16_t version[2] = {1, 0};
	int64_t section_len = -1;
	uint16_t linktype[2] = {PCAPNG_LINKTYPE_RAW, 0};
	uint8_t tsresol = 9; /* nanoseconds */

	begin_block(&b, BLOCK_SHB);
	put32(&b, magic);
	put(&b, version, sizeof(version));
	put(&b, &section_len, sizeof(section_len));
	put_option(&b, OPT_SHB_USERAPPL, appl, strlen(appl));
	end_block(w, &b, true);

	begin_block(&b, BLOCK_IDB);
	put(&b, linktype, sizeof(linktype));
	put32(&b, 0); /* snaplen: no limit */
	put_option(&b, OPT_IF_NAME, ifname, strlen(ifname));
	put_option(&b, OPT_IF_TSRESOL, &tsresol, 1);
	end_block(w, &b, true);
	free(b.p);
}

int pcapng_open(struct pcapng *w, const char *path, bool force)
{
	int fd, flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC;

	memset(w, 0, sizeof(*w));
	w->path = path;
	if (strcmp(path, "-") == 0) {
		w->f = stdout;
	} else {
		flags |= force ? O_TRUNC : O_EXCL;
		fd = open(path, flags, 0600);
		if (fd < 0) {
			int err = errno;

			if (err == EEXIST)
				diag("%s exists: give --force to overwrite it\n", path);
			else if (err == ELOOP)
				diag("%s is a symbolic link: not written through\n", path);
			else
				diag("failed to create %s: %s\n", path, strerror(err));
			return -err;
		}
		/* An existing file overwritten with --force keeps no wider mode. */
		if (fchmod(fd, 0600) || !(w->f = fdopen(fd, "w"))) {
			int err = errno;

			diag("failed to open %s: %s\n", path, strerror(err));
			close(fd);
			return -err;
		}
		w->own = true;
	}
	pcapng_write_header(w);
	return pcapng_flush(w);
}

uint16_t pcapng_checksum(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Sum of the TCP pseudo-header (not folded). */
static uint32_t pseudo_sum(const struct pcap_stream *s, const uint8_t *src, const uint8_t *dst,
			   uint32_t tcp_len)
{
	int alen = s->family == AF_INET6 ? 16 : 4, i;
	uint32_t sum = 6 + (tcp_len >> 16) + (tcp_len & 0xffff);

	for (i = 0; i < alen; i += 2)
		sum += ((uint32_t)src[i] << 8 | src[i + 1]) + ((uint32_t)dst[i] << 8 | dst[i + 1]);
	return sum;
}

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void be32(uint8_t *p, uint32_t v)
{
	be16(p, v >> 16);
	be16(p + 2, v & 0xffff);
}

/* One TCP segment of stream s from side d (the process's, or its peer's), as an EPB. */
static void segment(struct pcapng *w, const struct pcap_stream *s, enum side d, uint8_t flags,
		    uint32_t seq, const uint8_t *data, uint32_t len, uint64_t time_ns,
		    const char *comment)
{
	static uint8_t pkt[MAX_PACKET];
	const uint8_t *src = d == SIDE_RECEIVED ? s->remote : s->local;
	const uint8_t *dst = d == SIDE_RECEIVED ? s->local : s->remote;
	uint32_t ip_len = s->family == AF_INET6 ? IP6_HDR : IP4_HDR, caplen;
	uint8_t *tcp = pkt + ip_len;
	uint32_t ts[3] = {0, (uint32_t)(time_ns >> 32), (uint32_t)time_ns};
	struct block b = {0};

	if (len > 65535 - IP6_HDR - TCP_HDR)
		len = 65535 - IP6_HDR - TCP_HDR; /* chunks are at most 16 KiB */
	caplen = ip_len + TCP_HDR + len;
	memset(pkt, 0, ip_len + TCP_HDR);
	if (s->family == AF_INET6) {
		pkt[0] = 0x60;
		be16(pkt + 4, (uint16_t)(TCP_HDR + len));
		pkt[6] = 6;  /* TCP */
		pkt[7] = 64; /* hop limit */
		memcpy(pkt + 8, src, 16);
		memcpy(pkt + 24, dst, 16);
	} else {
		pkt[0] = 0x45;
		be16(pkt + 2, (uint16_t)caplen);
		be16(pkt + 6, 0x4000); /* don't fragment */
		pkt[8] = 64;
		pkt[9] = 6;
		memcpy(pkt + 12, src, 4);
		memcpy(pkt + 16, dst, 4);
		be16(pkt + 10, pcapng_checksum(0, pkt, IP4_HDR));
	}
	be16(tcp, d == SIDE_RECEIVED ? s->rport : s->lport);
	be16(tcp + 2, d == SIDE_RECEIVED ? s->lport : s->rport);
	be32(tcp + 4, seq);
	be32(tcp + 8, flags & TCP_ACK ? s->next[side_other(d)] : 0);
	tcp[12] = (TCP_HDR / 4) << 4;
	tcp[13] = flags;
	be16(tcp + 14, 65535); /* window */
	if (len)	       /* a SYN or FIN: data may be NULL */
		memcpy(tcp + TCP_HDR, data, len);
	be16(tcp + 16, pcapng_checksum(pseudo_sum(s, src, dst, TCP_HDR + len), tcp, TCP_HDR + len));

	begin_block(&b, BLOCK_EPB);
	put(&b, ts, sizeof(ts)); /* interface 0, timestamp high, low */
	put32(&b, caplen);
	put32(&b, caplen);
	put(&b, pkt, caplen);
	pad4(&b);
	if (comment)
		put_option(&b, OPT_COMMENT, comment, strlen(comment));
	end_block(w, &b, comment != NULL);
	free(b.p);
	w->packets++;
}

/* Sequence numbers start at a value of the key's, different each way. */
static uint32_t initial_seq(uint64_t key, enum side dir)
{
	uint64_t x = (key + 1 + (uint64_t)dir) * 0x9E3779B97F4A7C15ull;

	return (uint32_t)(x >> 32);
}

static struct pcap_stream *find(struct pcapng *w, uint64_t key)
{
	int i;

	for (i = w->n - 1; i >= 0; i--)
		if (w->v[i].key == key)
			return &w->v[i];
	return NULL;
}

/* Fills s's ends from addr, or from the documented stand-ins. */
static void set_ends(struct pcap_stream *s, const struct conn_addr *addr)
{
	const char *l = addr ? addr->laddr : PCAPNG_UNKNOWN_LOCAL;
	const char *r = addr ? addr->raddr : PCAPNG_UNKNOWN_REMOTE;
	int family = addr ? addr->family : AF_INET;

	if (inet_pton(family, l, s->local) != 1 || inet_pton(family, r, s->remote) != 1) {
		family = AF_INET;
		inet_pton(AF_INET, PCAPNG_UNKNOWN_LOCAL, s->local);
		inet_pton(AF_INET, PCAPNG_UNKNOWN_REMOTE, s->remote);
		addr = NULL;
	}
	s->family = family;
	s->lport = addr ? addr->lport : (uint16_t)(1024 + s->key % 64000);
	s->rport = addr ? addr->rport : PCAPNG_UNKNOWN_RPORT;
}

static struct pcap_stream *add(struct pcapng *w, uint64_t key, const struct conn_addr *addr)
{
	struct pcap_stream *s;

	s = grow_for(w->v, w->n, &w->cap, sizeof(*w->v), 16);
	if (!s)
		return NULL;
	w->v = s;
	s = &w->v[w->n++];
	memset(s, 0, sizeof(*s));
	s->key = key;
	set_ends(s, addr);
	s->next[SIDE_SENT] = initial_seq(key, SIDE_SENT);
	s->next[SIDE_RECEIVED] = initial_seq(key, SIDE_RECEIVED);
	return s;
}

/* SYN from the side that sent first, SYN-ACK, ACK: Wireshark then knows where each
 * direction's bytes start, so even the first call's loss shows as a gap. */
static void handshake(struct pcapng *w, struct pcap_stream *s, enum side first, uint64_t time_ns)
{
	enum side second = side_other(first);

	s->next[first]--; /* the SYN takes one sequence number before the data */
	s->next[second]--;
	segment(w, s, first, TCP_SYN, s->next[first]++, NULL, 0, time_ns, NULL);
	segment(w, s, second, TCP_SYN | TCP_ACK, s->next[second]++, NULL, 0, time_ns, NULL);
	segment(w, s, first, TCP_ACK, s->next[first], NULL, 0, time_ns, NULL);
	s->opened = true;
}

void pcapng_data(struct pcapng *w, uint64_t key, const struct conn_addr *addr, bool sent,
		 uint64_t call_id, uint32_t call_len, uint32_t offset, const uint8_t *data,
		 uint32_t len, uint64_t time_ns, const char *comment)
{
	struct pcap_stream *s = find(w, key);
	enum side d = side_of_sent(sent);

	if (!s && !(s = add(w, key, addr))) {
		if (!w->err)
			w->err = ENOMEM;
		return;
	}
	if (!s->opened)
		handshake(w, s, d, time_ns);
	/* A new call takes the sequence numbers of all it moved, captured or not. */
	if (!s->have_call[d] || s->call[d] != call_id) {
		s->call[d] = call_id;
		s->base[d] = s->next[d];
		s->have_call[d] = true;
		s->next[d] += call_len;
	}
	if (len)
		segment(w, s, d, TCP_PSH | TCP_ACK, s->base[d] + offset, data, len, time_ns,
			comment);
}

void pcapng_close(struct pcapng *w, uint64_t key, uint64_t time_ns)
{
	struct pcap_stream *s = find(w, key);

	if (!s)
		return;
	if (s->opened) {
		/* the process closes first: its FIN, the peer's, the last ACK */
		segment(w, s, SIDE_SENT, TCP_FIN | TCP_ACK, s->next[SIDE_SENT]++, NULL, 0, time_ns,
			NULL);
		segment(w, s, SIDE_RECEIVED, TCP_FIN | TCP_ACK, s->next[SIDE_RECEIVED]++, NULL, 0,
			time_ns, NULL);
		segment(w, s, SIDE_SENT, TCP_ACK, s->next[SIDE_SENT], NULL, 0, time_ns, NULL);
	}
	*s = w->v[--w->n];
}

int pcapng_flush(struct pcapng *w)
{
	static bool said;

	if (!w->f)
		return 0;
	if (fflush(w->f) && !w->err)
		w->err = errno;
	if (w->err && !said && w->err != EPIPE) {
		diag("failed to write %s: %s\n",
		     strcmp(w->path, "-") ? w->path : "the capture to stdout", strerror(w->err));
		said = true;
	}
	return -w->err;
}

int pcapng_finish(struct pcapng *w)
{
	int err = pcapng_flush(w);

	if (w->own && w->f && fclose(w->f) && !err) {
		err = -errno;
		diag("failed to write %s: %s\n", w->path, strerror(errno));
	}
	w->f = NULL;
	free(w->v);
	w->v = NULL;
	w->n = w->cap = 0;
	return err;
}
