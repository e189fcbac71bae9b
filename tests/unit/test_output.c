/* SPDX-License-Identifier: Apache-2.0 */
/* test_output.c - unit tests of payload escaping, hex dumps and row formatting */
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "check.h"
#include "diag.h"
#include "output.h"
#include "sink.h"
#include "x509.h"

typedef void (*render_fn)(FILE *out, const unsigned char *data, size_t len);

/* What fn writes for data, as a string (valid until the next call). */
static const char *render(render_fn fn, const char *data, size_t len)
{
	static char buf[1024];

	memset(buf, 0, sizeof(buf));
	CAPTURE(buf, sizeof(buf), o, fn(o, (const unsigned char *)data, len));
	return buf;
}

static void json_string(FILE *out, const unsigned char *data, size_t len)
{
	output_json_string(out, (const char *)data, len);
}

#define escape(d, n) render(output_escape, d, n)
#define b64(d, n) render(output_base64, d, n)
#define jstr(d, n) render(json_string, d, n)

static void test_escape(void)
{
	CHECK_STR(escape("GET / HTTP/1.1\r\n\r\n", 18), "GET / HTTP/1.1\r\n\r\n");
	CHECK_STR(escape("a\tb\n", 4), "a\tb\n");
	CHECK_STR(escape("\x1b[2J", 4), "\\x1b[2J"); /* no terminal control */
	CHECK_STR(escape("a\rb", 3), "a\\x0db");     /* lone CR could overwrite */
	CHECK_STR(escape("x\r", 2), "x\\x0d");	     /* CR at the end, no LF */
	CHECK_STR(escape("back\\slash", 10), "back\\\\slash");
	CHECK_STR(escape("\0\x7f", 2), "\\x00\\x7f");
	CHECK_STR(escape("caf\xc3\xa9", 5), "caf\xc3\xa9");   /* UTF-8 passes */
	CHECK_STR(escape("\xe2\x82\xac", 3), "\xe2\x82\xac"); /* euro sign */
	CHECK_STR(escape("\xf0\x9f\x98\x80", 4), "\xf0\x9f\x98\x80");
	CHECK_STR(escape("\xc2\x9b", 2), "\\xc2\\x9b");		 /* C1 CSI is escaped */
	CHECK_STR(escape("\xc3", 1), "\\xc3");			 /* cut sequence */
	CHECK_STR(escape("\xc0\xaf", 2), "\\xc0\\xaf");		 /* overlong */
	CHECK_STR(escape("\xed\xa0\x80", 3), "\\xed\\xa0\\x80"); /* surrogate */
	CHECK_STR(escape("\xff", 1), "\\xff");
}

static void test_hexdump(void)
{
	char buf[512] = {0};

	CAPTURE(buf, sizeof(buf), o,
		output_hexdump(o, (const unsigned char *)"GET /hello HTTP/1.1\r\n", 21));
	CHECK_STR(buf,
		  "00000000  47 45 54 20 2f 68 65 6c  6c 6f 20 48 54 54 50 2f  |GET /hello HTTP/|\n"
		  "00000010  31 2e 31 0d 0a                                    |1.1..|\n");
}

static void test_rows(void)
{
	char buf[1024] = {0};
	struct out_event ev = {.func = "SSL_write",
			       .time_ns = 1500000001,
			       .comm = "cu\x1brl",
			       .pid = 42,
			       .tid = 43,
			       .len = 10,
			       .data = (const unsigned char *)"hello",
			       .data_len = 5,
			       .truncated = 5};

	CAPTURE(buf, sizeof(buf), o, output_header(o, false); output_event(o, &ev, false, false));
	CHECK_STR(buf, "FUNC                TIME(s)      COMM             PID     TID     LEN\n"
		       "SSL_write           1.500000001  cu?rl            42      43      10\n"
		       "----- DATA -----\n"
		       "hello\n"
		       "----- END DATA (TRUNCATED, 5 bytes not shown) -----\n");

	memset(buf, 0, sizeof(buf));
	ev.len = 6;
	ev.data = (const unsigned char *)"hello\n";
	ev.data_len = 6;
	ev.truncated = 0;
	CAPTURE(buf, sizeof(buf), o, output_event(o, &ev, false, false));
	CHECK(strstr(buf, "----- DATA -----\nhello\n----- END DATA -----\n") != NULL);

	memset(buf, 0, sizeof(buf));
	ev.len = 20;
	ev.lost = 14;
	CAPTURE(buf, sizeof(buf), o, output_event(o, &ev, false, false));
	CHECK(strstr(buf, "----- END DATA (LOST, 14 bytes not captured) -----\n") != NULL);
	memset(buf, 0, sizeof(buf));
	ev.truncated = 4;
	ev.lost = 10;
	CAPTURE(buf, sizeof(buf), o, output_event(o, &ev, false, false));
	CHECK(strstr(buf, "(TRUNCATED, 4 bytes not shown; LOST, 10 bytes) -----\n") != NULL);
}

