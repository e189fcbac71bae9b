/* SPDX-License-Identifier: Apache-2.0 */
/* nosym_rustls.c - look-alikes of rustls 0.20's encrypters and decrypters (test_nosym): a
 * program that names rustls's and ring's sources and copies their literals, but where no
 * fact holds whole: TLS 1.3's decrypter's literal copied by a function no vtable calls, and
 * the encrypter's literal copied short ("encrypt fail") by a method. No probe may be placed.
 * With SHORT=14 the method copies it whole: that one is found. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the literals as Rust lays them out: side by side, no NUL between; defined in assembly, so
 * that the compiler copies them by loads from their address, as rustc 1.63 does, or (with
 * IMMEDIATE) as a constant it knows, which it copies as immediates, as rustc 1.95 does */
#ifdef IMMEDIATE
static const char literals[] = "sctsencrypt failedpeer sent bad TLSInnerPlaintextUnsolicited";
#else
__asm__(".section .rodata\n"
	".globl literals\n"
	"literals: .ascii \"sctsencrypt failedpeer sent bad TLSInnerPlaintextUnsolicited\"\n"
	".previous\n");
extern const char literals[];
#endif
/* panics' locations name the crates' sources */
const char *volatile crate_paths[] = {"/usr/share/cargo/registry/rustls-0.20.8/src/conn.rs",
				      "/usr/share/cargo/registry/ring-0.16.20/src/aead.rs"};

#ifndef SHORT
#define SHORT 12 /* the look-alike's; 14 copies the literal whole */
#endif

struct error {
	char *msg;
	size_t len;
};

/* a vtable as rustc lays out a trait object's: drop, size, align, a supertrait's, method */
struct vtable {
	void (*drop)(void *);
	size_t size, align;
	const void *super;
	int (*method)(void *, struct error *);
};

static __attribute__((noinline)) void drop_nothing(void *p)
{
	(void)p;
}

/* "encrypt fail": a literal's first 12 bytes copied, not the literal */
static __attribute__((noinline)) int encrypt_short(void *self, struct error *e)
{
	e->msg = malloc(SHORT);
	if (!e->msg)
		return -1;
	memcpy(e->msg, literals + 4, SHORT);
	e->len = SHORT;
	return self != NULL;
}

/* the whole of TLS 1.3's decrypter's literal, copied by a function called directly */
__attribute__((noinline)) int decrypt_direct(void *self, struct error *e)
{
	e->msg = malloc(31);
	if (!e->msg)
		return -1;
	memcpy(e->msg, literals + 18, 31);
	e->len = 31;
	return self != NULL;
}

static const size_t super_vtable[3] = {0, 16, 8};
const struct vtable encrypter_vtable = {drop_nothing, 16, 8, super_vtable, encrypt_short};

int main(int argc, char **argv)
{
	const struct vtable *volatile vt = &encrypter_vtable;
	struct error e = {0};
	int r = vt->method(argv, &e) + decrypt_direct(argv, &e);

	printf("%d %s %zu\n", r + argc, crate_paths[0], e.len);
	free(e.msg);
	return 0;
}
