/* SPDX-License-Identifier: Apache-2.0 */
/*
 * static_tls - a TLS client and server for the tracer's tests, built with OpenSSL linked in
 * from libssl.a/libcrypto.a and stripped (tests/CMakeLists.txt): TLS code without symbols.
 *
 *   static_tls server CERT KEY [6]     listens on 127.0.0.1 (::1 with 6), says "PORT n",
 *                                      answers each line of each connection with
 *                                      "got: LINE" until the peer closes
 *   static_tls client PORT CAFILE GO [6]
 *                                      waits for file GO, connects, says "LPORT n" (its
 *                                      local port), sends each stdin line and prints the
 *                                      answer
 *
 * The client writes with SSL_write and reads with SSL_read_ex; the server writes with
 * SSL_write_ex and reads with SSL_read: both families, both sides.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "static_tls: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* A socket of the family (4 or 6) on the loopback address, bound to port. */
static int loopback_socket(int v6, struct sockaddr_storage *ss, socklen_t *len, int port)
{
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);

	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons((unsigned short)port);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons((unsigned short)port);
		*len = sizeof(*a);
	}
	if (fd < 0)
		die("socket");
	return fd;
}

/* Reads one line (up to '\n') from ssl into buf with SSL_read; its length, 0 at the end. */
static size_t read_line(SSL *ssl, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		int r = SSL_read(ssl, buf + n, 1);

		if (r <= 0)
			break;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return n;
}

static _Noreturn void server(const char *cert, const char *key, int v6)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd = loopback_socket(v6, &ss, &len, 0), one = 1;
	char line[4096], reply[4200];

	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		die("certificate");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, len) || listen(lfd, 16) ||
	    getsockname(lfd, (struct sockaddr *)&ss, &len))
		die("listen");
	printf("PORT %d\n", ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
				     : ((struct sockaddr_in *)&ss)->sin_port));
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		SSL *ssl;
		size_t n, done;

		if (fd < 0)
			continue;
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1) {
			while ((n = read_line(ssl, line, sizeof(line))) > 0) {
				n = (size_t)snprintf(reply, sizeof(reply), "got: %s", line);
				if (SSL_write_ex(ssl, reply, n, &done) != 1 || done != n)
					break;
			}
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(fd);
	}
}

static int client(int port, const char *cafile, const char *go, int v6)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct sockaddr_storage ss, local;
	socklen_t len, llen = sizeof(local);
	int fd = loopback_socket(v6, &ss, &len, port);
	char line[4096], reply[4200];
	struct stat st;
	SSL *ssl;

	while (stat(go, &st) != 0)
		usleep(10000);
	if (!ctx || SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
		die("CA file");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (connect(fd, (struct sockaddr *)&ss, len) ||
	    getsockname(fd, (struct sockaddr *)&local, &llen))
		die("connect");
	printf("LPORT %d\n", ntohs(v6 ? ((struct sockaddr_in6 *)&local)->sin6_port
				      : ((struct sockaddr_in *)&local)->sin_port));
	fflush(stdout);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, "localhost");
	if (SSL_connect(ssl) != 1)
		die("handshake");
	while (fgets(line, sizeof(line), stdin)) {
		size_t got = 0, n = 0;

		if (SSL_write(ssl, line, (int)strlen(line)) != (int)strlen(line))
			die("write");
		while (n == 0 || reply[n - 1] != '\n') {
			if (SSL_read_ex(ssl, reply + n, sizeof(reply) - 1 - n, &got) != 1)
				die("read");
			n += got;
		}
		reply[n] = '\0';
		fputs(reply, stdout);
		fflush(stdout);
	}
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 4 && strcmp(argv[1], "server") == 0)
		server(argv[2], argv[3], argc > 4 && strcmp(argv[4], "6") == 0);
	if (argc >= 5 && strcmp(argv[1], "client") == 0)
		return client(atoi(argv[2]), argv[3], argv[4],
			      argc > 5 && strcmp(argv[5], "6") == 0);
	fprintf(stderr, "usage: static_tls server CERT KEY [6] | client PORT CAFILE GO [6]\n");
	return 2;
}
