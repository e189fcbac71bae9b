/* SPDX-License-Identifier: Apache-2.0 */
/* test_pcapng.c - the pcapng writer: file safety, blocks, TCP streams with gaps, checksums */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "pcapng.h"

static char dir[] = "/tmp/test_pcapng.XXXXXX";

static const char *path_of(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* A packet of the file, as read back. */
struct pkt {
	const uint8_t *ip;
	uint32_t len;
	uint64_t ts;
	char comment[256];
};

static uint8_t file[1 << 16];
static struct pkt pkts[64];
static int npkts;

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads path's blocks: checks the section header and interface, collects the packets. */
static void read_back(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(file, 1, sizeof(file), f) : 0, off = 0;

	if (f)
		fclose(f);
	npkts = 0;
	CHECK(n > 28 && u32(file) == 0x0A0D0D0A && u32(file + 8) == 0x1A2B3C4D);
	while (off + 12 <= n) {
		uint32_t type = u32(file + off), len = u32(file + off + 4);

		CHECK(len % 4 == 0 && off + len <= n && u32(file + off + len - 4) == len);
		if (len % 4 || off + len > n || len < 12)
			return;
		if (type == 1) /* IDB: LINKTYPE_RAW */
			CHECK((u32(file + off + 8) & 0xffff) == PCAPNG_LINKTYPE_RAW);
		if (type == 6 && npkts < 64) {
			struct pkt *p = &pkts[npkts++];
			uint32_t cap = u32(file + off + 20);
			const uint8_t *opt = file + off + 28 + ((cap + 3) & ~3u);

			p->ip = file + off + 28;
			p->len = cap;
			p->ts = (uint64_t)u32(file + off + 12) << 32 | u32(file + off + 16);
			p->comment[0] = '\0';
			if (opt < file + off + len - 4 && (u32(opt) & 0xffff) == 1)
				snprintf(p->comment, sizeof(p->comment), "%.*s",
					 (int)(u32(opt) >> 16), opt + 4);
		}
		off += len;
	}
}

/* TCP of packet p: header offset, sequence, flags, payload length. */
static const uint8_t *tcp_of(const struct pkt *p, uint32_t *payload)
{
	uint32_t ip = (p->ip[0] >> 4) == 6 ? 40 : 20;

	*payload = p->len - ip - 20;
	return p->ip + ip;
}

/* Whether the IPv4 header and the TCP checksum of p are right (they sum to zero). */
static bool checksums_ok(const struct pkt *p)
{
	bool v6 = (p->ip[0] >> 4) == 6;
	uint32_t ip = v6 ? 40 : 20, tcp_len = p->len - ip, sum = 6 + tcp_len;
	int alen = v6 ? 16 : 4, i;
	const uint8_t *src = p->ip + (v6 ? 8 : 12);

	if (!v6 && pcapng_checksum(0, p->ip, 20) != 0)
		return false;
	for (i = 0; i < 2 * alen; i += 2)
		sum += (uint32_t)src[i] << 8 | src[i + 1];
	return pcapng_checksum(sum, p->ip + ip, tcp_len) == 0;
}

static void test_file_safety(void)
{
	struct pcapng w;
	struct stat st;
	char target[256];
	int rc;

	CHECK(pcapng_open(&w, path_of("new.pcapng"), false) == 0);
	CHECK(pcapng_finish(&w) == 0);
	CHECK(stat(path_of("new.pcapng"), &st) == 0 && (st.st_mode & 0777) == 0600);

	/* An existing file: refused without force; with it, truncated and made 0600. */
	CHECK(pcapng_open(&w, path_of("new.pcapng"), false) == -EEXIST);
	chmod(path_of("new.pcapng"), 0644);
	CHECK(pcapng_open(&w, path_of("new.pcapng"), true) == 0);
	pcapng_finish(&w);
	CHECK(stat(path_of("new.pcapng"), &st) == 0 && (st.st_mode & 0777) == 0600);

	/* A symbolic link is never followed, force or not. */
	snprintf(target, sizeof(target), "%s", path_of("target"));
	CHECK(symlink(target, path_of("link")) == 0);
	CHECK((rc = pcapng_open(&w, path_of("link"), false)) == -EEXIST);
	CHECK((rc = pcapng_open(&w, path_of("link"), true)) == -ELOOP);
	CHECK(access(target, F_OK) != 0);
}

static void test_streams(void)
{
	struct conn_addr a4 = {.family = AF_INET,
			       .laddr = "127.0.0.1",
			       .raddr = "127.0.0.2",
			       .lport = 50000,
			       .rport = 443};
	struct conn_addr a6 = {
		.family = AF_INET6, .laddr = "::1", .raddr = "::1", .lport = 40000, .rport = 8443};
	uint32_t isn_local, isn_remote, len;
	const uint8_t *t;
	struct pcapng w;
	int i;

	CHECK(pcapng_open(&w, path_of("s.pcapng"), false) == 0);
	/* Connection 7 (IPv4): a 5-byte write, a 100-byte read of which 60 were captured in
	 * two chunks (the middle 40 lost), then a 3-byte write: its bytes start after all 5. */
	pcapng_data(&w, 7, &a4, true, 1, 5, 0, (const uint8_t *)"hello", 5, 1000, "c1");
	pcapng_data(&w, 7, &a4, false, 2, 100, 0, (const uint8_t *)"A", 1, 2000, NULL);
	pcapng_data(&w, 7, &a4, false, 2, 100, 41, (const uint8_t *)"B", 1, 2000, NULL);
	pcapng_data(&w, 7, &a4, true, 3, 3, 0, (const uint8_t *)"bye", 3, 3000, "c3");
	pcapng_close(&w, 7, 4000);
	/* Connection 8 (IPv6), and a connection without addresses. */
	pcapng_data(&w, 8, &a6, false, 4, 2, 0, (const uint8_t *)"hi", 2, 5000, NULL);
	pcapng_data(&w, 9, NULL, true, 5, 1, 0, (const uint8_t *)"x", 1, 6000, NULL);
	CHECK(pcapng_finish(&w) == 0);

	read_back(path_of("s.pcapng"));
	CHECK(npkts == 3 + 4 + 3 + 3 + 1 + 3 + 1);
	for (i = 0; i < npkts; i++)
		CHECK(checksums_ok(&pkts[i]));
	/* The handshake: SYN from the side that sent first (the process), at the first time. */
	t = tcp_of(&pkts[0], &len);
	CHECK(t[13] == 0x02 && pkts[0].ts == 1000 && len == 0);
	CHECK(be32(pkts[0].ip + 12) == 0x7f000001 && be32(pkts[0].ip + 16) == 0x7f000002);
	CHECK(t[0] == 50000 >> 8 && t[1] == (50000 & 0xff) && t[2] == 1 && t[3] == 0xbb);
	isn_local = be32(t + 4) + 1;
	t = tcp_of(&pkts[1], &len);
	CHECK(t[13] == 0x12 && be32(t + 8) == isn_local);
	isn_remote = be32(t + 4) + 1;
	/* Data: "hello" at the start, the read's chunks at 0 and 41, "bye" after 5 bytes. */
	t = tcp_of(&pkts[3], &len);
	CHECK(t[13] == 0x18 && be32(t + 4) == isn_local && len == 5);
	CHECK(memcmp(t + 20, "hello", 5) == 0 && strcmp(pkts[3].comment, "c1") == 0);
	t = tcp_of(&pkts[4], &len);
	CHECK(be32(t + 4) == isn_remote && len == 1 && t[20] == 'A' && pkts[4].ts == 2000);
	CHECK(be32(t + 8) == isn_local + 5); /* it acknowledges what the process sent */
	t = tcp_of(&pkts[5], &len);
	CHECK(be32(t + 4) == isn_remote + 41 && t[20] == 'B');
	t = tcp_of(&pkts[6], &len);
	CHECK(be32(t + 4) == isn_local + 5 && be32(t + 8) == isn_remote + 100);
	CHECK(memcmp(t + 20, "bye", 3) == 0);
	/* The close: FIN each way after every byte. */
	t = tcp_of(&pkts[7], &len);
	CHECK(t[13] == 0x11 && be32(t + 4) == isn_local + 8 && pkts[7].ts == 4000);
	t = tcp_of(&pkts[8], &len);
	CHECK(t[13] == 0x11 && be32(t + 4) == isn_remote + 100 && be32(t + 8) == isn_local + 9);
	/* IPv6: the peer sent first, so its SYN comes from the remote end. */
	CHECK((pkts[10].ip[0] >> 4) == 6 && pkts[10].len == 40 + 20);
	t = tcp_of(&pkts[10], &len);
	CHECK(t[13] == 0x02 && t[0] == 8443 >> 8 && t[1] == (8443 & 0xff));
	t = tcp_of(&pkts[13], &len);
	CHECK(len == 2 && memcmp(t + 20, "hi", 2) == 0);
	/* Unknown addresses: the documented stand-ins. */
	CHECK(be32(pkts[14].ip + 12) == 0xc0000201 && be32(pkts[14].ip + 16) == 0xc6336401);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_file_safety();
	test_streams();
	unlink(path_of("new.pcapng"));
	unlink(path_of("s.pcapng"));
	unlink(path_of("link"));
	rmdir(dir);
	return check_done();
}