static void test_json(void)
{
	char buf[1024] = {0};
	struct out_event ev = {.func = "SSL_write_ex",
			       .lib = "/usr/lib/libssl.so.3",
			       .comm = "py\"x",
			       .unix_ns = 1700000000123456789ull,
			       .pid = 42,
			       .tid = 43,
			       .uid = 0,
			       .write = true,
			       .call_id = 7,
			       .len = 70000,
			       .offset = 65536,
			       .data = (const unsigned char *)"hi",
			       .data_len = 2,
			       .truncated = 1000};

	/* RFC 4648 test vectors */
	CHECK_STR(b64("", 0), "");
	CHECK_STR(b64("f", 1), "Zg==");
	CHECK_STR(b64("fo", 2), "Zm8=");
	CHECK_STR(b64("foo", 3), "Zm9v");
	CHECK_STR(b64("foob", 4), "Zm9vYg==");
	CHECK_STR(b64("fooba", 5), "Zm9vYmE=");
	CHECK_STR(b64("foobar", 6), "Zm9vYmFy");
	CHECK_STR(b64("\xff\xfe\x00", 3), "//4A");

	CHECK_STR(jstr("plain", 5), "\"plain\"");
	CHECK_STR(jstr("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
	CHECK_STR(jstr("\n\x01\x7f", 3), "\"\\u000a\\u0001\\u007f\"");
	CHECK_STR(jstr("caf\xc3\xa9", 5), "\"caf\xc3\xa9\"");
	CHECK_STR(jstr("\xff", 1), "\"\\u00ff\"");

	/* The connection unknown: its fields are null. */
	ev.fd = -1;
	ev.latency_ns = 1234;
	CAPTURE(buf, sizeof(buf), o, output_json_data(o, &ev));
	CHECK_STR(buf, "{\"v\":1,\"type\":\"data\",\"time_ns\":1700000000123456789,\"pid\":42,"
		       "\"tid\":43,\"uid\":0,\"comm\":\"py\\\"x\",\"lib\":\"/usr/lib/libssl.so.3\","
		       "\"func\":\"SSL_write_ex\",\"fd\":null,\"conn\":null,\"family\":null,"
		       "\"laddr\":null,\"lport\":null,\"raddr\":null,\"rport\":null,"
		       "\"dir\":\"write\",\"call\":7,\"call_len\":70000,\"offset\":65536,"
		       "\"latency_ns\":1234,\"data\":\"aGk=\",\"truncated_bytes\":1000}\n");
}

static const struct conn_addr v6 = {
	.family = AF_INET6, .laddr = "::1", .raddr = "::1", .lport = 40000, .rport = 443};

static void test_connection_rows(void)
{
	char buf[1024] = {0};
	struct out_event ev = {.func = "SSL_read",
			       .time_ns = 2000000000,
			       .comm = "wget",
			       .pid = 7,
			       .tid = 8,
			       .len = 3,
			       .data = (const unsigned char *)"abc",
			       .data_len = 3,
			       .latency_ns = 12345678,
			       .fd = 5,
			       .conn = 3,
			       .addr = &v6};

	CAPTURE(buf, sizeof(buf), o, output_header(o, true); output_conn_line(o, &ev);
		output_event(o, &ev, false, true));
	CHECK_STR(buf, "FUNC                TIME(s)      COMM             PID     TID     LEN     "
		       "LAT(ms)\n"
		       "--- conn 3, fd 5: local [::1]:40000, remote [::1]:443 ---\n"
		       "SSL_read            2.000000000  wget             7       8       3       "
		       "12.345\n"
		       "----- DATA -----\nabc\n----- END DATA -----\n");

	ev.addr = NULL;
	ev.conn_why = "not a socket";
	CAPTURE(buf, sizeof(buf), o, output_conn_line(o, &ev));
	CHECK_STR(buf, "--- conn 3, fd 5: addresses unknown (not a socket) ---\n");
	ev.conn = 0;
	CAPTURE(buf, sizeof(buf), o, output_conn_line(o, &ev));
	CHECK_STR(buf, "--- connection unknown: no socket seen for this session ---\n");

	ev.func = "SSL_do_handshake";
	ev.conn = 3;
	ev.ok = true;
	ev.latency_ns = 2500000;
	CAPTURE(buf, sizeof(buf), o, output_handshake(o, &ev));
	CHECK_STR(buf, "SSL_do_handshake    2.000000000  wget             7       8       "
		       "handshake ok in 2.500 ms (conn 3)\n");
	ev.ok = false;
	ev.result = -1;
	CAPTURE(buf, sizeof(buf), o, output_handshake(o, &ev));
	CHECK(strstr(buf, "handshake FAILED (returned -1) after 2.500 ms (conn 3)\n") != NULL);

	ev.func = "SSL_get_verify_result";
	ev.result = 10;
	CAPTURE(buf, sizeof(buf), o, output_verify(o, &ev));
	CHECK(strstr(buf, " verify FAILED: 10 X509_V_ERR_CERT_HAS_EXPIRED (conn 3)\n") != NULL);
	ev.result = 0;
	CAPTURE(buf, sizeof(buf), o, output_verify(o, &ev));
	CHECK(strstr(buf, " verify ok: 0 X509_V_OK (conn 3)\n") != NULL);
	ev.result = 5000;
	CAPTURE(buf, sizeof(buf), o, output_verify(o, &ev));
	CHECK(strstr(buf, " verify FAILED: 5000 (unknown X509_V_ value) (conn 3)\n") != NULL);

	ev.func = "SSL_CTX_set_verify";
	ev.result = 0;
	ev.conn = 0;
	CAPTURE(buf, sizeof(buf), o, output_verify_off(o, &ev));
	CHECK_STR(buf, "SSL_CTX_set_verify  2.000000000  wget             7       8       WARNING: "
		       "certificate verification disabled (mode 0, no SSL_VERIFY_PEER): a client "
		       "accepts any server certificate\n");

	CHECK_STR(x509_error_name(0), "X509_V_OK");
	CHECK_STR(x509_error_name(18), "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT");
	CHECK_STR(x509_error_name(62), "X509_V_ERR_HOSTNAME_MISMATCH");
	CHECK_STR(x509_error_name(94), "X509_V_ERR_EC_KEY_EXPLICIT_PARAMS");
	CHECK(x509_error_name(95) == NULL && x509_error_name(-1) == NULL);
}

#define JSON_HEAD(type)                                                                            \
	"{\"v\":1,\"type\":\"" type                                                                \
	"\",\"time_ns\":5,\"pid\":7,\"tid\":8,\"uid\":0,\"comm\":\"curl\""
#define JSON_CONN                                                                                  \
	",\"fd\":5,\"conn\":3,\"family\":\"ipv6\",\"laddr\":\"::1\",\"lport\":40000,"              \
	"\"raddr\":\"::1\",\"rport\":443"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_json_events(void)
{
	char buf[1024] = {0};
	struct out_event ev = {.func = "SSL_connect",
			       .lib = "/l/libssl.so.3",
			       .comm = "curl",
			       .unix_ns = 5,
			       .pid = 7,
			       .tid = 8,
			       .latency_ns = 99,
			       .fd = 5,
			       .conn = 3,
			       .addr = &v6,
			       .result = 1,
			       .ok = true};

	CAPTURE(buf, sizeof(buf), o, output_json_handshake(o, &ev));
	CHECK_STR(buf, JSON_HEAD("handshake") ",\"lib\":\"/l/"
					      "libssl.so.3\",\"func\":\"SSL_connect\"" JSON_CONN
					      ",\"latency_ns\":99,\"ok\":true,\"result\":1}\n");

	ev.func = "SSL_get_verify_result";
	ev.result = 20;
	CAPTURE(buf, sizeof(buf), o, output_json_verify(o, &ev));
	CHECK(strncmp(buf, JSON_HEAD("verify"), strlen(JSON_HEAD("verify"))) == 0);
	CHECK(strstr(buf, JSON_CONN
		     ",\"result\":20,\"ok\":false,"
		     "\"error\":\"X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY\"}\n") != NULL);

	ev.func = "SSL_CTX_set_verify";
	ev.result = 0;
	CAPTURE(buf, sizeof(buf), o, output_json_verify_off(o, &ev));
	CHECK_STR(buf, JSON_HEAD("verify_disabled") ",\"lib\":\"/l/libssl.so.3\","
						    "\"func\":\"SSL_CTX_set_verify\"" JSON_CONN
						    ",\"mode\":0}\n");

	CAPTURE(buf, sizeof(buf), o, output_json_conn(o, &ev, "close", "exit"));
	CHECK_STR(buf,
		  JSON_HEAD("conn") ",\"event\":\"close\"" JSON_CONN ",\"reason\":\"exit\"}\n");

	ev.addr = NULL;
	ev.conn_why = "not a socket";
	CAPTURE(buf, sizeof(buf), o, output_json_conn(o, &ev, "open", NULL));
	CHECK(strstr(buf, "\"event\":\"open\",\"fd\":5,\"conn\":3,\"family\":null,") != NULL);
	CHECK(strstr(buf, "\"rport\":null,\"unresolved\":\"not a socket\"}\n") != NULL);

	/* hellos: the client's name on the connection's records, each side's record */
	struct hello hellos[2] = {{.side = HELLO_CLIENT,
				   .sni = "api.test",
				   .alpn = "h2,,http/1.1",
				   .version = 0x0304},
				  {.side = HELLO_SERVER,
				   .version = 0x0303,
				   .cipher = 0xc030,
				   .alpn = "h2",
				   .cut = true}};
	ev.addr = &v6;
	ev.conn_why = NULL;
	ev.hello = hellos;
	ev.write = true; /* the client's, sent */
	CAPTURE(buf, sizeof(buf), o, output_json_hello(o, &ev, &hellos[0]));
	CHECK_STR(buf, JSON_HEAD("hello") JSON_CONN
		  ",\"sni\":\"api.test\",\"side\":\"client\",\"dir\":\"write\","
		  "\"version\":\"TLSv1.3\",\"server_name\":\"api.test\",\"alpn\":[\"h2\","
		  "\"http/1.1\"],\"ech\":false,\"complete\":true}\n");
	ev.write = false; /* the server's, received */
	CAPTURE(buf, sizeof(buf), o, output_json_hello(o, &ev, &hellos[1]));
	CHECK(strstr(buf, "\"side\":\"server\",\"dir\":\"read\",\"version\":\"TLSv1.2\","
			  "\"cipher\":\"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\",\"alpn\":\"h2\","
			  "\"resumed\":false,\"retry\":false,\"complete\":false}\n") != NULL);
	ev.func = "ServerHello";
	CAPTURE(buf, sizeof(buf), o, output_hello(o, &ev, &hellos[1]));
	CHECK(strstr(buf, " server hello received: TLSv1.2, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "
			  "alpn h2 (its first bytes only) (conn 3)\n") != NULL);
	ev.write = true;
	CAPTURE(buf, sizeof(buf), o, output_hello(o, &ev, &hellos[0]));
	CHECK(strstr(buf, " client hello: sni api.test, alpn h2,,http/1.1 (conn 3)\n") != NULL);
	CAPTURE(buf, sizeof(buf), o, output_conn_line(o, &ev));
	CHECK_STR(buf,
		  "--- conn 3, fd 5: local [::1]:40000, remote [::1]:443; sni api.test, alpn "
		  "h2,,http/1.1; TLSv1.2, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, alpn h2 ---\n");

	/* the cgroup: on every record after comm; on the connection's line unless the root */
	struct cgroup_label cg = {
		.id = 4242, .path = "/docker/" ID64, .runtime = "docker", .container = ID64};
	ev.hello = NULL;
	ev.cgroup = &cg;
	CAPTURE(buf, sizeof(buf), o, output_json_conn(o, &ev, "close", "exit"));
	CHECK(strstr(buf,
		     "\"comm\":\"curl\",\"cgroup_id\":4242,\"cgroup\":\"/docker/" ID64
		     "\",\"runtime\":\"docker\",\"container\":\"" ID64 "\",\"event\"") != NULL);
	CAPTURE(buf, sizeof(buf), o, output_conn_line(o, &ev));
	CHECK_STR(buf, "--- conn 3, fd 5: local [::1]:40000, remote [::1]:443; container docker "
		       "0123456789ab ---\n");
	cg = (struct cgroup_label){
		.id = 77, .path = "/a b/\x1b[31m", .pod = "1b2c3d4e-5f60-4718-9a0b-1c2d3e4f5a6b"};
	CAPTURE(buf, sizeof(buf), o, output_conn_line(o, &ev));
	CHECK_STR(buf, "--- conn 3, fd 5: local [::1]:40000, remote [::1]:443; cgroup /a?b/?[31m, "
		       "pod 1b2c3d4e-5f60-4718-9a0b-1c2d3e4f5a6b ---\n");
	CAPTURE(buf, sizeof(buf), o, output_json_conn(o, &ev, "close", "exit"));
	CHECK(strstr(buf, "\"cgroup_id\":77,\"cgroup\":\"/a b/\\u001b[31m\",\"pod\":\"1b2c") !=
	      NULL);
	cg = (struct cgroup_label){.id = 1, .path = "/"};
	CAPTURE(buf, sizeof(buf), o, output_conn_line(o, &ev));
	CHECK_STR(buf, "--- conn 3, fd 5: local [::1]:40000, remote [::1]:443 ---\n");
	cg.path = NULL;
	CAPTURE(buf, sizeof(buf), o, output_json_conn(o, &ev, "close", "exit"));
	CHECK(strstr(buf, "\"cgroup_id\":1,\"cgroup\":null,\"event\"") != NULL);

	/* certificates: a record each, a row with --handshake, a warning when ending soon */
	struct cert_info c = {.subject = "CN=api.test,O=Ex\\2C Ltd",
			      .issuer = "CN=CA",
			      .san = "DNS:api.test, IP Address:127.0.0.1",
			      .serial = "1234ABCD",
			      .sha256 = "AB:CD",
			      .key = "RSA 2048",
			      .not_before = 1700000000,
			      .not_after = 1800000000};
	ev.cgroup = NULL;
	ev.func = "Certificate";
	CAPTURE(buf, sizeof(buf), o, output_json_cert(o, &ev, &c, "server", 0, 9));
	CHECK(strstr(buf,
		     ",\"side\":\"server\",\"depth\":0,\"subject\":\"CN=api.test,O=Ex\\\\2C "
		     "Ltd\",\"issuer\":\"CN=CA\",\"san\":[\"DNS:api.test\",\"IP Address:"
		     "127.0.0.1\"],\"serial\":\"1234ABCD\",\"not_before\":\"2023-11-14T22:13:20Z\","
		     "\"not_after\":\"2027-01-15T08:00:00Z\",\"sha256\":\"AB:CD\",\"key\":\"RSA "
		     "2048\",\"days_left\":9,\"expiring\":true}\n") != NULL);
	c.san[0] = '\0';
	CAPTURE(buf, sizeof(buf), o, output_json_cert(o, &ev, &c, NULL, -1, 31));
	CHECK(strstr(buf, ",\"side\":null,\"depth\":null,") != NULL);
	CHECK(strstr(buf, ",\"san\":[],") != NULL);
	CHECK(strstr(buf, ",\"days_left\":31,\"expiring\":false}\n") != NULL);
	CAPTURE(buf, sizeof(buf), o, output_cert(o, &ev, &c, "client", 1));
	CHECK(strstr(buf, " client certificate 1: CN=api.test,O=Ex\\2C Ltd; issuer CN=CA; serial "
			  "1234ABCD; RSA 2048; valid 2023-11-14T22:13:20Z to 2027-01-15T08:00:00Z; "
			  "sha256 AB:CD (conn 3)\n") != NULL);
	CAPTURE(buf, sizeof(buf), o, output_cert_expiry(o, &ev, &c, "server", 0, 1));
	CHECK(strstr(buf, " WARNING: server certificate 0 CN=api.test,O=Ex\\2C Ltd expires in 1 "
			  "day, on 2027-01-15T08:00:00Z (conn 3)\n") != NULL);
	CAPTURE(buf, sizeof(buf), o, output_cert_expiry(o, &ev, &c, NULL, -1, -2));
	CHECK(strstr(buf, " WARNING: peer certificate CN=api.test,O=Ex\\2C Ltd expired on "
			  "2027-01-15T08:00:00Z (conn 3)\n") != NULL);
}

/* A connection's bytes before probes: addresses when known, every figure. */
static void test_json_unprobed(void)
{
	struct conn_addr a = {.family = AF_INET,
			      .laddr = "127.0.0.1",
			      .raddr = "127.0.0.1",
			      .lport = 40000,
			      .rport = 8443};
	struct out_unprobed u = {.pid = 7,
				 .comm = "hey",
				 .program = "/usr/bin/hey",
				 .fd = 6,
				 .socket_ino = 99,
				 .addr = &a,
				 .sent = 517,
				 .recv = 3012,
				 .reason = "new_code"};
	char buf[1024];

	CAPTURE(buf, sizeof(buf), o, output_json_unprobed(o, &u));
	CHECK_STR(buf, "{\"v\":1,\"type\":\"unprobed\",\"pid\":7,\"comm\":\"hey\",\"program\":"
		       "\"/usr/bin/hey\",\"fd\":6,\"socket_ino\":99,\"family\":\"ipv4\","
		       "\"laddr\":\"127.0.0.1\",\"lport\":40000,\"raddr\":\"127.0.0.1\","
		       "\"rport\":8443,\"bytes_sent\":517,\"bytes_received\":3012,"
		       "\"reason\":\"new_code\"}\n");
	u.addr = NULL;
	u.comm = "a\"b";
	u.reason = "exited";
	CAPTURE(buf, sizeof(buf), o, output_json_unprobed(o, &u));
	CHECK(strstr(buf, "\"comm\":\"a\\\"b\",") != NULL);
	CHECK(strstr(buf, "\"rport\":null,\"bytes_sent\":517,") != NULL); /* no addresses */
	CHECK(strstr(buf, "\"reason\":\"exited\"}\n") != NULL);
}

/* The closing JSON record: its fields in their documented order, every figure given. */
static void test_json_summary(void)
{
	const char *paths[] = {"/usr/lib/libssl.so.3", "/lib/libgnutls \"x\".so"};
	uint64_t calls[] = {7, 0};
	struct out_summary_proc procs[] = {
		{.pid = 42,
		 .comm = "curl",
		 .c = {.calls = 7,
		       .bytes_moved = 100,
		       .bytes_captured = 90,
		       .bytes_truncated = 10,
		       .bytes_sent_before_probes = 517,
		       .bytes_received_before_probes = 3012}},
	};
	struct out_summary s = {
		.reason = "target exited",
		.all = {1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 517, 3012},
		.late = 10,
		.meta_lost = 11,
		.malformed = 12,
		.dropped = 13,
		.bytes_dropped = 14,
		.conns = 15,
		.conns_unresolved = 16,
		.calls_without_conn = 17,
		.conns_before_probes = 1,
		.calls_in_flight = 18,
		.conns_filtered = 19,
		.certs_undecoded = 20,
		.certs_unshown = 21,
		.lib_paths = paths,
		.lib_calls = calls,
		.nlibs = 2,
		.procs = procs,
		.nprocs = 1,
	};
	char buf[2048];

	CAPTURE(buf, sizeof(buf), o, output_json_summary(o, &s));
	CHECK_STR(buf,
		  "{\"v\":1,\"type\":\"summary\",\"reason\":\"target exited\",\"libraries\":"
		  "[{\"path\":\"/usr/lib/libssl.so.3\",\"calls\":7},{\"path\":\"/lib/libgnutls "
		  "\\\"x\\\".so\",\"calls\":0}],\"calls\":1,\"bytes_moved\":2,\"bytes_captured\":3,"
		  "\"bytes_truncated\":4,\"bytes_lost\":5,\"bytes_unreadable\":6,\"events_lost\":7,"
		  "\"events_filtered\":8,\"bytes_filtered\":9,\"calls_unfinished\":0,"
		  "\"bytes_sent_before_probes\":517,"
		  "\"bytes_received_before_probes\":3012,\"uncounted_before_probes\":0,"
		  "\"chunks_out_of_order\":10,"
		  "\"meta_events_lost\":11,\"malformed_events\":12,\"chunks_dropped\":13,"
		  "\"bytes_dropped\":14,\"connections\":15,\"connections_unresolved\":16,"
		  "\"calls_without_conn\":17,\"connections_before_probes\":1,"
		  "\"calls_in_flight\":18,\"connections_filtered\":19,"
		  "\"certificates_undecoded\":20,\"certificates_unshown\":21,"
		  "\"processes\":[{\"pid\":42,\"comm\":\"curl\","
		  "\"calls\":7,\"bytes_moved\":100,\"bytes_captured\":90,\"bytes_truncated\":10,"
		  "\"bytes_lost\":0,\"bytes_unreadable\":0,\"events_lost\":0,"
		  "\"events_filtered\":0,\"bytes_filtered\":0,\"calls_unfinished\":0,"
		  "\"bytes_sent_before_probes\":517,"
		  "\"bytes_received_before_probes\":3012,\"uncounted_before_probes\":0}]}\n");
	s.http = true;
	s.http_messages = 4;
	s.nlibs = 0;
	s.nprocs = 0;
	CAPTURE(buf, sizeof(buf), o, output_json_summary(o, &s));
	CHECK(strstr(buf, "\"libraries\":[],\"calls\":1,") != NULL);
	CHECK(strstr(buf, "\"connections_before_probes\":1,\"calls_in_flight\":18,"
			  "\"connections_filtered\":19,\"certificates_undecoded\":20,"
			  "\"certificates_unshown\":21,\"http_messages\":4,\"http_stopped\":0,"
			  "\"http_unmasked_bytes\":0,\"processes\":[]}\n") != NULL);
	CAPTURE(buf, sizeof(buf), o, output_json_summary_unknown(o, "stopped", 5));
	CHECK_STR(buf, "{\"v\":1,\"type\":\"summary\",\"reason\":\"stopped\",\"bytes_captured\":5,"
		       "\"counters\":\"unavailable\"}\n");
}

/* Escaping looks at 16 bytes at once: every byte value, at every place in and across
 * blocks, comes out as it does alone (each is its own sequence between plain 'a's). */
static void test_escape_blocks(void)
{
	char in[48], alone[16], want[128];
	int c, at, bad = 0;

	for (c = 0; c < 256; c++) {
		for (at = 0; at < (int)sizeof(in); at++) {
			memset(in, 'a', sizeof(in));
			in[at] = (char)c;
			snprintf(alone, sizeof(alone), "%s", escape(in + at, 1));
			snprintf(want, sizeof(want), "%.*s%s%.*s", at, in, alone,
				 (int)sizeof(in) - at - 1, in + at + 1);
			bad += strcmp(escape(in, sizeof(in)), want) != 0;
			snprintf(alone, sizeof(alone), "%s", jstr(in + at, 1));
			alone[strlen(alone) - 1] = '\0'; /* its closing quote */
			snprintf(want, sizeof(want), "\"%.*s%s%.*s\"", at, in, alone + 1,
				 (int)sizeof(in) - at - 1, in + at + 1);
			bad += strcmp(jstr(in, sizeof(in)), want) != 0;
		}
	}
	CHECK(bad == 0);
}

/* Base64 six bytes at a time and the rest: every length up to a few blocks of the writer's
 * buffer agrees with the alphabet taken bit by bit. */
static void test_base64_lengths(void)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static unsigned char in[20000];
	static char want[27000], got[27000];
	size_t len, i, n, bits;
	int bad = 0;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + (i >> 8) * 13);
	for (len = 0; len < sizeof(in); len += len < 64 ? 1 : 997) {
		for (i = n = 0; i < len * 8; i += 6) { /* six bits at a time */
			bits = 0;
			for (size_t b = i; b < i + 6; b++)
				bits = bits << 1 |
				       (b < len * 8 ? (size_t)(in[b / 8] >> (7 - b % 8)) & 1 : 0);
			want[n++] = tab[bits];
		}
		while (n % 4)
			want[n++] = '=';
		want[n] = '\0';
		memset(got, 0, sizeof(got));
		CAPTURE(got, sizeof(got), o, output_base64(o, in, len));
		bad += strcmp(got, want) != 0;
	}
	CHECK(bad == 0);
}

