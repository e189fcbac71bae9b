/* SPDX-License-Identifier: Apache-2.0 */
/* test_gosym.c - Go function tables: the pclntab layouts of Go 1.16, 1.18 and 1.20 built
 * here byte by byte, malformed ones refused, and Debian's stripped caddy read for real */
#include "check.h"
#include "gosite.h"
#include "gosym.h"

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint8_t tab[4096];

static void put32(size_t at, uint32_t v)
{
	memcpy(tab + at, &v, 4);
}

static void put64(size_t at, uint64_t v)
{
	memcpy(tab + at, &v, 8);
}

/* The byte at file offset off of g's file, as the file has it. */
static int file_byte(const struct gosym_file *g, uint64_t off)
{
	uint8_t b;

	return pread(g->elf.fd, &b, 1, (off_t)off) == 1 ? b : -1;
}

struct fn {
	const char *name;
	uint64_t entry; /* address */
};

/*
 * A pclntab of `layout` for functions fns[0..n) (in address order) and the end address
 * `end`, with header textStart `text` (1.18+). Returns its size.
 */
static size_t build(enum gosym_layout layout, const struct fn *fns, int n, uint64_t end,
		    uint64_t text)
{
	uint32_t magic = layout == GOSYM_GO116	 ? 0xfffffffau
			 : layout == GOSYM_GO118 ? 0xfffffff0u
						 : 0xfffffff1u;
	size_t field = layout == GOSYM_GO116 ? 8 : 4, names = 128, pcln = 1024, funcs, w = 8;
	size_t at = names;
	int i;

	memset(tab, 0, sizeof(tab));
	put32(0, magic);
	tab[6] = 1; /* quantum */
	tab[7] = 8; /* pointer size */
	put64(w, (uint64_t)n), w += 8;
	put64(w, 0), w += 8; /* files */
	if (layout != GOSYM_GO116)
		put64(w, text), w += 8;
	put64(w, names), w += 8;
	put64(w, 0), w += 8; /* cutab */
	put64(w, 0), w += 8; /* filetab */
	put64(w, 0), w += 8; /* pctab */
	put64(w, pcln);
	funcs = (2 * (size_t)n + 1) * field;
	for (i = 0; i < n; i++) {
		size_t rec = funcs + (size_t)i * 32; /* the _func record, from pcln */

		strcpy((char *)tab + at, fns[i].name);
		if (layout == GOSYM_GO116) {
			put64(pcln + 2 * (size_t)i * 8, fns[i].entry);
			put64(pcln + (2 * (size_t)i + 1) * 8, rec);
			put64(pcln + rec, fns[i].entry);
			put32(pcln + rec + 8, (uint32_t)(at - names));
		} else {
			put32(pcln + 2 * (size_t)i * 4, (uint32_t)(fns[i].entry - text));
			put32(pcln + (2 * (size_t)i + 1) * 4, (uint32_t)rec);
			put32(pcln + rec, (uint32_t)(fns[i].entry - text));
			put32(pcln + rec + 4, (uint32_t)(at - names));
		}
		at += strlen(fns[i].name) + 1;
	}
	if (layout == GOSYM_GO116)
		put64(pcln + 2 * (size_t)n * 8, end);
	else
		put32(pcln + 2 * (size_t)n * 4, (uint32_t)(end - text));
	return pcln + funcs + (size_t)n * 32;
}

static const struct fn fns[] = {
	{"runtime.text", 0x401000},
	{"crypto/tls.(*Conn).Write", 0x401100},
	{"crypto/tls.(*Conn).Read", 0x401380},
};

