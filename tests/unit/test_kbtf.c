/* SPDX-License-Identifier: Apache-2.0 */
/* test_kbtf.c - the kernel's BTF read by our parser: functions and struct offsets, from a
 * table built here; and the kernel functions bpf_src's KFUNC_PROBEs name */
#define _GNU_SOURCE
#include "check.h"
#include "kbtf.h"
#include "sources.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <linux/btf.h>

static unsigned char blob[4096];
static uint32_t types_len, strs_len;
static char strs[1024];

static uint32_t str(const char *s)
{
	uint32_t at = strs_len;

	memcpy(strs + strs_len, s, strlen(s) + 1);
	strs_len += (uint32_t)strlen(s) + 1;
	return at;
}

static void put(const void *p, size_t n)
{
	memcpy(blob + sizeof(struct btf_header) + types_len, p, n);
	types_len += (uint32_t)n;
}

static void type(uint32_t name, unsigned int kind, unsigned int vlen, bool kflag, uint32_t st)
{
	struct btf_type t = {
		.name_off = name, .info = (kflag ? 1u << 31 : 0) | (kind << 24) | vlen, .size = st};

	put(&t, sizeof(t));
}

static void member(uint32_t name, uint32_t type_id, uint32_t bit_offset)
{
	struct btf_member m = {.name_off = name, .type = type_id, .offset = bit_offset};

	put(&m, sizeof(m));
}

/* ids: 1 int, 2 struct inner {int a; int mode;}, 3 struct inode {long x; union {inner};},
 * 4 typedef inode_t, 5 func_proto, 6 func "__x64_sys_read", 7 struct task_struct (files at
 * 24 through a typedef'd anonymous struct; perf_event_ctxp, an array of pointers, at 40), 8
 * struct files_struct, 9 fdtable, 10 file, 11 ENUM (skipped over), 12 a pointer, 13 an array
 * of two */
static size_t build(void)
{
	struct btf_header *h = (struct btf_header *)blob;
	uint32_t v = 0;

	strs_len = 0;
	types_len = 0;
	str("");
	type(str("int"), BTF_KIND_INT, 0, false, 4);
	v = 32;
	put(&v, 4);
	type(str("inner"), BTF_KIND_STRUCT, 2, false, 8);
	member(str("a"), 1, 0);
	member(str("i_mode"), 1, 32);
	type(str("inode"), BTF_KIND_STRUCT, 3, false, 24);
	member(str("i_ino"), 1, 0);
	member(str("i_size"), 1, 64);
	member(0, 2, 128); /* anonymous member at byte 16: i_mode at 20 */
	type(str("inode_t"), BTF_KIND_TYPEDEF, 0, false, 3);
	type(0, BTF_KIND_FUNC_PROTO, 1, false, 1);
	v = 0;
	put(&v, 4);
	put(&v, 4);
	type(str("__x64_sys_read"), BTF_KIND_FUNC, 0, false, 5);
	type(str("task_struct"), BTF_KIND_STRUCT, 2, false, 64);
	member(str("files"), 1, 24 * 8);
	member(str("perf_event_ctxp"), 13, 40 * 8); /* as before Linux 6.2: an array */
	type(str("files_struct"), BTF_KIND_STRUCT, 1, false, 64);
	member(str("fdt"), 1, 32 * 8);
	type(str("fdtable"), BTF_KIND_STRUCT, 2, false, 16);
	member(str("max_fds"), 1, 0);
	member(str("fd"), 1, 64);
	type(str("file"), BTF_KIND_STRUCT, 1, true, 64);
	member(str("f_inode"), 1, 40 * 8); /* kflag: bit offset in the low 24 bits */
	type(str("e"), BTF_KIND_ENUM, 1, false, 4);
	put(&v, 4);
	put(&v, 4);
	type(0, BTF_KIND_PTR, 0, false, 1); /* 12: int * */
	type(0, BTF_KIND_ARRAY, 0, false, 0); /* 13: int *[2] */
	{
		struct btf_array a = {.type = 12, .index_type = 1, .nelems = 2};

		put(&a, sizeof(a));
	}
	memset(h, 0, sizeof(*h));
	h->magic = BTF_MAGIC;
	h->version = BTF_VERSION;
	h->hdr_len = sizeof(*h);
	h->type_off = 0;
	h->type_len = types_len;
	h->str_off = types_len;
	h->str_len = strs_len;
	memcpy(blob + sizeof(*h) + types_len, strs, strs_len);
	return sizeof(*h) + types_len + strs_len;
}