/* xorshift64: the same bytes on every run. */
static uint64_t rng_state;

static unsigned char rng_byte(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned char)(rng_state >> 32);
}

/* A UTF-8 sequence at p that text shows as itself (2-4 bytes), found by decoding it, or 0. */
static size_t ref_utf8(const unsigned char *p, size_t avail)
{
	static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0, i;
	uint32_t cp = p[0] & (0x7f >> n);

	if (!n || p[0] >= 0xf8 || avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000) || cp < 0xa0)
		return 0; /* overlong, beyond Unicode, a surrogate, a C1 control */
	return n;
}

/* The escaping as first written, a byte at a time, into out (NUL-terminated); its length. */
static size_t ref_escape(char *out, const unsigned char *d, size_t len)
{
	size_t i = 0, n = 0, u;

	while (i < len) {
		unsigned char c = d[i];

		if ((c >= 0x20 && c < 0x7f && c != '\\') || c == '\n' || c == '\t' ||
		    (c == '\r' && i + 1 < len && d[i + 1] == '\n')) {
			out[n++] = (char)c;
			i++;
		} else if (c == '\\') {
			out[n++] = '\\';
			out[n++] = '\\';
			i++;
		} else if ((u = ref_utf8(d + i, len - i)) > 0) {
			memcpy(out + n, d + i, u);
			n += u;
			i += u;
		} else {
			n += (size_t)snprintf(out + n, 5, "\\x%02x", c);
			i++;
		}
	}
	out[n] = '\0';
	return n;
}

