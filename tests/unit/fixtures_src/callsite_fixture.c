/* SPDX-License-Identifier: Apache-2.0 */
/* callsite_fixture.c - a shared library shaped like OpenSSL 3.0's write path: exported
 * functions that call one internal function (object, buffer, count, size_t * out), some
 * passing its arguments as OpenSSL does and one not, and functions whose first instruction
 * is known. Built with -O2, unstripped. */
#include <string.h>

static char sink[64];
static void *last_object;

__attribute__((noinline, noclone)) static int internal_write(void *s, const char *buf,
							      unsigned long n, unsigned long *done)
{
	last_object = s;
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

/* SSL_write: the count out-parameter lives on its stack. */
int api_write(void *s, const char *buf, int n)
{
	unsigned long done;

	if (n < 0)
		return -1;
	return internal_write(s, buf, (unsigned long)n, &done) > 0 ? (int)done : -1;
}

/* SSL_write_ex as a compiler may make it: a tail call, a jump. */
int api_write_ex(void *s, const char *buf, unsigned long n, unsigned long *done)
{
	return internal_write(s, buf, n, done);
}

/* SSL_write_ex as OpenSSL 3.0 is built: a call, arguments passed through. */
int api_write_counted(void *s, const char *buf, unsigned long n, unsigned long *done)
{
	int r = internal_write(s, buf, n, done);

	return r > 0 ? r : 0;
}

/* A caller that passes another buffer: the internal function's buffer is not its own. */
int api_write_shifted(void *s, const char *buf, unsigned long n, unsigned long *done)
{
	int r = internal_write(s, buf + 1, n, done);

	return r + 1;
}

int api_other(int x)
{
	return internal_other(x) + 1;
}

/* First instructions the kernel emulates (push) and single-steps (sub). */
__asm__(".globl starts_with_push\n.type starts_with_push, @function\nstarts_with_push:\n"
	"\tpush %rbx\n\tpop %rbx\n\tret\n.size starts_with_push, .-starts_with_push\n"
	".globl starts_with_sub\n.type starts_with_sub, @function\nstarts_with_sub:\n"
	"\tsub $8, %rsp\n\tadd $8, %rsp\n\tret\n.size starts_with_sub, .-starts_with_sub\n");

/* For emulated_entry: first instructions passed over (test, endbr64) onto an emulated one;
 * one not (a register written); and a jump landing on the place, which keeps the probe at
 * the entry. With CFI: .eh_frame must say where each function starts. */
#define FN(name, body)                                                                     \
	".globl " name "\n.type " name ", @function\n" name ":\n\t.cfi_startproc\n" body \
	"\t.cfi_endproc\n.size " name ", .-" name "\n"
__asm__(FN("emu_test_je", "\ttest %rdi, %rdi\n\tje 1f\n\tmov $1, %eax\n\tret\n1:\txor %eax, "
			  "%eax\n\tret\n")
	FN("emu_endbr_push", "\tendbr64\n\tpush %rbx\n\tpop %rbx\n\tret\n")
	FN("emu_cmp_mem_jne", "\tcmpq $0, 0x30(%rdi)\n\tjne 1f\n\tret\n1:\tret\n")
	FN("emu_xor_first", "\txor %r8d, %r8d\n\tjmp emu_test_je\n")
	FN("emu_landed", "\ttest %rdi, %rdi\n2:\tje 1f\n\tdec %rdi\n\tjmp 2b\n1:\tret\n")
	FN("emu_push_first", "\tpush %rbx\n\tpop %rbx\n\tret\n"));
