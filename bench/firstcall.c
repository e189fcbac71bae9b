/* SPDX-License-Identifier: Apache-2.0 */
/*
 * firstcall - calls SSL_CTX_set_verify(ctx, 0, NULL), a function the tracer probes (it
 * reports verification turned off), every ~20 µs for 0.3 s from the start of main(): how
 * soon after its exec a program's TLS calls are seen (bench/follow).
 *
 *   firstcall OUT    writes "PID START_NS" (CLOCK_MONOTONIC at main) to OUT, then the
 *                    monotonic ns of each call, a line each
 *
 * Built twice: with libssl.so (TLS in a library the tracer probes from its start) and with
 * libssl.a (TLS in the executable, found when the program first runs).
 */
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define RUN_NS 300000000ull
#define GAP_NS 20000ull
#define MAX_CALLS 20000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static uint64_t times[MAX_CALLS];
	uint64_t start = now_ns(), t;
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	FILE *out;
	int n = 0, i;

	if (argc != 2 || !ctx) {
		fprintf(stderr, "usage: firstcall OUT\n");
		return 2;
	}
	while (n < MAX_CALLS && now_ns() - start < RUN_NS) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		times[n++] = now_ns();
		for (t = now_ns(); now_ns() - t < GAP_NS;)
			;
	}
	out = fopen(argv[1], "w");
	if (!out)
		return 1;
	fprintf(out, "%d %llu\n", (int)getpid(), (unsigned long long)start);
	for (i = 0; i < n; i++)
		fprintf(out, "%llu\n", (unsigned long long)times[i]);
	fclose(out);
	SSL_CTX_free(ctx);
	return 0;
}