static char big_got[1 << 18], big_want[1 << 18];

/* Whether output_escape gives what ref_escape does for d. */
static bool escape_as_before(const unsigned char *d, size_t len)
{
	memset(big_got, 0, sizeof(big_got));
	CAPTURE(big_got, sizeof(big_got), o, output_escape(o, d, len));
	ref_escape(big_want, d, len);
	if (strcmp(big_got, big_want) == 0)
		return true;
	fprintf(stderr, "escaping %zu bytes differs from before\n", len);
	return false;
}

/* Printable ASCII with a backslash every 58 bytes, like bench/tlsload --payload text. */
static void fill_text(unsigned char *d, size_t len)
{
	static const char pat[] =
		"GET /index.html HTTP/1.1 Host: example.com; q=0.9, {\"a\":[1,2]}";
	size_t i;

	for (i = 0; i < len; i++)
		d[i] = i % 58 == 57 ? '\\' : (unsigned char)pat[i % (sizeof(pat) - 1)];
}

/* Payload-sized inputs come out as they did when each byte was written on its own: plain
 * bytes, backslashes, controls, "\r\n", UTF-8 good and bad, each escape's output crossing
 * output_escape's 16 KiB buffer at every place. */
static void test_escape_as_before(void)
{
	static const char *const pieces[] = {
		"\\",
		"\t\n",
		"\r\n",
		"\r",
		"\r\r\n",
		"\x1b[0m\x7f",			    /* controls */
		"\xc3\xa9",			    /* UTF-8: 2 bytes */
		"\xe2\x82\xac",			    /* 3 */
		"\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", /* 4, the last one */
		"\xc2\xa0",			    /* the first after C1 */
		"\xc2\x9b\xc2\x80",		    /* C1 controls */
		"\xc0\xaf\xe0\x80\xaf",		    /* overlong */
		"\xed\xa0\x80",			    /* a surrogate */
		"\xf4\x90\x80\x80\xf5\x80\x80\x80", /* beyond U+10FFFF */
		"\xe2\x82",			    /* cut short */
		"\xf0\x9f\x98",
		"\x80\xbf\xbf\xff\xc3", /* stray bytes */
	};
	static const char words[] = "plain words, plain words, plain words, plain";
	static unsigned char d[20000];
	size_t len, i, at, n, run;
	int bad = 0, k;

	for (i = 0; i < 256; i++)
		d[i] = (unsigned char)i;
	bad += !escape_as_before(d, 256); /* every byte value */
	for (i = 0; i < 256; i++)
		d[i] = (unsigned char)(255 - i);
	bad += !escape_as_before(d, 256);

	fill_text(d, 16384);
	bad += !escape_as_before(d, 16384);
	memset(d, 'x', sizeof(d));
	for (len = 16300; len < 16450; len++) /* plain: the 16 KiB buffer fills with them */
		bad += !escape_as_before(d, len);
	/* Runs of 0 to 17 plain bytes between 2-, 4- or 3-byte forms, shifted byte by byte:
	 * output_escape's 16 KiB buffer fills at every place of a 16-byte block and a form. */
	for (k = 0; k < 3; k++) {
		static const char *const forms[] = {"\\", "\x01", "\xe2\x82\xac"};

		for (run = 0; run < 18; run++) {
			for (at = 0; at < 20; at++) {
				n = strlen(forms[k]);
				memset(d, 'y', sizeof(d));
				for (i = at; i + n <= 16500; i += n + run)
					memcpy(d + i, forms[k], n);
				bad += !escape_as_before(d, 16500);
			}
		}
	}

	/* Pieces in a random order, every length to a few blocks, then long ones. */
	rng_state = 0x9e3779b97f4a7c15ull;
	for (k = 0; k < 3000; k++) {
		size_t want = k < 2000 ? (size_t)k % 80 : 1000 + (size_t)rng_byte() * 70;

		for (len = 0; len < want;) {
			const char *p = pieces[rng_byte() % (sizeof(pieces) / sizeof(pieces[0]))];
			unsigned char r = rng_byte();

			if (r < 16) {
				d[len++] = rng_byte(); /* any byte */
				continue;
			}
			if (r < 96)
				p = words + r % (sizeof(words) - 1); /* a plain run of any length */
			n = strlen(p);
			if (len + n > sizeof(d))
				break;
			memcpy(d + len, p, n);
			len += n;
		}
		bad += !escape_as_before(d, len);
	}
	CHECK(bad == 0);
}