static void test_parse(void)
{
	size_t size = build();
	struct kbtf_offsets o;
	char why[256], flags[KBTF_NOFFSETS][KBTF_FLAG_LEN];
	struct kbtf *btf;

	CHECK(kbtf_open_mem(blob, size, &btf, why, sizeof(why)) == 0);
	CHECK(kbtf_func_id(btf, "__x64_sys_read") == 6);
	CHECK(kbtf_func_id(btf, "__x64_sys_write") == -ENOENT);
	CHECK(kbtf_func_id(btf, "inode") == -ENOENT); /* a struct, not a function */
	kbtf_offsets(btf, &o);
	CHECK(o.ok[KBTF_FD]);
	CHECK(kbtf_offset_of(&o, "task_struct", "files") == 24);
	CHECK(kbtf_offset_of(&o, "files_struct", "fdt") == 32);
	CHECK(kbtf_offset_of(&o, "fdtable", "max_fds") == 0);
	CHECK(kbtf_offset_of(&o, "fdtable", "fd") == 8);
	CHECK(kbtf_offset_of(&o, "file", "f_inode") == 40);
	CHECK(kbtf_offset_of(&o, "inode", "i_mode") == 20);
	CHECK(kbtf_offset_of(&o, "inode", "i_ino") == 0);
	CHECK(kbtf_offset_of(&o, "inode", "i_size") == 8);
	CHECK(kbtf_offset_of(&o, "inode", "i_nothere") == -1);
	/* an array member (perf_event_ctxp before Linux 6.2): its software context, element 1 */
	CHECK(kbtf_offset_of(&o, "task_struct", "perf_event_ctxp") == 48);
	/* the groups this BTF lacks are named, and give no flag */
	CHECK(!o.ok[KBTF_PROBE] && !o.ok[KBTF_EXE] && !o.ok[KBTF_SOCK]);
	CHECK_STR(o.why[KBTF_PROBE], "the kernel's BTF has no struct task_struct with a member utask");
	CHECK(kbtf_flags(&o, flags, KBTF_NOFFSETS) == 8);
	CHECK_STR(flags[5], "-DTLS_OFF_INODE_MODE=20");
	CHECK_STR(flags[6], "-DTLS_OFF_INODE_INO=0");
	CHECK(kbtf_flags(&o, flags, 3) == 3); /* never past max */
	kbtf_free(btf);

	/* a struct without the member: named */
	memcpy(memmem(blob, size, "i_mode", 6), "i_mxde", 6);
	CHECK(kbtf_open_mem(blob, size, &btf, why, sizeof(why)) == 0);
	kbtf_offsets(btf, &o);
	CHECK(!o.ok[KBTF_FD]);
	CHECK_STR(o.why[KBTF_FD], "the kernel's BTF has no struct inode with a member i_mode");
	CHECK(kbtf_flags(&o, flags, KBTF_NOFFSETS) == 0);
	kbtf_free(btf);
	CHECK(kbtf_open_mem(blob, size - 1, &btf, why, sizeof(why)) == -EINVAL); /* cut short */
	CHECK(btf == NULL && strstr(why, "bounds") != NULL);
	blob[0] ^= 0xff; /* not BTF (or the other byte order) */
	CHECK(kbtf_open_mem(blob, size, &btf, why, sizeof(why)) == -EINVAL);
	blob[0] ^= 0xff;
	((struct btf_header *)blob)->type_len -= 4; /* a type cut in the middle */
	CHECK(kbtf_open_mem(blob, size, &btf, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "cut short") != NULL);
	CHECK(kbtf_open("/nonexistent/vmlinux", &btf, why, sizeof(why)) == -ENOENT);
	CHECK(strstr(why, "/nonexistent/vmlinux") != NULL);
}

static void test_kernel_functions(void)
{
	const char *text = "KFUNC_PROBE(__x64_sys_read, struct pt_regs *regs) { }\n"
			   "MY_KFUNC_PROBE(not_this, int a)\n"
			   "  KRETFUNC_PROBE( vfs_write , long ret)\n"
			   "#define KFUNC_PROBE(event, args...)\n";
	const char *p = text;
	char name[8];

	p = sources_next_kernel_function(p, name, sizeof(name));
	CHECK(p && strcmp(name, "__x64_s") == 0); /* cut to the buffer */
	p = sources_next_kernel_function(p, name, sizeof(name));
	CHECK(p && strcmp(name, "vfs_wri") == 0);
	p = sources_next_kernel_function(p, name, sizeof(name));
	CHECK(p && strcmp(name, "event") == 0); /* a definition reads as one: never in bpf_src */
	CHECK(sources_next_kernel_function(p, name, sizeof(name)) == NULL);
	CHECK(sources_next_kernel_function("no probes", name, sizeof(name)) == NULL);
}

int main(void)
{
	test_parse();
	test_kernel_functions();
	return check_done();
}