static void test_layouts(void)
{
	static const enum gosym_layout layouts[] = {GOSYM_GO116, GOSYM_GO118, GOSYM_GO120};
	struct gosym_table t;
	uint64_t entry, end;
	size_t size, i;

	for (i = 0; i < 3; i++) {
		size = build(layouts[i], fns, 3, 0x401500, 0x401000);
		CHECK(gosym_parse(&t, tab, size, 0) == 0);
		CHECK(t.layout == layouts[i] && t.nfunc == 3);
		CHECK(gosym_find(&t, "crypto/tls.(*Conn).Write", &entry, &end) == 0);
		CHECK(entry == 0x401100 && end == 0x401380);
		CHECK(gosym_find(&t, "crypto/tls.(*Conn).Read", &entry, &end) == 0);
		CHECK(entry == 0x401380 && end == 0x401500);
		CHECK(gosym_find(&t, "crypto/tls.(*Conn).Close", &entry, &end) == -ENOENT);
	}
}

static void test_refused(void)
{
	struct gosym_table t;
	uint64_t entry, end;
	size_t size;

	/* a PIE's textStart left to a relocation: the caller's stands in, or nothing does */
	size = build(GOSYM_GO118, fns, 3, 0x401500, 0x401000);
	put64(24, 0); /* the header's textStart */
	CHECK(gosym_parse(&t, tab, size, 0) == -EINVAL);
	CHECK(gosym_parse(&t, tab, size, 0x401000) == 0 && t.text_start == 0x401000);
	CHECK(gosym_find(&t, "crypto/tls.(*Conn).Read", &entry, &end) == 0 && entry == 0x401380);

	size = build(GOSYM_GO118, fns, 3, 0x401500, 0x401000);
	put32(1024 + 16, 0x50); /* Read's slot before Write's: out of order */
	CHECK(gosym_parse(&t, tab, size, 0) == -EINVAL);

	size = build(GOSYM_GO118, fns, 3, 0x401500, 0x401000);
	put32(1024 + 28 + 32, 0x120); /* Write's record says another entry than its slot */
	CHECK(gosym_parse(&t, tab, size, 0) == 0);
	CHECK(gosym_find(&t, "crypto/tls.(*Conn).Write", &entry, &end) == -EINVAL);

	size = build(GOSYM_GO118, fns, 3, 0x401500, 0x401000);
	CHECK(gosym_parse(&t, tab, 1030, 0) == -EINVAL); /* cut inside the function table */
	put32(0, 0xfffffffbu);				 /* Go 1.2-1.15 */
	CHECK(gosym_parse(&t, tab, size, 0) == -ENOTSUP);
	put32(0, 0xfffffff0u);
	tab[7] = 4; /* a 32-bit program */
	CHECK(gosym_parse(&t, tab, size, 0) == -ENOTSUP);
	put32(0, 0x12345678u);
	CHECK(gosym_parse(&t, tab, size, 0) == -ENOENT);
}

/*
 * An ELF file at `path` holding the table in tab[0..size) as .gopclntab and a .go.buildinfo
 * naming Go `version` (inline, as Go 1.18+ writes it): a Go program's two sections, no code.
 */
static int write_go_elf(const char *path, size_t size, const char *version)
{
	static const char names[] = "\0.shstrtab\0.gopclntab\0.go.buildinfo";
	uint8_t info[64] = "\xff Go buildinf:";
	Elf64_Ehdr eh = {0};
	Elf64_Shdr sh[4] = {{0}};
	size_t off_tab = sizeof(eh), off_info = off_tab + size, off_names = off_info + sizeof(info);
	size_t off_sh = (off_names + sizeof(names) + 7) & ~(size_t)7;
	FILE *f = fopen(path, "wb");
	int err;

	if (!f)
		return -1;
	info[14] = 8; /* pointer size */
	info[15] = 2; /* inline strings */
	info[32] = (uint8_t)strlen(version);
	memcpy(info + 33, version, strlen(version));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_shoff = off_sh;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 4;
	eh.e_shstrndx = 1;
	sh[1] = (Elf64_Shdr){.sh_name = 1,
			     .sh_type = SHT_STRTAB,
			     .sh_offset = off_names,
			     .sh_size = sizeof(names)};
	sh[2] = (Elf64_Shdr){.sh_name = 11,
			     .sh_type = SHT_PROGBITS,
			     .sh_offset = off_tab,
			     .sh_size = size,
			     .sh_addr = 0x500000};
	sh[3] = (Elf64_Shdr){.sh_name = 22,
			     .sh_type = SHT_PROGBITS,
			     .sh_offset = off_info,
			     .sh_size = sizeof(info)};
	err = fwrite(&eh, sizeof(eh), 1, f) != 1 || fwrite(tab, size, 1, f) != 1 ||
	      fwrite(info, sizeof(info), 1, f) != 1 || fwrite(names, sizeof(names), 1, f) != 1 ||
	      fseek(f, (long)off_sh, SEEK_SET) || fwrite(sh, sizeof(sh), 1, f) != 1;
	return fclose(f) || err ? -1 : 0;
}