/* base64's value of a character, or -1. */
static int b64_value(char c)
{
	const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *at = c ? strchr(tab, c) : NULL;

	return at ? (int)(at - tab) : -1;
}

/* Decodes base64 lines (at most 76 characters each, all but the last exactly 76) into out;
 * returns the bytes, or -1 when the lines are not so. */
static long b64_lines_decode(const char *s, unsigned char *out)
{
	long n = 0;
	uint32_t acc = 0;
	int bits = 0, v, col = 0, pad = 0;

	for (; *s; s++) {
		if (*s == '\n') {
			if (col == 0 || (col != 76 && s[1] != '\0'))
				return -1;
			col = 0;
			continue;
		}
		if (++col > 76)
			return -1;
		if (*s == '=') {
			pad++;
			continue;
		}
		if ((v = b64_value(*s)) < 0 || pad)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return col == 0 ? n : -1; /* the last line ends in a newline */
}

/* What output_event gives for a payload, into big_got; a pointer to the payload's text. */
static const char *event_payload(const unsigned char *d, size_t len, bool *base64)
{
	struct out_event ev = {.func = "SSL_read",
			       .comm = "t",
			       .len = (uint32_t)len,
			       .data = d,
			       .data_len = (uint32_t)len};
	char *start, *end;

	memset(big_got, 0, sizeof(big_got));
	CAPTURE(big_got, sizeof(big_got), o, output_event(o, &ev, false, false));
	start = strstr(big_got, "-----\n") + 6;
	*base64 = strstr(big_got, "\n----- DATA (base64) -----\n") != NULL;
	end = strstr(start, "----- END DATA -----\n");
	if (!end || end[21] != '\0')
		return NULL;
	*end = '\0';
	return start;
}

/* The payload's section is right for d: exact text when it is 128 bytes or fewer or its text
 * takes no more than base64 lines, else base64 lines that decode to d. */
static bool payload_right(const unsigned char *d, size_t len)
{
	static unsigned char back[1 << 16];
	size_t chars = (len + 2) / 3 * 4, room = chars + (chars + 75) / 76;
	size_t text = ref_escape(big_want, d, len) + (len > 0 && d[len - 1] != '\n');
	const char *got;
	bool base64;

	if (len > 0 && d[len - 1] != '\n')
		strcat(big_want, "\n");
	if (!(got = event_payload(d, len, &base64)) || base64 != (len > 128 && text > room))
		return false;
	if (!base64)
		return strcmp(got, big_want) == 0;
	return b64_lines_decode(got, back) == (long)len && memcmp(back, d, len) == 0;
}

/* Text never takes more room than base64: a payload whose text would is shown as base64
 * lines, 76 characters each, and the choice is exact at the edge. */
static void test_payload_base64(void)
{
	static unsigned char d[1 << 15];
	struct out_event ev = {.func = "SSL_write", .comm = "t", .data = d};
	const char *got;
	bool base64;
	size_t i, j, len, k;
	int bad = 0;

	/* 16 KiB of random bytes: base64 lines that decode to them. */
	rng_state = 88172645463325252ull;
	for (i = 0; i < 16384; i++)
		d[i] = rng_byte();
	got = event_payload(d, 16384, &base64);
	CHECK(got && base64);
	CHECK(got && strspn(got, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
				 "=\n") == strlen(got));
	CHECK(got && strlen(got) == 21848 + 288); /* 4 * 16384 / 3 rounded up, 288 lines */
	CHECK(payload_right(d, 16384));
	CHECK(strncmp(big_got, "SSL_read", 8) == 0);
	/* The end marker as ever; nothing is nothing, as ever. */
	ev.len = 16389;
	ev.data_len = 16384;
	ev.truncated = 5;
	CAPTURE(big_got, sizeof(big_got), o, output_event(o, &ev, false, false));
	CHECK(strstr(big_got, "\n----- DATA (base64) -----\n") != NULL);
	CHECK(strstr(big_got, "==\n----- END DATA (TRUNCATED, 5 bytes not shown) -----\n") != NULL);
	ev.len = ev.data_len = ev.truncated = 0;
	CAPTURE(big_got, sizeof(big_got), o, output_event(o, &ev, false, false));
	CHECK(strstr(big_got, " 0\n----- DATA -----\n----- END DATA -----\n") != NULL);

	/* Known lines: 57 bytes are one line of 76; "foob" after three a fourth, padded. */
	memset(d, 0xff, 3 * 57);
	memcpy(d + 3 * 57, "foob", 4);
	got = event_payload(d, 3 * 57 + 4, &base64);
	CHECK(base64 && got);
	CHECK_STR(got ? got : "", "////////////////////////////////////////////////////////////"
				  "////////////////\n"
				  "////////////////////////////////////////////////////////////"
				  "////////////////\n"
				  "////////////////////////////////////////////////////////////"
				  "////////////////\nZm9vYg==\n");
	/* A short message is text whatever it holds: 128 bytes of 0xff, escaped. */
	got = event_payload(d, 128, &base64);
	CHECK(got && !base64 && strncmp(got, "\\xff\\xff", 8) == 0 && strlen(got) == 4 * 128 + 1);
	got = event_payload(d, 129, &base64);
	CHECK(got && base64);

	/* The edge: 300 bytes take 406 characters as base64 lines (400 and 6 newlines). 'a's
	 * with 35 "\x01" are 405 and the newline added: 406, text; a backslash more: base64.
	 * Ending in '\n' (none added), a backslash makes it 406: text; another: base64. */
	for (k = 0; k < 4; k++) {
		memset(d, 'a', 300);
		for (i = 0; i < 35; i++)
			d[i * 8 + 3] = 0x01;
		if (k & 2) {
			d[299] = '\n';
			d[151] = '\\';
		}
		if (k & 1)
			d[150] = '\\';
		got = event_payload(d, 300, &base64);
		CHECK(got && base64 == (k & 1));
		bad += !payload_right(d, 300);
	}

	/* Every mix of random and plain bytes near the edge, long and short, the random ones
	 * up front, at the end, or spread; and the base64 lines' buffers' edges. */
	rng_state = 12345;
	for (k = 0; k < 400; k++) {
		size_t p = 20 + k % 40; /* in 256ths: random bytes around where base64 wins */

		len = k < 200 ? 1 + (size_t)k * 37 % 3000 : 1000 + (size_t)k * 997 % 20000;
		for (i = 0; i < len; i++)
			d[i] = rng_byte() < p ? rng_byte() : (unsigned char)('a' + i % 26);
		if (k % 3 == 1)
			for (i = 0; i < len / 3; i++)
				d[i] = rng_byte();
		if (k % 3 == 2)
			for (i = len - len / 4; i < len; i++)
				d[i] = rng_byte();
		bad += !payload_right(d, len);
		/* UTF-8 text (three bytes a character, shown as they are) among random bytes */
		for (i = 0; i + 3 <= len; i += 3) {
			memcpy(d + i, "\xe6\x96\x87", 3);
			if (rng_byte() < p)
				for (j = i; j < i + 3; j++)
					d[j] = rng_byte();
		}
		bad += !payload_right(d, len);
	}
	for (len = 1; len < 64; len++) { /* short binary payloads */
		for (i = 0; i < len; i++)
			d[i] = rng_byte();
		bad += !payload_right(d, len);
	}
	for (k = 0; k < 6; k++) {
		static const size_t edges[] = {3647, 3648, 3649, 10944, 10945, 32768};

		for (i = 0; i < edges[k]; i++)
			d[i] = rng_byte();
		bad += !payload_right(d, edges[k]);
	}
	CHECK(bad == 0);
}

/* --count's sink: a line per connection (or per process, for calls on none) with the calls
 * counted at their first chunk and the bytes they moved; a comm made printable; the
 * warnings text would give on stderr; the total. */
static void test_count_table(void)
{
	struct conn_addr to = {.family = AF_INET, .raddr = "127.0.0.1", .rport = 8443};
	struct out_event ev = {.func = "SSL_write",
			       .comm = "cu\x1brl",
			       .pid = 7,
			       .conn = 3,
			       .addr = &to,
			       .write = true,
			       .len = 100,
			       .data_len = 16};
	struct sink *s;
	char buf[1024] = {0}, errs[512] = {0};

	CAPTURE(buf, sizeof(buf), o, {
		s = sink_count_new(o);
		s->ops->data(s, &ev); /* call 1, first chunk: 100 bytes sent */
		ev.offset = 16;
		s->ops->data(s, &ev); /* its next chunk: not a call */
		ev.offset = 0;
		ev.write = false;
		ev.len = 40;
		s->ops->data(s, &ev); /* a read of 40 */
		ev.conn = 0;
		ev.addr = NULL;
		s->ops->data(s, &ev); /* a read on no connection */
		ev.pid = 8;
		s->ops->data(s, &ev); /* another process's */
		ev.pid = 7;
		CAPTURE_DIAG(errs, sizeof(errs), {
			ev.result = 18;
			s->ops->meta(s, TLS_KIND_VERIFY, &ev);
			ev.result = 0;
			s->ops->meta(s, TLS_KIND_VERIFY, &ev); /* ok: nothing to warn of */
		});
		s->ops->summary(s, &(struct out_summary){.reason = "stopped"});
		sink_free(s);
	});
	CHECK_STR(buf, "CONN   PID     COMM             REMOTE                         CALLS_OUT "
		       "   BYTES_OUT  CALLS_IN     BYTES_IN\n"
		       "3      7       cu?rl            127.0.0.1:8443                         1  "
		       "        100         1           40\n"
		       "-      7       cu?rl            -                                      0  "
		       "          0         1           40\n"
		       "-      8       cu?rl            -                                      0  "
		       "          0         1           40\n"
		       "TOTAL                                                                  1  "
		       "        100         3          120\n");
	CHECK(strstr(errs, "verify FAILED: 18 X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT") != NULL);
	CHECK(strchr(errs, '\n') == strrchr(errs, '\n')); /* that one row, the ok one none */
}

int main(void)
{
	test_escape();
	test_escape_blocks();
	test_escape_as_before();
	test_payload_base64();
	test_base64_lengths();
	test_hexdump();
	test_rows();
	test_json();
	test_connection_rows();
	test_json_events();
	test_json_summary();
	test_json_unprobed();
	test_count_table();
	return check_done();
}
