/* SPDX-License-Identifier: Apache-2.0 */
/* hello.c - what a TLS ClientHello or ServerHello says: server name, ALPN, version, suite */
#include "hello.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define RECORD_HANDSHAKE 22
#define RECORD_HEADER 5
#define HANDSHAKE_HEADER 4
#define RANDOM_LEN 32

#define EXT_SERVER_NAME 0
#define EXT_ALPN 16
#define EXT_PRE_SHARED_KEY 41
#define EXT_SUPPORTED_VERSIONS 43
#define EXT_ECH 0xfe0d

/* A ServerHello with this random is a HelloRetryRequest (RFC 8446 4.1.3: SHA-256 of
 * "HelloRetryRequest"): the server asks for another ClientHello, nothing is chosen yet. */
static const uint8_t hrr_random[RANDOM_LEN] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
	0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
	0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* Bytes left to read, from p up to end (the record's end, or the bytes captured). */
struct reader {
	const uint8_t *p, *end;
	bool short_; /* a read ran past the bytes captured */
};

static bool take(struct reader *r, size_t n, const uint8_t **out)
{
	if ((size_t)(r->end - r->p) < n) {
		r->short_ = true;
		r->p = r->end;
		return false;
	}
	*out = r->p;
	r->p += n;
	return true;
}

static bool u8_(struct reader *r, unsigned *v)
{
	const uint8_t *b;

	if (!take(r, 1, &b))
		return false;
	*v = b[0];
	return true;
}

static bool u16_(struct reader *r, unsigned *v)
{
	const uint8_t *b;

	if (!take(r, 2, &b))
		return false;
	*v = (unsigned)b[0] << 8 | b[1];
	return true;
}

/* A vector whose length takes `width` bytes: a reader over its bytes (cut where the
 * capture ends: then the outer reader is short). */
static bool vec(struct reader *r, int width, struct reader *in)
{
	unsigned len;
	size_t left;

	if (!(width == 1 ? u8_(r, &len) : u16_(r, &len)))
		return false;
	left = (size_t)(r->end - r->p);
	in->p = r->p;
	in->end = r->p + (len < left ? len : left);
	in->short_ = len > left;
	r->p = in->end;
	r->short_ |= in->short_;
	return true;
}

/* GREASE values (RFC 8701: 0x0a0a, 0x1a1a, ... 0xfafa) stand for nothing. */
static bool grease(unsigned v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* Whether byte c may stand in a name as shown: a host name's letters, digits, '.', '-',
 * '_' and '*', and for a protocol '/' and '+' too. Any other byte (one that could drive a
 * terminal, or a ',', ';' or blank that would blur the line a name is shown in) is '?'. */
static bool name_byte(uint8_t c, bool protocol)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_' || c == '*' || (protocol && (c == '/' || c == '+'));
}

/* Copies a name from the wire to dst at `at` (size bytes in all), as name_byte lets it be
 * shown; always terminated. */
static void copy_name(char *dst, size_t size, size_t at, const uint8_t *src, size_t n,
		      bool protocol)
{
	size_t i;

	for (i = 0; i < n && at + i + 1 < size; i++)
		dst[at + i] = name_byte(src[i], protocol) ? (char)src[i] : '?';
	dst[at + i] = '\0';
}

static void read_sni(struct reader *ext, struct hello *h)
{
	struct reader list, name;
	unsigned type;

	if (!vec(ext, 2, &list))
		return;
	while (list.p < list.end && u8_(&list, &type) && vec(&list, 2, &name))
		if (type == 0 && !h->sni[0]) { /* host_name */
			copy_name(h->sni, sizeof(h->sni), 0, name.p, (size_t)(name.end - name.p),
				  false);
			return;
		}
}

/* The protocols, comma-separated (an empty one, which RFC 7301 forbids, passed over). */
static void read_alpn(struct reader *ext, struct hello *h)
{
	struct reader list, proto;
	size_t at = 0;

	if (!vec(ext, 2, &list))
		return;
	while (list.p < list.end && vec(&list, 1, &proto) && at + 2 < sizeof(h->alpn)) {
		if (proto.p == proto.end)
			continue;
		if (at)
			h->alpn[at++] = ',';
		copy_name(h->alpn, sizeof(h->alpn), at, proto.p, (size_t)(proto.end - proto.p),
			  true);
		at = strlen(h->alpn);
	}
}

static void read_versions(struct reader *ext, struct hello *h)
{
	struct reader list;
	unsigned v;

	if (h->side == HELLO_SERVER) {
		if (u16_(ext, &v))
			h->version = (uint16_t)v;
		return;
	}
	if (!vec(ext, 1, &list))
		return;
	while (list.p < list.end && u16_(&list, &v))
		if (!grease(v) && v > h->version && v <= 0x0304)
			h->version = (uint16_t)v;
}

static void read_extensions(struct reader *r, struct hello *h)
{
	struct reader all, ext;
	unsigned type;

	if (!vec(r, 2, &all))
		return;
	while (all.p < all.end && u16_(&all, &type) && vec(&all, 2, &ext)) {
		switch (type) {
		case EXT_SERVER_NAME:
			if (h->side == HELLO_CLIENT)
				read_sni(&ext, h);
			break;
		case EXT_ALPN:
			read_alpn(&ext, h);
			break;
		case EXT_SUPPORTED_VERSIONS:
			read_versions(&ext, h);
			break;
		case EXT_PRE_SHARED_KEY:
			h->resumed |= h->side == HELLO_SERVER;
			break;
		case EXT_ECH:
			h->ech |= h->side == HELLO_CLIENT;
			break;
		}
	}
	r->short_ |= all.short_;
}

int hello_parse(const uint8_t *data, size_t len, struct hello *h)
{
	struct reader rec = {data, data + len, false}, r, m;
	const uint8_t *random;
	unsigned type, v, hi, lo;
	size_t msg_len;

	memset(h, 0, sizeof(*h));
	if (len < RECORD_HEADER + HANDSHAKE_HEADER || data[0] != RECORD_HANDSHAKE || data[1] != 3)
		return -EINVAL;
	rec.p += 3;
	if (!vec(&rec, 2, &r) || !u8_(&r, &type) || (type != HELLO_CLIENT && type != HELLO_SERVER) ||
	    !u8_(&r, &hi) || !u16_(&r, &lo))
		return -EINVAL;
	h->side = (enum hello_side)type;
	/* The message: its own length bounds it (a record may hold the messages after it, a
	 * message may go on in the next record: what this one holds is read). */
	msg_len = (size_t)hi << 16 | lo;
	m.p = r.p;
	m.end = r.p + (msg_len < (size_t)(r.end - r.p) ? msg_len : (size_t)(r.end - r.p));
	m.short_ = msg_len > (size_t)(r.end - r.p);
	if (!u16_(&m, &v))
		return -EINVAL;
	h->version = (uint16_t)v; /* legacy_version, until supported_versions says more */
	if (take(&m, RANDOM_LEN, &random) && vec(&m, 1, &(struct reader){0})) {
		h->retry = h->side == HELLO_SERVER && memcmp(random, hrr_random, RANDOM_LEN) == 0;
		if (h->side == HELLO_CLIENT) {
			if (vec(&m, 2, &(struct reader){0}) && vec(&m, 1, &(struct reader){0}) &&
			    m.p < m.end) /* a hello without extensions ends here */
				read_extensions(&m, h);
		} else if (u16_(&m, &v)) {
			h->cipher = (uint16_t)v;
			if (u8_(&m, &type) && m.p < m.end) /* TLS 1.2 may end here */
				read_extensions(&m, h);
		}
	}
	h->cut = m.short_;
	return 0;
}

const char *hello_version_name(uint16_t version)
{
	switch (version) {
	case 0x0304:
		return "TLSv1.3";
	case 0x0303:
		return "TLSv1.2";
	case 0x0302:
		return "TLSv1.1";
	case 0x0301:
		return "TLSv1.0";
	case 0x0300:
		return "SSLv3";
	default:
		return NULL;
	}
}

const char *hello_cipher_name(uint16_t cipher)
{
	static const struct {
		uint16_t id;
		const char *name;
	} names[] = {
		{0x1301, "TLS_AES_128_GCM_SHA256"},
		{0x1302, "TLS_AES_256_GCM_SHA384"},
		{0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
		{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
		{0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
		{0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
		{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
		{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
		{0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
		{0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
		{0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
		{0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
		{0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
		{0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
		{0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
		{0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
		{0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
		{0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
		{0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"},
		{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].id == cipher)
			return names[i].name;
	return NULL;
}

void hello_describe(const struct hello *h, char *buf, size_t size)
{
	const char *version = hello_version_name(h->version), *cipher;
	size_t n = 0;

	buf[0] = '\0';
	if (h->side == HELLO_CLIENT) {
		if (h->sni[0])
			n += (size_t)snprintf(buf + n, size - n, "sni %s", h->sni);
		if (h->alpn[0] && n < size)
			n += (size_t)snprintf(buf + n, size - n, "%salpn %s", n ? ", " : "",
					      h->alpn);
		if (h->ech && n < size)
			snprintf(buf + n, size - n, "%sECH (the name is the outer one)",
				 n ? ", " : "");
		return;
	}
	cipher = hello_cipher_name(h->cipher);
	if (version)
		n += (size_t)snprintf(buf + n, size - n, "%s", version);
	else
		n += (size_t)snprintf(buf + n, size - n, "version 0x%04x", h->version);
	if (n < size) {
		if (cipher)
			n += (size_t)snprintf(buf + n, size - n, ", %s", cipher);
		else
			n += (size_t)snprintf(buf + n, size - n, ", suite 0x%04x", h->cipher);
	}
	if (h->alpn[0] && n < size)
		n += (size_t)snprintf(buf + n, size - n, ", alpn %s", h->alpn);
	if (h->resumed && n < size)
		n += (size_t)snprintf(buf + n, size - n, ", resumed");
	if (h->retry && n < size)
		snprintf(buf + n, size - n, ", retry (a HelloRetryRequest)");
}
