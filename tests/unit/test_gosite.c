/* SPDX-License-Identifier: Apache-2.0 */
/* test_gosite.c - unit tests of Go's call sites (gosite.c) on code made here: the shapes it
 * must take, and each thing whose absence it must notice */
#include "check.h"
#include "gosite.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/*
 * Go-shaped functions, never run: Write calling writeRecordLocked with the record type in
 * EBX, Read copying with memmove into b; each with the stack check, a frame, the morestack
 * block at its end. Go 1.21+ frames (push rbp) unless named `old` (Go 1.17-1.20: sub, then
 * rbp saved inside the frame). The callees are labels of their own.
 */
#define FN(name, body) ".globl " #name "\n" #name ":\n" body #name "_end:\n"
#define PROLOGUE(name)                                                                             \
	"\tcmp 0x10(%r14), %rsp\n\tjbe 9f\n\tpush %rbp\n\tmov %rsp, %rbp\n\tsub $0x20, %rsp\n"
#define EPILOGUE "\tadd $0x20, %rsp\n\tpop %rbp\n\tret\n"
#define MORESTACK(name)                                                                            \
	"9:\tmov %rax, 8(%rsp)\n\tmov %rbx, 16(%rsp)\n\tcall t_morestack\n"                        \
	"\tmov 8(%rsp), %rax\n\tmov 16(%rsp), %rbx\n\tjmp " #name "\n\tint3\n\tint3\n"
#define SPILLS "\tmov %rax, 0x30(%rsp)\n\tmov %rbx, 0x38(%rsp)\n"
#define COPY "\tmov 0x38(%rsp), %rax\n\tmov %rdx, %rbx\n\tcall t_memmove\n"

__asm__(".text\n"
	"t_write_record:\n\tret\nt_memmove:\n\tret\nt_reader:\n\tret\nt_morestack:\n\tret\n"
	"t_other:\n\tret\n"
	/* Write: two calls, the record type set in each one's block */
	FN(w_ok, PROLOGUE(w_ok) "\tmov $0x17, %ebx\n\tcall t_write_record\n\ttest %rax, %rax\n"
				"\tjne 1f\n\tmov $0x17, %bl\n\tcall t_write_record\n1:" EPILOGUE
					MORESTACK(w_ok))
	/* another record type */
	FN(w_type,
	   PROLOGUE(w_type) "\tmov $0x16, %ebx\n\tcall t_write_record\n" EPILOGUE MORESTACK(w_type))
	/* 23 in BH, not in the byte Go reads */
	FN(w_bh,
	   PROLOGUE(w_bh) "\tmov $0x17, %bh\n\tcall t_write_record\n" EPILOGUE MORESTACK(w_bh))
	/* the call is a jump target: another way in brings another RBX */
	FN(w_joined, PROLOGUE(w_joined) "\ttest %rcx, %rcx\n\tjne 1f\n\tmov $0x17, %ebx\n"
					"1:\tcall t_write_record\n" EPILOGUE MORESTACK(w_joined))
	/* the record type set before a call, which clobbers RBX */
	FN(w_clobbered,
	   PROLOGUE(w_clobbered) "\tmov $0x17, %ebx\n\tcall t_other\n"
				 "\tcall t_write_record\n" EPILOGUE MORESTACK(w_clobbered))
	/* an indirect jump: not every way into a block is known */
	FN(w_indirect,
	   PROLOGUE(w_indirect) "\tmov $0x17, %ebx\n\tcall t_write_record\n"
				"\ttest %rax, %rax\n\tje 1f\n\tjmp *%rax\n1:" EPILOGUE MORESTACK(
					w_indirect))
	/* Read: the receiver and b spilled, a call, b's pointer reloaded, the copy */
	FN(r_ok, PROLOGUE(r_ok) SPILLS "\tcall t_other\n" COPY EPILOGUE MORESTACK(r_ok))
	/* Go 1.17-1.20's frame: sub $0x28, rsp; rbp saved at [rsp + 0x20] */
	FN(r_old, "\tcmp 0x10(%r14), %rsp\n\tjbe 9f\n\tsub $0x28, %rsp\n"
		  "\tmov %rbp, 0x20(%rsp)\n\tlea 0x20(%rsp), %rbp\n" SPILLS "\tcall t_other\n" COPY
		  "\tmov 0x20(%rsp), %rbp\n\tadd $0x28, %rsp\n\tret\n" MORESTACK(r_old))
	/* the receiver's slot written again */
	FN(r_store, PROLOGUE(r_store) SPILLS
	   "\tcall t_other\n\tmov %rdx, 0x30(%rsp)\n" COPY EPILOGUE MORESTACK(r_store))
	/* a store over both slots (16 bytes from 0x28) */
	FN(r_wide, PROLOGUE(r_wide) SPILLS
	   "\tcall t_other\n\tmovups %xmm0, 0x28(%rsp)\n" COPY EPILOGUE MORESTACK(r_wide))
	/* the slots' address taken */
	FN(r_lea, PROLOGUE(r_lea) SPILLS
	   "\tlea 0x30(%rsp), %rdi\n\tcall t_other\n" COPY EPILOGUE MORESTACK(r_lea))
	/* the stack pointer moved in the body */
	FN(r_moved, PROLOGUE(r_moved) SPILLS
	   "\tsub $8, %rsp\n\tcall t_other\n\tadd $8, %rsp\n" COPY EPILOGUE MORESTACK(r_moved))
	/* the copy's destination not b's pointer */
	FN(r_dest, PROLOGUE(r_dest) SPILLS "\tcall t_other\n\tmov 0x30(%rsp), %rax\n"
					   "\tcall t_memmove\n" EPILOGUE MORESTACK(r_dest))
	/* b's pointer loaded, then a jump target before the copy */
	FN(r_joined, PROLOGUE(r_joined) SPILLS "\tcall t_other\n\tmov 0x38(%rsp), %rax\n"
					       "\ttest %rcx, %rcx\n\tjne 1f\n\tmov %rcx, %rax\n"
					       "1:\tcall t_memmove\n" EPILOGUE MORESTACK(r_joined))
	/* two copies */
	FN(r_two, PROLOGUE(r_two) SPILLS "\tcall t_other\n" COPY COPY EPILOGUE MORESTACK(r_two))
	/* bytes.(*Reader).Read called, not inlined */
	FN(r_reader,
	   PROLOGUE(r_reader) SPILLS "\tcall t_reader\n" COPY EPILOGUE MORESTACK(r_reader))
	/* the receiver written into its slot after a call, not as it came */
	FN(r_late, PROLOGUE(r_late) "\tmov %rbx, 0x38(%rsp)\n\tcall t_other\n"
				    "\tmov %rax, 0x30(%rsp)\n" COPY EPILOGUE MORESTACK(r_late))
	/* no stack check */
	FN(r_nocheck, "\tpush %rbp\n\tmov %rsp, %rbp\n\tsub $0x20, %rsp\n" SPILLS COPY EPILOGUE)
	/* code after the morestack block: not at the function's end */
	FN(r_notlast, PROLOGUE(r_notlast) SPILLS
	   "\tcall t_other\n" COPY EPILOGUE MORESTACK(r_notlast) "\tnop\n"));

