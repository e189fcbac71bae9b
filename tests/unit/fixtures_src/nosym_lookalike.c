/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_lookalike.c - a program with the strings of OpenSSL's error sites and no OpenSSL:
 * "SSL_write" passed where a function name goes but with no source file beside it, the
 * others printed. test_nosym and test_stripped find no TLS function in it (stripped). */
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline)) static void note(const char *where, int line, const char *name)
{
	printf("%s:%d %s\n", where, line, name);
}

int main(int argc, char **argv)
{
	(void)argv;
	note("notes.txt", __LINE__, "SSL_write");
	puts("SSL_read");
	if (argc == 2)
		pause(); /* "nosym_lookalike wait": stays for the tracer to look at */
	if (argc > 3)
		printf("%s %s %s\n", "ssl_write_internal", "ssl_read_internal", "../ssl/ssl_lib.c");
	return 0;
}
