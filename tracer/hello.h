/* SPDX-License-Identifier: Apache-2.0 */
/* hello.h - what a TLS ClientHello or ServerHello says: server name, ALPN, version, suite */
#ifndef TRACER_HELLO_H
#define TRACER_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HELLO_SNI_LEN 256  /* a host name (RFC 6066: up to 2^16 - 1; DNS names stop at 253) */
#define HELLO_ALPN_LEN 128 /* "h2,http/1.1": the protocols, comma-separated */

enum hello_side {
	HELLO_CLIENT = 1, /* the handshake message types */
	HELLO_SERVER = 2,
};

/* What one hello said; empty strings and 0 where it said nothing. */
struct hello {
	enum hello_side side;
	char sni[HELLO_SNI_LEN];   /* client: server_name's host name */
	char alpn[HELLO_ALPN_LEN]; /* client: the protocols offered; server: the one chosen
				    * (TLS 1.2: TLS 1.3 sends it encrypted, so "" there) */
	uint16_t version;	   /* client: the highest offered; server: the one chosen */
	uint16_t cipher;	   /* server: the suite chosen */
	bool resumed;		   /* server, TLS 1.3: it accepted a pre-shared key */
	bool retry;		   /* server: a HelloRetryRequest (a second ClientHello
				    * comes, then the ServerHello that chooses) */
	bool ech;		   /* client: an encrypted_client_hello extension (the name
				    * seen is then the outer one) */
	bool cut;		   /* the bytes ended before the message did (what was read
				    * before the cut is kept) */
	bool sent;		   /* the traced process sent it (else it received it); set
				    * by who read the event, not by hello_parse */
};

/*
 * Reads the handshake record at data (len bytes: the record header, the handshake header,
 * the message, all or its first part) into h. Returns 0, or -EINVAL when it is no
 * ClientHello or ServerHello record or is malformed before anything was read.
 */
int hello_parse(const uint8_t *data, size_t len, struct hello *h);

/* "TLSv1.3", "TLSv1.2", ...; NULL for a value it does not know. */
const char *hello_version_name(uint16_t version);

/* The IANA name of a common suite ("TLS_AES_128_GCM_SHA256"); NULL for another. */
const char *hello_cipher_name(uint16_t cipher);

/* "sni example.com, alpn h2,http/1.1" for a client's, "TLSv1.3, TLS_AES_256_GCM_SHA384,
 * alpn h2, resumed" for a server's: what text rows show. Names hold only host-name bytes
 * (protocols '/' and '+' too), any other byte shown as '?'. */
void hello_describe(const struct hello *h, char *buf, size_t size);

#endif
