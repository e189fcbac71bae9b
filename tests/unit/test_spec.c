/* SPDX-License-Identifier: Apache-2.0 */
/* test_spec.c - unit tests of the probe spec parser and loader */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "spec.h"

static int parse(const char *line, struct probe_spec *s, char *err)
{
	return spec_parse_line(line, s, err, 256);
}

static void test_lines(void)
{
	struct probe_spec s;
	char err[256];

	CHECK(parse("", &s, err) == 0);
	CHECK(parse("   \t\n", &s, err) == 0);
	CHECK(parse("# comment", &s, err) == 0);
	CHECK(parse("ssl SSL_write entry probe_entry_SSL_write required\n", &s, err) == 1);
	CHECK_STR(s.library, "ssl");
	CHECK_STR(s.symbol, "SSL_write");
	CHECK(s.kind == PROBE_ENTRY);
	CHECK_STR(s.bpf_fn, "probe_entry_SSL_write");
	CHECK(s.required);
	CHECK(parse("\t/usr/lib/libssl.so.3  SSL_read_ex return probe_return_ex optional # x", &s,
		    err) == 1);
	CHECK_STR(s.library, "/usr/lib/libssl.so.3");
	CHECK(s.kind == PROBE_RETURN && !s.required);

	CHECK(parse("ssl SSL_write entry", &s, err) == -1);
	CHECK_STR(err, "3 fields, want 5: library symbol entry|return|returns|sites bpf_function "
		       "required|optional|companion|fallback");
	/* companion: a library's line, optional, counting for no TLS code */
	CHECK(parse("crypto d2i_X509 entry probe_entry_d2i_x509 companion", &s, err) == 1);
	CHECK(s.companion && !s.required);
	CHECK(parse("@exe d2i_X509 entry f companion", &s, err) == -1);
	CHECK_STR(err, "need 'companion' on 'd2i_X509' in '@exe': a companion is a library's line "
		       "(its probes go only into processes that map a TLS library too)");
	CHECK(parse("ssl SSL_write entry f required extra", &s, err) == -1);
	CHECK(strstr(err, "unexpected field 'extra'") != NULL);
	CHECK(parse("ssl SSL_write middle f required", &s, err) == -1);
	CHECK_STR(err, "invalid kind 'middle': want 'entry', 'return', 'returns' or 'sites'");
	CHECK(parse("ssl SSL_write entry 9fn required", &s, err) == -1);
	CHECK_STR(err, "invalid BPF function name '9fn': want a C identifier");
	CHECK(parse("ssl SSL_write entry f-n required", &s, err) == -1);
	CHECK(parse("ssl SSL_write entry fn maybe", &s, err) == -1);
	CHECK_STR(err, "invalid need 'maybe': want 'required', 'optional', 'companion' or "
		       "'fallback'");
	CHECK(parse("s;l SSL_write entry fn required", &s, err) == -1);
	CHECK(strstr(err, "invalid library 's;l'") != NULL);
	CHECK(parse("@exe SSL_write entry probe_entry_SSL_write required", &s, err) == 1);
	CHECK_STR(s.library, "@exe");
	CHECK(parse("ssl ssl_write_internal=SSL_write&SSL_write_ex entry f optional", &s, err) ==
	      1);
	CHECK_STR(s.symbol, "ssl_write_internal=SSL_write&SSL_write_ex");
	/* parsed once: the function, and the callers it is found by */
	CHECK_STR(s.func, "ssl_write_internal");
	CHECK(s.ncallers == 2);
	CHECK_STR(s.callers[0], "SSL_write");
	CHECK_STR(s.callers[1], "SSL_write_ex");
	CHECK(parse("ssl SSL_write entry f optional", &s, err) == 1);
	CHECK(strcmp(s.func, "SSL_write") == 0 && s.ncallers == 0);
	CHECK(parse("ssl f=a&b&c&d&e&f&g&h&i entry f optional", &s, err) == -1);
	CHECK_STR(err, "invalid symbol 'f=a&b&c&d&e&f&g&h&i': more than 8 callers");
	CHECK(parse("@go crypto/tls.(*Conn).Write entry f optional", &s, err) == 1);
	CHECK(strcmp(s.func, "crypto/tls.(*Conn).Write") == 0 && s.ncallers == 0);
	CHECK(parse("ssl f=SSL_write& entry f optional", &s, err) == -1);
	CHECK_STR(err, "invalid symbol 'f=SSL_write&': want a name, or name=caller&caller...");
	CHECK(parse("ssl =SSL_write entry f optional", &s, err) == -1);
	CHECK(parse("ssl f=a=b entry f optional", &s, err) == -1);
	CHECK(parse("@lib SSL_write entry f required", &s, err) == -1);
	CHECK(strstr(err, "invalid library '@lib': want a name such as 'ssl', an absolute path, "
			  "@exe, @go or @stripped") != NULL);
	/* Go: names with a package path and a method; returns, never a uretprobe */
	CHECK(parse("@go crypto/tls.(*Conn).Write returns probe_return_go required", &s, err) == 1);
	CHECK(s.kind == PROBE_RETURNS && probe_kind_exits(s.kind));
	CHECK_STR(s.symbol, "crypto/tls.(*Conn).Write");
	CHECK(parse("@go crypto/tls.(*Conn).Write return probe_return_go required", &s, err) == -1);
	CHECK(strstr(err, "kind 'return' on Go function 'crypto/tls.(*Conn).Write': a uretprobe "
			  "breaks") != NULL);
	/* Go's call sites, and the entry and returns that stand in where they are not found */
	CHECK(parse("@go crypto/tls.(*Conn).Read sites probe_site_go_read required", &s, err) == 1);
	CHECK(s.kind == PROBE_SITES && !probe_kind_exits(s.kind) && !s.fallback);
	CHECK_STR(probe_kind_name(s.kind), "sites");
	CHECK(parse("@go crypto/tls.(*Conn).Read returns probe_return_go fallback", &s, err) == 1);
	CHECK(s.kind == PROBE_RETURNS && s.required && s.fallback);
	CHECK(parse("ssl SSL_read sites f required", &s, err) == -1);
	CHECK(strstr(err, "kind 'sites' on 'SSL_read' in 'ssl': call sites are found in Go's") !=
	      NULL);
	CHECK(parse("ssl SSL_read entry f fallback", &s, err) == -1);
	CHECK(strstr(err, "need 'fallback' on 'SSL_read' in 'ssl': a fallback stands in") != NULL);
	CHECK(parse("@go crypto/tls.(*Conn).Read sites f fallback", &s, err) == -1);
	CHECK(parse("@go a=b entry f required", &s, err) == -1);
	CHECK(strstr(err, "want a Go function name") != NULL);
	CHECK(parse("ssl crypto/tls.(*Conn).Write entry f required", &s, err) == -1);
	CHECK(parse("ssl SSL_write returns probe_return required", &s, err) == -1);
	CHECK(strstr(err, "kind 'returns' on 'SSL_write' in 'ssl': return instructions are found "
			  "in Go functions only") != NULL);
	CHECK(parse("ssl SSL_write exit f required", &s, err) == -1);
	CHECK_STR(err, "invalid kind 'exit': want 'entry', 'return', 'returns' or 'sites'");
	CHECK(parse("/usr/../etc/x SSL_write entry fn required", &s, err) == -1);
	CHECK(parse("ssl SSL_wr\"ite entry fn required", &s, err) == -1);
	CHECK_STR(err, "invalid symbol 'SSL_wr\"ite': want a name, or name=caller&caller...");
	/* a prefix (Rust's hash): '*' last only */
	CHECK(parse("@exe _ZN3foo5write17h* entry f required", &s, err) == 1);
	CHECK_STR(s.symbol, "_ZN3foo5write17h*");
	CHECK(parse("@exe _ZN3foo*write entry f required", &s, err) == -1);
	CHECK(parse("@exe * entry f required", &s, err) == -1);
}

