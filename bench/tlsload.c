/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tlsload.c - a TLS load generator for tracer's benchmark: a client and a server in one
 * process over a socketpair, linked to the system libssl, the client writing and the
 * server reading records of one size.
 *
 *   tlsload --cert PEM --key PEM [--size BYTES] [--iters N] [--rounds R] [--ex]
 *           [--seconds S] [--payload x|text|random] [--go FILE]
 *
 * Prints "pid N" once the handshake is done, waits for --go FILE to exist (so a tracer can
 * attach by PID first), then runs R rounds of N iterations of SSL_write + SSL_read (or
 * SSL_write_ex + SSL_read_ex) and prints one "round NS_PER_ITER" line per round. With
 * --seconds it runs rounds until that much time has passed. --payload says what the client
 * writes: 'x' bytes (the default), printable ASCII with a backslash every 58 bytes, or
 * pseudo-random bytes (the same on every run). Exit status: 0, 1 on a TLS failure, 2 on bad
 * usage.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* What the client writes. */
enum payload { PAYLOAD_X, PAYLOAD_TEXT, PAYLOAD_RANDOM };

struct load {
	const char *cert, *key, *go;
	long size, iters, rounds;
	double seconds;
	bool ex;
	enum payload payload;
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int fail(const char *what)
{
	fprintf(stderr, "tlsload: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	return 1;
}

/* Both ends of the handshake, stepped in turn on non-blocking sockets. */
static int handshake(SSL *client, SSL *server)
{
	int c = 0, s = 0, i;

	for (i = 0; i < 1000 && (c != 1 || s != 1); i++) {
		if (c != 1 && (c = SSL_connect(client)) <= 0 &&
		    SSL_get_error(client, c) != SSL_ERROR_WANT_READ)
			return fail("SSL_connect");
		if (s != 1 && (s = SSL_accept(server)) <= 0 &&
		    SSL_get_error(server, s) != SSL_ERROR_WANT_READ)
			return fail("SSL_accept");
	}
	return c == 1 && s == 1 ? 0 : fail("handshake (no progress)");
}

/* One iteration: the client writes `size` bytes, the server reads them all. */
static int iteration(const struct load *l, SSL *client, SSL *server, char *out, char *in)
{
	size_t done = 0, n = 0;
	int r;

	if (l->ex ? SSL_write_ex(client, out, (size_t)l->size, &n) != 1 || n != (size_t)l->size
		  : SSL_write(client, out, (int)l->size) != (int)l->size)
		return fail("SSL_write");
	while (done < (size_t)l->size) {
		if (l->ex) {
			if (SSL_read_ex(server, in + done, (size_t)l->size - done, &n) != 1)
				return fail("SSL_read_ex");
		} else {
			if ((r = SSL_read(server, in + done, (int)(l->size - done))) <= 0)
				return fail("SSL_read");
			n = (size_t)r;
		}
		done += n;
	}
	return 0;
}

/* The bytes the client writes: see --payload. */
static void fill(char *out, long size, enum payload payload)
{
	static const char text[] = "The quick brown fox jumps over the lazy dog 0123456789 "
				   "GET /index.html?a=1&b=2 HTTP/1.1 {\"k\": [1, 2.5, null]} ";
	uint64_t x = 88172645463325252ull; /* xorshift64 */
	long i;

	for (i = 0; i < size; i++) {
		if (payload == PAYLOAD_X) {
			out[i] = 'x';
		} else if (payload == PAYLOAD_TEXT) {
			out[i] = i % 58 == 57 ? '\\' : text[i % (sizeof(text) - 1)];
		} else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			out[i] = (char)(x >> 32);
		}
	}
}

static int parse(int argc, char **argv, struct load *l)
{
	static const struct option opts[] = {
		{"cert", 1, 0, 'c'},  {"key", 1, 0, 'k'},    {"size", 1, 0, 's'},
		{"iters", 1, 0, 'n'}, {"rounds", 1, 0, 'r'}, {"seconds", 1, 0, 't'},
		{"go", 1, 0, 'g'},    {"ex", 0, 0, 'x'},     {"payload", 1, 0, 'p'},
		{0, 0, 0, 0},
	};
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'c': l->cert = optarg; break;
		case 'k': l->key = optarg; break;
		case 's': l->size = atol(optarg); break;
		case 'n': l->iters = atol(optarg); break;
		case 'r': l->rounds = atol(optarg); break;
		case 't': l->seconds = atof(optarg); break;
		case 'g': l->go = optarg; break;
		case 'x': l->ex = true; break;
		case 'p':
			if (!strcmp(optarg, "x"))
				l->payload = PAYLOAD_X;
			else if (!strcmp(optarg, "text"))
				l->payload = PAYLOAD_TEXT;
			else if (!strcmp(optarg, "random"))
				l->payload = PAYLOAD_RANDOM;
			else
				return -1;
			break;
		default: return -1;
		}
	}
	if (optind != argc || !l->cert || !l->key || l->size < 1 || l->size > 16384 ||
	    l->iters < 1 || l->rounds < 1 || l->seconds < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct load l = {.size = 4096, .iters = 20000, .rounds = 5};
	SSL_CTX *cctx = NULL, *sctx = NULL;
	SSL *client = NULL, *server = NULL;
	char *out = NULL, *in = NULL;
	double start, t0;
	int sv[2], err = 1;
	long r, i;

	if (parse(argc, argv, &l)) {
		fprintf(stderr, "usage: tlsload --cert PEM --key PEM [--size 1-16384] [--iters N] "
				"[--rounds R] [--seconds S] [--ex] [--payload x|text|random] "
				"[--go FILE]\n");
		return 2;
	}
	out = malloc(l.size);
	in = malloc(l.size);
	cctx = SSL_CTX_new(TLS_client_method());
	sctx = SSL_CTX_new(TLS_server_method());
	if (!out || !in || !cctx || !sctx || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		goto done;
	fill(out, l.size, l.payload);
	if (SSL_CTX_use_certificate_chain_file(sctx, l.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(sctx, l.key, SSL_FILETYPE_PEM) != 1) {
		err = fail("loading the certificate");
		goto done;
	}
	client = SSL_new(cctx);
	server = SSL_new(sctx);
	if (!client || !server || !SSL_set_fd(client, sv[0]) || !SSL_set_fd(server, sv[1]) ||
	    handshake(client, server))
		goto done;
	printf("pid %d\n", (int)getpid());
	fflush(stdout);
	for (i = 0; l.go && access(l.go, F_OK) != 0; i++) {
		if (i == 6000) {
			fprintf(stderr, "tlsload: no %s after 60 s\n", l.go);
			goto done;
		}
		usleep(10000);
	}
	start = now_ns();
	for (r = 0; l.seconds ? now_ns() - start < l.seconds * 1e9 : r < l.rounds; r++) {
		t0 = now_ns();
		for (i = 0; i < l.iters; i++)
			if (iteration(&l, client, server, out, in))
				goto done;
		printf("round %.1f\n", (now_ns() - t0) / l.iters);
		fflush(stdout);
	}
	err = 0;
done:
	SSL_free(client);
	SSL_free(server);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	free(out);
	free(in);
	return err;
}