/* The Go release decides the ABI where the table cannot: 1.16 and 1.17 share a layout. */
static void test_abi_by_version(void)
{
	const char *path = "/tmp/test_gosym.go116";
	struct gosym_file g;
	uint64_t entry, end;
	char why[256];
	size_t size = build(GOSYM_GO116, fns, 3, 0x401500, 0);

	CHECK(write_go_elf(path, size, "go1.16.15") == 0);
	CHECK(gosym_open(path, &g, why, sizeof(why)) == 0);
	CHECK(g.table.layout == GOSYM_GO116 && !g.register_abi);
	CHECK_STR(g.version, "go1.16.15");
	CHECK(gosym_find(&g.table, "crypto/tls.(*Conn).Write", &entry, &end) == 0);
	gosym_close(&g);
	CHECK(write_go_elf(path, size, "go1.17.13") == 0);
	CHECK(gosym_open(path, &g, why, sizeof(why)) == 0);
	CHECK(g.table.layout == GOSYM_GO116 && g.register_abi);
	gosym_close(&g);
	unlink(path);
}

/* A copy of ELF file `from` at `to` with no section headers (e_shoff, e_shnum 0). */
static int copy_without_sections(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[1 << 16];
	Elf64_Ehdr eh;
	size_t n;
	int err = !in || !out || fread(&eh, sizeof(eh), 1, in) != 1;

	if (!err) {
		eh.e_shoff = 0;
		eh.e_shnum = 0;
		eh.e_shstrndx = 0;
		err = fwrite(&eh, sizeof(eh), 1, out) != 1;
	}
	while (!err && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		err = fwrite(buf, 1, n, out) != n;
	if (in)
		fclose(in);
	if (out && fclose(out))
		err = 1;
	return err ? -1 : 0;
}

/* The call sites of Write and Read in a real Go program: writes of application data, and
 * Read's one copy with the *Conn in its spill slot. */
static void check_sites(struct gosym_file *g, int writes)
{
	struct gosite sites[GOSITE_MAX];
	uint64_t entry, end;
	char why[256];
	int i;

	CHECK(gosym_find(&g->table, "crypto/tls.(*Conn).Write", &entry, &end) == 0);
	CHECK(gosite_find(g, "crypto/tls.(*Conn).Write", entry, end, sites, GOSITE_MAX, why,
			  sizeof(why)) == writes);
	for (i = 0; i < writes; i++)
		CHECK(sites[i].addr > entry && sites[i].addr < end && sites[i].conn_slot == 0 &&
		      file_byte(g, gosym_file_offset(g, sites[i].addr)) == 0xe8); /* call rel32 */
	CHECK(gosym_find(&g->table, "crypto/tls.(*Conn).Read", &entry, &end) == 0);
	CHECK(gosite_find(g, "crypto/tls.(*Conn).Read", entry, end, sites, GOSITE_MAX, why,
			  sizeof(why)) == 1);
	CHECK(sites[0].addr > entry && sites[0].addr < end && sites[0].conn_slot >= 16 &&
	      sites[0].conn_slot % 8 == 0 &&
	      file_byte(g, gosym_file_offset(g, sites[0].addr)) == 0xe8);
	/* a function it knows no sites of */
	CHECK(gosite_find(g, "crypto/tls.(*Conn).Close", entry, end, sites, GOSITE_MAX, why,
			  sizeof(why)) == -ENOENT);
}

/* Debian's caddy: Go 1.19, cgo, stripped (no .symtab) - read for real when installed. */
static void test_caddy(void)
{
	uint64_t entry, end, entry_probe, rets[GOSYM_MAX_RETURNS];
	struct gosym_file g;
	char why[256];
	int n, i;

	if (access("/usr/bin/caddy", R_OK) != 0) {
		printf("no /usr/bin/caddy (scripts/deps installs it)\n");
		CHECK(0);
		return;
	}
	CHECK(gosym_open("/usr/bin/caddy", &g, why, sizeof(why)) == 0);
	CHECK(g.table.layout == GOSYM_GO118 && g.register_abi && g.from_section);
	CHECK(strncmp(g.version, "go1.", 4) == 0);
	CHECK(gosym_find(&g.table, "crypto/tls.(*Conn).Write", &entry, &end) == 0 && end > entry);
	entry_probe = gosym_entry_probe(&g, entry, end);
	/* the stack check's branch, a jbe (0f 86 rel32 or 76 rel8), within the first bytes */
	CHECK(entry_probe > entry && entry_probe < entry + 16);
	n = gosym_returns(&g, entry, end, rets, GOSYM_MAX_RETURNS, why, sizeof(why));
	CHECK(n > 0);
	/* the file's bytes (a mapping shows another tracer's int3 where it probes caddy) */
	for (i = 0; i < n; i++)
		CHECK(file_byte(&g, rets[i]) == 0xc3); /* ret */
	CHECK(file_byte(&g, gosym_file_offset(&g, entry_probe)) == 0x0f ||
	      file_byte(&g, gosym_file_offset(&g, entry_probe)) == 0x76);
	check_sites(&g, 2);
	gosym_close(&g);

	/* the same program without section headers (as some packers leave one): the table is
	 * found by its magic in a data segment, and says the same */
	CHECK(copy_without_sections("/usr/bin/caddy", "/tmp/test_gosym.caddy") == 0);
	CHECK(gosym_open("/tmp/test_gosym.caddy", &g, why, sizeof(why)) == 0);
	CHECK(!g.from_section && g.table.layout == GOSYM_GO118);
	CHECK(gosym_find(&g.table, "crypto/tls.(*Conn).Write", &entry_probe, &end) == 0 &&
	      entry_probe == entry);
	gosym_close(&g);
	unlink("/tmp/test_gosym.caddy");

	CHECK(gosym_open("/bin/sh", &g, why, sizeof(why)) == -ENOENT); /* no Go program */
	CHECK(gosym_open("/nonexistent", &g, why, sizeof(why)) == -ENOENT);
}

/* esbuild from npm: Go 1.26, stripped, static. Its table's header no longer names the start
 * of the code; the runtime's module data does. */
static void test_esbuild(void)
{
	const char *path =
		"/var/cache/tracer-tests/npm/node_modules/@esbuild/linux-x64/bin/esbuild";
	uint64_t entry, end;
	struct gosym_file g;
	char why[256];

	if (access(path, R_OK) != 0) {
		printf("no %s (scripts/deps installs it)\n", path);
		CHECK(0);
		return;
	}
	CHECK(gosym_open(path, &g, why, sizeof(why)) == 0);
	CHECK(g.table.layout == GOSYM_GO120 && g.register_abi && g.table.text_start == 0x401000);
	CHECK(gosym_find(&g.table, "crypto/tls.(*Conn).Write", &entry, &end) == 0);
	CHECK(gosym_entry_probe(&g, entry, end) > entry); /* its stack check: the start is right */
	check_sites(&g, 2);
	gosym_close(&g);
}

int main(void)
{
	test_layouts();
	test_refused();
	test_abi_by_version();
	test_caddy();
	test_esbuild();
	return check_done();
}