static void test_display_name(void)
{
	char b[128];

	spec_display_name("_ZN55_$LT$rustls..conn..Writer$u20$as$u20$std..io..Write$GT$5write17h*",
			  b, sizeof(b));
	CHECK_STR(b, "rustls::conn::Writer::write"); /* <T as Trait>::f shown T::f */
	spec_display_name("_ZN6rustls4conn11CommonState19send_some_plaintext17h3e37036d10c5265bE",
			  b, sizeof(b));
	CHECK_STR(b, "rustls::conn::CommonState::send_some_plaintext");
	spec_display_name("ssl_write_internal=SSL_write&SSL_write_ex", b, sizeof(b));
	CHECK_STR(b, "ssl_write_internal");
	spec_display_name("SSL_write", b, sizeof(b));
	CHECK_STR(b, "SSL_write");
	spec_display_name("_ZN999abc", b, sizeof(b)); /* a length past its end: as it is */
	CHECK_STR(b, "_ZN999abc");
	spec_display_name("_ZN55_$LT$rustls..conn..Writer$u20$as$u20$std..io..Write$GT$5write17h*",
			  b, 10);
	CHECK_STR(b, "<rustls::");				  /* cut short: as it is */
	spec_display_name("_ZN10_$LT$a$GT$1f17h*", b, sizeof(b)); /* no trait: as it is */
	CHECK_STR(b, "<a>::f");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void test_load_dir(void)
{
	char dir[] = "/tmp/tracer-spec-XXXXXX", path[512], errs[2048];
	struct spec_table t;
	int r;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/b.spec", dir);
	write_file(path, "# b\nssl SSL_read entry probe_entry_SSL_read required\n"
			 "crypto d2i_X509 entry probe_entry_cert companion\n"
			 "crypto X509_verify_cert entry probe_entry_verify companion\n"
			 "gnutls gnutls_record_send entry probe_g required\n"
			 "gnutls gnutls_pcert_import_x509_raw entry probe_c companion\n");
	snprintf(path, sizeof(path), "%s/a.spec", dir);
	write_file(path, "ssl SSL_write entry probe_entry_SSL_write required\n\n"
			 "ssl SSL_write return probe_return required\n");
	snprintf(path, sizeof(path), "%s/ignored.txt", dir);
	write_file(path, "not a spec\n");

	CAPTURE_DIAG(errs, sizeof(errs), r = spec_table_load(dir, &t));
	CHECK(r == 0);
	CHECK(t.n == 7);
	CHECK_STR(t.specs[0].symbol, "SSL_write"); /* a.spec before b.spec */
	CHECK_STR(t.specs[2].symbol, "SSL_read");
	/* libraries grouped once: the first line of each, and those of companion lines only */
	CHECK(t.specs[0].lib_first && !t.specs[1].lib_first && !t.specs[2].lib_first);
	CHECK(t.specs[3].lib_first && !t.specs[4].lib_first);
	CHECK(!t.specs[0].lib_companions && !t.specs[2].lib_companions);
	CHECK(t.specs[3].lib_companions && t.specs[4].lib_companions);
	CHECK(t.specs[5].lib_first && !t.specs[5].lib_companions && !t.specs[6].lib_companions);
	snprintf(path, sizeof(path), "%s/a.spec:3", dir);
	CHECK_STR(t.specs[1].origin, path);
	spec_table_free(&t);

	/* A malformed line and a duplicate: both reported as file:line, -EINVAL. */
	snprintf(path, sizeof(path), "%s/c.spec", dir);
	write_file(path, "ssl SSL_read entry probe_entry_SSL_read required\nbad line\n");
	CAPTURE_DIAG(errs, sizeof(errs), r = spec_table_load(dir, &t));
	CHECK(r == -22);
	snprintf(path, sizeof(path), "%s/c.spec:1: duplicate of %s/b.spec:2\n", dir, dir);
	CHECK(strstr(errs, path) != NULL);
	snprintf(path, sizeof(path), "%s/c.spec:2: 2 fields, want 5", dir);
	CHECK(strstr(errs, path) != NULL);
	spec_table_free(&t);

	CAPTURE_DIAG(errs, sizeof(errs), r = spec_table_load("/nonexistent-dir", &t));
	CHECK(r == -2);
	CHECK(strstr(errs, "failed to read probe spec directory '/nonexistent-dir'") != NULL);

	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK(system(path) == 0);
}

int main(void)
{
	test_lines();
	test_display_name();
	test_load_dir();
	return check_done();
}
