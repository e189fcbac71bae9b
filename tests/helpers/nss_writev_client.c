/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nss_writev_client.c - an NSS TLS client that sends its request with one PR_Writev, for
 * the tracer's tests (no Debian program writes through PR_Writev).
 *
 *   nss_writev_client GO_FILE PORT BODY_SIZE
 *
 * Waits until GO_FILE exists, connects to 127.0.0.1:PORT, sends a POST of BODY_SIZE bytes
 * gathered from four pieces (head, first part of the body, an empty piece, the rest) in one
 * PR_Writev, then copies the response to stdout with PR_Write (a descriptor with no SSL
 * layer, which the tracer must not report). The server's certificate is not checked: the
 * test server is a local one with a throwaway self-signed certificate.
 */
#include <nspr.h>
#include <nss.h>
#include <ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static SECStatus accept_test_certificate(void *arg, PRFileDesc *fd)
{
	(void)arg;
	(void)fd;
	return SECSuccess;
}

static int fail(const char *what)
{
	fprintf(stderr, "nss_writev_client: %s failed: NSPR error %d\n", what, PR_GetError());
	return 1;
}

int main(int argc, char **argv)
{
	char head[128], buf[4096];
	PRFileDesc *tcp, *ssl, *out;
	PRNetAddr addr;
	PRIOVec iov[4];
	PRInt32 n, total;
	char *body;
	int size, half, i;

	if (argc != 4 || (size = atoi(argv[3])) < 0) {
		fprintf(stderr, "usage: nss_writev_client GO_FILE PORT BODY_SIZE\n");
		return 2;
	}
	for (i = 0; access(argv[1], F_OK) != 0; i++) {
		if (i == 3000) {
			fprintf(stderr, "nss_writev_client: no %s after 60 s\n", argv[1]);
			return 1;
		}
		usleep(20000);
	}
	body = malloc(size + 1);
	if (!body)
		return fail("malloc");
	for (i = 0; i < size; i++)
		body[i] = "0123456789abcdefghijklmnopqrstuvwxyz\n"[i % 37];
	snprintf(head, sizeof(head),
		 "POST /writev HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n", size);
	half = size / 3;
	iov[0] = (PRIOVec){head, (int)strlen(head)};
	iov[1] = (PRIOVec){body, half};
	iov[2] = (PRIOVec){body, 0};
	iov[3] = (PRIOVec){body + half, size - half};
	total = iov[0].iov_len + size;

	if (NSS_NoDB_Init(NULL) != SECSuccess || NSS_SetDomesticPolicy() != SECSuccess)
		return fail("NSS_NoDB_Init");
	tcp = PR_OpenTCPSocket(PR_AF_INET);
	ssl = tcp ? SSL_ImportFD(NULL, tcp) : NULL;
	if (!ssl)
		return fail("SSL_ImportFD");
	if (SSL_OptionSet(ssl, SSL_SECURITY, PR_TRUE) != SECSuccess ||
	    SSL_OptionSet(ssl, SSL_HANDSHAKE_AS_CLIENT, PR_TRUE) != SECSuccess ||
	    SSL_SetURL(ssl, "localhost") != SECSuccess ||
	    SSL_BadCertHook(ssl, accept_test_certificate, NULL) != SECSuccess)
		return fail("SSL_OptionSet");
	if (PR_InitializeNetAddr(PR_IpAddrLoopback, (PRUint16)atoi(argv[2]), &addr) != PR_SUCCESS ||
	    PR_Connect(ssl, &addr, PR_INTERVAL_NO_TIMEOUT) != PR_SUCCESS)
		return fail("PR_Connect");
	n = PR_Writev(ssl, iov, 4, PR_INTERVAL_NO_TIMEOUT);
	if (n != total)
		return fail("PR_Writev");
	out = PR_GetSpecialFD(PR_StandardOutput);
	while ((n = PR_Read(ssl, buf, sizeof(buf))) > 0)
		if (PR_Write(out, buf, n) != n)
			return fail("PR_Write");
	if (n < 0)
		return fail("PR_Read");
	PR_Close(ssl);
	free(body);
	SSL_ClearSessionCache(); /* it holds the server's certificate: NSS_Shutdown would be busy */
	return NSS_Shutdown() == SECSuccess ? 0 : fail("NSS_Shutdown");
}