#define DECL(name)                                                                                 \
	extern const uint8_t name[];                                                               \
	extern const uint8_t name##_end[]
DECL(w_ok);
DECL(w_type);
DECL(w_bh);
DECL(w_joined);
DECL(w_clobbered);
DECL(w_indirect);
DECL(r_ok);
DECL(r_old);
DECL(r_store);
DECL(r_wide);
DECL(r_lea);
DECL(r_moved);
DECL(r_dest);
DECL(r_joined);
DECL(r_two);
DECL(r_reader);
DECL(r_late);
DECL(r_nocheck);
DECL(r_notlast);
extern const uint8_t t_write_record[], t_memmove[], t_reader[];

static struct gosite sites[GOSITE_MAX];
static char why[256];

/* gosite_in_code on [start, end): its result; why holds the reason of a refusal. */
static int sites_of(const uint8_t *start, const uint8_t *end, bool write)
{
	struct gosite_callees c = {.write_record = (uintptr_t)t_write_record,
				   .memmove = (uintptr_t)t_memmove,
				   .reader_read = (uintptr_t)t_reader};

	why[0] = '\0';
	return gosite_in_code(start, (size_t)(end - start), (uintptr_t)start, write, &c, sites,
			      GOSITE_MAX, why, sizeof(why));
}

#define REFUSED(name, write, reason)                                                               \
	do {                                                                                       \
		CHECK(sites_of(name, name##_end, write) == -EINVAL);                               \
		CHECK(strstr(why, reason) != NULL);                                                \
		if (!strstr(why, reason))                                                          \
			printf("%s: %s\n", #name, why);                                            \
	} while (0)

int main(void)
{
	CHECK(sites_of(w_ok, w_ok_end, true) == 2);
	CHECK(sites[0].conn_slot == 0 && sites[1].conn_slot == 0);
	CHECK(sites[0].addr > (uintptr_t)w_ok && sites[1].addr > sites[0].addr);
	REFUSED(w_type, true, "not shown to pass application data");
	REFUSED(w_bh, true, "not shown to pass application data");
	REFUSED(w_joined, true, "not shown to pass application data");
	REFUSED(w_clobbered, true, "not shown to pass application data");
	REFUSED(w_indirect, true, "an indirect jump");
	REFUSED(r_ok, true, "no call of writeRecordLocked");

	CHECK(sites_of(r_ok, r_ok_end, false) == 1);
	CHECK(sites[0].conn_slot == 0x30); /* 0x20 + rbp + the return address + 8 */
	CHECK(sites_of(r_old, r_old_end, false) == 1);
	CHECK(sites[0].conn_slot == 0x30); /* 0x28 + the return address + 8 */
	REFUSED(r_store, false, "not kept in their spill slots");
	REFUSED(r_wide, false, "not kept in their spill slots");
	REFUSED(r_lea, false, "not kept in their spill slots");
	REFUSED(r_moved, false, "the stack pointer moves in its body");
	REFUSED(r_dest, false, "not shown to copy into its buffer");
	REFUSED(r_joined, false, "not shown to copy into its buffer");
	REFUSED(r_two, false, "calls runtime.memmove 2 times");
	REFUSED(r_reader, false, "calls bytes.(*Reader).Read");
	REFUSED(r_late, false, "not kept in their spill slots");
	REFUSED(r_nocheck, false, "does not begin with Go's stack check");
	REFUSED(r_notlast, false, "no morestack block");
	return check_done();
}
