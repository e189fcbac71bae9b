/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_pcapng.c - the pcapng writer fed any sequence of chunks and closes of up to four
 * connections, known addresses (IPv4, IPv6, or text from the input) or not. The input is
 * records: a control byte (bit 0 sent, bits 1-2 the address: none, IPv4, IPv6, from the
 * input; bit 3 the connection closes after it; bits 4-5 the connection; bit 6 a new call),
 * the call's length and the chunk's offset (16 bits each), a length, the bytes. The file
 * must be well-formed blocks whose packets are IP packets of their captured length.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "pcapng.h"

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void check_file(const uint8_t *f, size_t n)
{
	size_t off = 0;

	FUZZ_CHECK(n >= 28 && u32(f) == 0x0A0D0D0A && u32(f + 8) == 0x1A2B3C4D);
	while (off < n) {
		uint32_t type, len, cap;
		const uint8_t *ip;

		FUZZ_CHECK(off + 12 <= n);
		type = u32(f + off);
		len = u32(f + off + 4);
		FUZZ_CHECK(len >= 12 && len % 4 == 0 && off + len <= n &&
			   u32(f + off + len - 4) == len);
		if (type == 6) { /* an enhanced packet block */
			cap = u32(f + off + 20);
			FUZZ_CHECK(28 + cap + 4 <= len && u32(f + off + 24) == cap);
			ip = f + off + 28;
			if (ip[0] >> 4 == 4)
				FUZZ_CHECK(cap >= 40 && (uint32_t)(ip[2] << 8 | ip[3]) == cap &&
					   pcapng_checksum(0, ip, 20) == 0);
			else
				FUZZ_CHECK(ip[0] >> 4 == 6 && cap >= 60 &&
					   (uint32_t)(ip[4] << 8 | ip[5]) + 40 == cap);
		}
		off += len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	struct pcapng w = {.f = f, .path = "fuzz"};
	uint64_t call = 1, t = 1000;

	FUZZ_CHECK(f);
	pcapng_write_header(&w);
	while (in.n) {
		uint8_t ctl = fuzz_u8(&in), key = (ctl >> 4) & 3;
		uint32_t call_len = fuzz_u16(&in), offset = fuzz_u16(&in);
		struct conn_addr a = {0}, *addr = &a;
		size_t len, alen;
		char *bytes, *text;

		switch ((ctl >> 1) & 3) {
		case 0:
			addr = NULL;
			break;
		case 1:
			a = (struct conn_addr){AF_INET, "127.0.0.1", "127.0.0.1", 40000, 443};
			break;
		case 2:
			a = (struct conn_addr){AF_INET6, "::1", "::1", 40000, 443};
			break;
		default:
			text = fuzz_bytes(&in, fuzz_u8(&in) % CONN_ADDR_LEN, &alen);
			a.family = alen & 1 ? AF_INET6 : AF_INET;
			memcpy(a.laddr, text, alen + 1);
			memcpy(a.raddr, text, alen + 1);
			a.lport = (uint16_t)alen;
			free(text);
		}
		bytes = fuzz_bytes(&in, fuzz_u8(&in), &len);
		call += ctl >> 6 & 1;
		if (call_len < offset + len) /* the tracer's chunks lie within their call */
			call_len = offset + (uint32_t)len;
		pcapng_data(&w, key, addr, ctl & 1, call, call_len, offset, (uint8_t *)bytes,
			    (uint32_t)len, t++, ctl & 0x80 ? "PID 1 SSL_write" : NULL);
		free(bytes);
		if (ctl & 8)
			pcapng_close(&w, key, t++);
	}
	FUZZ_CHECK(pcapng_finish(&w) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	check_file((const uint8_t *)out, outlen);
	free(out);
	return 0;
}
