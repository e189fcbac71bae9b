/* test_callsite.c - unit tests of finding an internal function through its callers */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>

#include <bcc/bcc_syms.h>

#include "callsite.h"
#include "check.h"

/* File offset of `name` (exported or local) in the fixture library, or 0. */
static uint64_t offset_of(const char *name)
{
	struct bcc_symbol_option opt = {.use_symbol_type = 1 << STT_FUNC};
	struct bcc_symbol sym = {0};

	if (bcc_resolve_symname(CALLSITE_FIXTURE, name, 0, -1, &opt, &sym) != 0)
		return 0;
	free((void *)sym.module);
	return sym.offset;
}

int main(void)
{
	uint64_t both[2] = {offset_of("api_write"), offset_of("api_write_ex")};
	uint64_t other[2] = {offset_of("api_write"), offset_of("api_other")};
	uint64_t internal = offset_of("internal_write"), found = 0;

	CHECK(both[0] && both[1] && internal && other[1]);
	/* What both callers call (one calls, the other may jump), PLT stubs left out. */
	CHECK(callsite_common_target(CALLSITE_FIXTURE, both, 2, &found) == 0);
	CHECK(found == internal);
	found = 0;
	CHECK(callsite_common_target(CALLSITE_FIXTURE, both, 1, &found) == 0 && found == internal);
	/* Callers with nothing in common, a bad file, no callers. */
	CHECK(callsite_common_target(CALLSITE_FIXTURE, other, 2, &found) == -ENOENT);
	CHECK(callsite_common_target("/nonexistent/lib.so", both, 2, &found) == -ENOENT);
	CHECK(callsite_common_target("/proc/self/status", both, 2, &found) == -EINVAL);
	CHECK(callsite_common_target(CALLSITE_FIXTURE, both, 0, &found) == -EINVAL);
	return check_done();
}
