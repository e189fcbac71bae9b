/* callsite_fixture.c - a shared library shaped like OpenSSL's write path: two exported
 * functions that call one internal function, and one that calls something else. */
#include <string.h>

static char sink[64];

__attribute__((noinline, noclone)) static int internal_write(const char *buf, unsigned long n,
							      unsigned long *done)
{
	if (n > sizeof(sink))
		n = sizeof(sink);
	memcpy(sink, buf, n);
	*done = n;
	return 1;
}

__attribute__((noinline, noclone)) static int internal_other(int x)
{
	return sink[x & 63] + x;
}

int api_write(const char *buf, int n)
{
	unsigned long done;

	if (n < 0)
		return -1;
	return internal_write(buf, (unsigned long)n, &done) > 0 ? (int)done : -1;
}

int api_write_ex(const char *buf, unsigned long n, unsigned long *done)
{
	return internal_write(buf, n, done);
}

int api_other(int x)
{
	return internal_other(x) + 1;
}
