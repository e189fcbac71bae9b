/* SPDX-License-Identifier: Apache-2.0 */
/* test_callsite.c - unit tests of finding an internal function through its callers */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bcc/bcc_syms.h>

#include "callsite.h"
#include "check.h"
#include "emulated.h"

/* File offset of `name` (exported or local) in the fixture library, or 0. */
static uint64_t offset_of(const char *name)
{
	struct bcc_symbol_option opt = {.use_symbol_type = 1 << STT_FUNC | 1 << STT_NOTYPE};
	struct bcc_symbol sym = {0};

	if (bcc_resolve_symname(CALLSITE_FIXTURE, name, 0, -1, &opt, &sym) != 0)
		return 0;
	free((void *)sym.module);
	return sym.offset;
}

/* Finds what callers a and b both call; 0 or -errno. */
static int common(const char *a, const char *b, struct callsite_caller *c, uint64_t *found)
{
	memset(c, 0, 2 * sizeof(*c));
	c[0].offset = offset_of(a);
	c[1].offset = b ? offset_of(b) : 0;
	CHECK(c[0].offset && (!b || c[1].offset));
	return callsite_common_target(CALLSITE_FIXTURE, c, b ? 2 : 1, found);
}

/* Where emulated_entry puts the probes of fixture function `name`, relative to its entry
 * (-1: it could not be looked at). */
static long moved_by(struct nosym_file *f, const char *name)
{
	uint64_t off = offset_of(name);

	return off ? (long)(emulated_entry(f, off) - off) : -1;
}

/* Entry probes moved onto an emulated instruction only where that is proven. */
static void test_emulated_entry(void)
{
	struct nosym_file f;
	char why[128];

	CHECK(nosym_open(CALLSITE_FIXTURE, &f, why, sizeof(why)) == 0);
	CHECK(moved_by(&f, "emu_test_je") == 3);     /* test rdi, rdi (3 bytes); je */
	CHECK(moved_by(&f, "emu_endbr_push") == 4);  /* endbr64; push rbx */
	CHECK(moved_by(&f, "emu_cmp_mem_jne") == 5); /* cmp qword [rdi+0x30], 0; jne */
	CHECK(moved_by(&f, "emu_xor_first") == 0);   /* xor writes r8: stays */
	CHECK(moved_by(&f, "emu_landed") == 0);	     /* a jump lands on the je: stays */
	CHECK(moved_by(&f, "emu_push_first") == 0);  /* emulated already */
	CHECK(moved_by(&f, "starts_with_sub") == 0); /* sub writes rsp: stays */
	CHECK(emulated_entry(&f, offset_of("emu_test_je") + 1) == offset_of("emu_test_je") + 1);
	nosym_close(&f);
}

int main(void)
{
	uint64_t internal = offset_of("internal_write"), found = 0;
	struct callsite_caller c[2];
	char insn[64];
	bool emulated = false;

	CHECK(internal);
	/* OpenSSL 3.0's shape: both call it, passing object, buffer and a size_t *. The
	 * return address lies in the caller, a few bytes in (file offsets are addresses in
	 * this library's first segments). */
	CHECK(common("api_write", "api_write_counted", c, &found) == 0 && found == internal);
	CHECK(c[0].by_call && c[0].args_kept && c[1].by_call && c[1].args_kept);
	CHECK(internal + c[0].ret_delta > c[0].offset &&
	      internal + c[0].ret_delta < c[0].offset + 64);
	CHECK(internal + c[1].ret_delta > c[1].offset &&
	      internal + c[1].ret_delta < c[1].offset + 64);
	/* A tail call reaches it by a jump; one caller alone is enough to find it. */
	CHECK(common("api_write", "api_write_ex", c, &found) == 0 && found == internal);
	CHECK(c[0].by_call && !c[1].by_call && c[1].args_kept);
	CHECK(common("api_write", NULL, c, &found) == 0 && found == internal);
	/* Another buffer passed: found, but its arguments are not the caller's. */
	CHECK(common("api_write", "api_write_shifted", c, &found) == 0 && found == internal);
	CHECK(c[0].args_kept && !c[1].args_kept);
	/* Callers with nothing in common, a bad file, no callers. */
	CHECK(common("api_write", "api_other", c, &found) == -ENOENT);
	CHECK(callsite_common_target("/nonexistent/lib.so", c, 2, &found) == -ENOENT);
	CHECK(callsite_common_target("/proc/self/status", c, 2, &found) == -EINVAL);
	CHECK(callsite_common_target(CALLSITE_FIXTURE, c, 0, &found) == -EINVAL);

	/* First instructions: a push is emulated, a sub single-stepped. */
	CHECK(callsite_first_insn(CALLSITE_FIXTURE, offset_of("starts_with_push"), insn,
				  sizeof(insn), &emulated) == 0);
	CHECK(strcmp(insn, "push rbx") == 0 && emulated);
	CHECK(callsite_first_insn(CALLSITE_FIXTURE, offset_of("starts_with_sub"), insn,
				  sizeof(insn), &emulated) == 0);
	CHECK(strcmp(insn, "sub rsp, 8") == 0 && !emulated);
	CHECK(callsite_first_insn("/nonexistent/lib.so", 0, insn, sizeof(insn), &emulated) ==
	      -ENOENT);
	test_emulated_entry();
	return check_done();
}
