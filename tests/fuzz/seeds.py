#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""seeds.py - writes the seed corpora of the fuzz targets (corpus/NAME/*), in each target's
input format (see the comment at the top of fuzz_NAME.c). Run from anywhere; the files are
committed, so the fuzzers start from inputs that reach deep into each parser."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "../..")


def write(target, name, data):
    path = os.path.join(HERE, "corpus", target, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def lines(path, n):
    with open(os.path.join(ROOT, path), "rb") as f:
        return [l for l in f.read().split(b"\n") if l][:n]


# Probe spec lines: shipped ones, a comment, malformed ones.
for i, l in enumerate(lines("probe_specs/openssl.spec", 40)[-6:]):
    write("spec", "shipped%d" % i, l)
write("spec", "comment", "# library symbol kind bpf_function need\n")
write("spec", "bad_kind", "ssl SSL_peek middle probe_entry_SSL_read required")
write("spec", "path", "/usr/lib/x86_64-linux-gnu/libssl.so.3 SSL_write entry probe_entry_SSL_write optional # x")

# /proc: maps lines, a whole maps file, a stat line, tcp and tcp6 lines.
for i, l in enumerate(lines("tests/fixtures/maps_python3_ssl.txt", 12)[::3]):
    write("maps", "line%d" % i, l)
write("maps", "file", b"\n".join(lines("tests/fixtures/maps_edge_cases.txt", 30)) + b"\n")
write("maps", "stat", "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
      "12345 1000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n")
for fam in ("tcp", "tcp6"):
    for i, l in enumerate(lines("tests/fixtures/proc/4242/net/" + fam, 3)):
        write("maps", "%s%d" % (fam, i), l)

# Escaping: text, UTF-8, controls, a lone CR, C1 controls, malformed UTF-8, a backslash.
write("json", "http", "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
write("json", "utf8", "grüße 日本 😀 \\ \"quoted\"\t")
write("json", "controls", b"\x00\x01\x1b[31m\x7f\r\x85\xc2\x85\xc2\xa0")
write("json", "malformed", b"\xc0\xaf\xe0\x80\xaf\xed\xa0\x80\xf4\x90\x80\x80\xff\xfe")


def h1(ctl, data):
    data = data.encode() if isinstance(data, str) else data
    out = b""
    while True:  # records hold at most 255 bytes: longer data goes on the same call
        out += bytes([ctl, min(len(data), 255)]) + data[:255]
        data, ctl = data[255:], ctl | 0x40
        if not data:
            return out


SENT, GAP, CLOSE, CONT = 1, 4, 8, 0x40
write("http1", "exchange",
      h1(SENT, "GET /a?token=abc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cr3t\r\n\r\n")
      + h1(0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: id=1\r\n\r\nhello"))
write("http1", "chunked",
      h1(SENT, "POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
      + h1(SENT | CONT, "5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n")
      + h1(0, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"))
write("http1", "pipelined_close",
      h1(SENT | 0x10, "HEAD / HTTP/1.1\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
      + h1(0x10, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n")
      + h1(0x10 | GAP, b"\x20" + b"HTTP/1.0 200 OK\r\n\r\nto the close")
      + h1(0x10 | CLOSE, ""))


def frame(ctl, ftype, flags, stream, payload, split=None):
    head = bytes([ctl | (2 if split is not None else 0), ftype, flags, stream])
    return head + (bytes([split]) if split is not None else b"") + bytes([len(payload)]) + payload


req = b"\x82\x84\x87\x41\x09localhost" + b"\x40\x06cookie\x04id=1" + b"\x40\x08x-custom\x03yes"
resp = b"\x88\x40\x0aset-cookie\x05a=b;c" + b"\x5c\x01\x35"  # :status 200, content-length 5
write("http2", "exchange",
      frame(SENT, 4, 0, 0, b"") + frame(0, 4, 0, 0, b"\x00\x03\x00\x00\x00\x64")
      + frame(SENT, 1, 5, 1, req) + frame(0, 1, 4, 1, resp, split=12)
      + frame(0, 0, 1, 1, b"hello"))
write("http2", "continuation_padding",
      frame(SENT, 1, 0x08, 3, b"\x02" + req[:6] + b"\x00\x00")
      + frame(SENT, 9, 4, 3, req[6:]) + frame(0, 1, 5, 3, resp)
      + frame(0, 3, 0, 3, b"\x00\x00\x00\x08") + frame(SENT | CLOSE, 7, 0, 0, b"\x00" * 8))


def pcap(ctl, call_len, offset, data, addr=None):
    rec = bytes([ctl]) + struct.pack("<HH", call_len, offset)
    if addr is not None:
        rec += bytes([len(addr)]) + addr.encode()
    return rec + bytes([len(data)]) + data


write("pcapng", "ipv4", pcap(0x2 | 1, 20, 0, b"GET / HTTP/1.1\r\n\r\n")
      + pcap(0x42, 100, 10, b"HTTP/1.1 200 OK\r\n") + pcap(0x2 | 8, 0, 0, b""))
write("pcapng", "ipv6_unknown", pcap(0x14 | 1, 5, 0, b"hello")
      + pcap(0x10 | 0x40, 5, 0, b"world") + pcap(0x20 | 0x80, 70000 % 65536, 3, b"x")
      + pcap(0x36 | 8, 9, 0, b"abc", addr="fe80::1%eth0"))

# Go function tables (pclntab), Go 1.16, 1.18 and 1.20 layouts, as tests/unit/test_gosym.c
# builds them: three functions, the second and third crypto/tls's Write and Read.
def pclntab(layout, text=0x401000):
    fns = [("runtime.text", 0x401000), ("crypto/tls.(*Conn).Write", 0x401100),
           ("crypto/tls.(*Conn).Read", 0x401380)]
    end, names_at, pcln = 0x401500, 128, 1024
    field = 8 if layout == 116 else 4
    magic = {116: 0xfffffffa, 118: 0xfffffff0, 120: 0xfffffff1}[layout]
    tab = bytearray(pcln + (2 * len(fns) + 1) * field + 32 * len(fns))
    words = [len(fns), 0] + ([] if layout == 116 else [text]) + [names_at, 0, 0, 0, pcln]
    struct.pack_into("<IBBBB", tab, 0, magic, 0, 0, 1, 8)
    struct.pack_into("<%dQ" % len(words), tab, 8, *words)
    funcs, at = (2 * len(fns) + 1) * field, names_at
    for i, (name, entry) in enumerate(fns):
        rec = funcs + 32 * i
        tab[at:at + len(name) + 1] = name.encode() + b"\0"
        if layout == 116:
            struct.pack_into("<QQ", tab, pcln + 16 * i, entry, rec)
            struct.pack_into("<Qi", tab, pcln + rec, entry, at - names_at)
        else:
            struct.pack_into("<II", tab, pcln + 8 * i, entry - text, rec)
            struct.pack_into("<Ii", tab, pcln + rec, entry - text, at - names_at)
        at += len(name) + 1
    if layout == 116:
        struct.pack_into("<Q", tab, pcln + 16 * len(fns), end)
    else:
        struct.pack_into("<I", tab, pcln + 8 * len(fns), end - text)
    return bytes(tab)


for layout in (116, 118, 120):
    write("gosym", "go%d" % layout, pclntab(layout))
write("gosym", "go118_pie", pclntab(118)[:24] + b"\0" * 8 + pclntab(118)[32:])

# Executables for nosym: a minimal one (no libc) whose SSL_write and SSL_read have OpenSSL 3's
# error-site shape, linked with an .eh_frame_hdr and without (as -static links are), built
# here with gcc and stripped.
NOSYM_SRC = r"""
__attribute__((noinline)) void ERR_set_debug(const char *file, int line, const char *func)
{ __asm__ volatile("" :: "r"(file), "r"(line), "r"(func)); }
__attribute__((noinline)) int SSL_write(int x)
{ if (x < 0) { ERR_set_debug("ssl/ssl_lib.c", __LINE__, __func__); return -1; } return x; }
__attribute__((noinline)) int SSL_read(int x)
{ if (x < 0) { ERR_set_debug("ssl/ssl_lib.c", __LINE__, __func__); return -1; } return x + 1; }
void _start(void) { SSL_write(1); SSL_read(1); for (;;); }
"""


# ... and one whose EVP_AEAD_CTX_seal and _open have aws-lc's error checks (library 30,
# aead.c) beside a rustls crate's path, built for size with frame pointers, as aws-lc-sys is.
NOSYM_AEAD_SRC = r"""
const char *volatile crate = "/x/rustls-0.23.40/src/conn.rs";
#define E(r) ERR_put_error(30, 0, (r), "/aws-lc/crypto/fipsmodule/cipher/aead.c", __LINE__)
__attribute__((noinline)) void ERR_put_error(int l, int u, int r, const char *f, int n)
{ __asm__ volatile("" :: "r"(l), "r"(u), "r"(r), "r"(f), "r"(n)); }
__attribute__((noinline)) int EVP_AEAD_CTX_seal(long a, long b, long c)
{ if (a < 0) { E(117); return 0; } if (b < 0) { E(103); return 0; }
  if (c < 0) { E(115); return 0; } return 1; }
__attribute__((noinline)) int EVP_AEAD_CTX_open(long a, long b, long c)
{ if (a < 0) { E(115); return 0; } if (b < 0) { E(101); return 0; }
  if (c < 0) { E(103); return 0; } return 1; }
void _start(void) { EVP_AEAD_CTX_seal(1, 1, 1); EVP_AEAD_CTX_open(1, 1, 1); for (;;); }
"""


# ... and one with rustls 0.20's two literals copied by the methods of two vtables, beside
# rustls's and ring's crate paths (its TLS 1.3 encrypter and decrypter, no TLS 1.2 suite).
NOSYM_RUSTLS_SRC = r"""
const char *volatile crates[] = {"/x/rustls-0.20.8/src/conn.rs", "/x/ring-0.16.20/src/a.rs"};
static const char lit[] = "encrypt failedpeer sent bad TLSInnerPlaintext";
char buf[64];
__attribute__((noinline)) char *alloc(long n) { __asm__ volatile("" :: "r"(n)); return buf; }
__attribute__((noinline)) int encrypt(void *s) { __builtin_memcpy(alloc(14), lit, 14); return !s; }
__attribute__((noinline)) int decrypt(void *s)
{ __builtin_memcpy(alloc(31), lit + 14, 31); return !s; }
__attribute__((noinline)) void drop(void *p) { __asm__ volatile("" :: "r"(p)); }
struct vt { void (*drop)(void *); long size, align; int (*m)(void *); };
const struct vt enc = {drop, 16, 8, encrypt}, dec = {drop, 16, 8, decrypt};
#ifdef TLS12
/* a TLS 1.2 suite: its encrypter copies the literal, its algorithm's vtable makes both */
__attribute__((noinline)) int encrypt12(void *s) { __builtin_memcpy(alloc(14), lit, 14); return !s; }
__attribute__((noinline)) int decrypt12(void *s) { return s != 0; }
const struct vt enc12 = {drop, 16, 8, encrypt12}, dec12 = {drop, 16, 8, decrypt12};
__attribute__((noinline)) const struct vt *decrypter(void *s) { return s ? &dec12 : 0; }
__attribute__((noinline)) const struct vt *encrypter(void *s) { return s ? &enc12 : 0; }
struct alg { void (*drop)(void *); long size, align; const struct vt *(*dec)(void *), *(*enc)(void *); };
const struct alg gcm = {drop, 0, 1, decrypter, encrypter};
#endif
void _start(void)
{ const struct vt *volatile a = &enc, *volatile b = &dec; a->m(0); b->m(0);
#ifdef TLS12
  const struct alg *volatile g = &gcm; g->dec(0); g->enc(0);
#endif
  for (;;); }
"""


def nosym_seed(name, *flags, src_text=NOSYM_SRC, link="-static"):
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "s.c"), os.path.join(tmp, "s")
        with open(src, "w") as f:
            f.write(src_text)
        subprocess.run(["gcc", "-O2", "-s", "-nostdlib", link, "-Wl,--build-id",
                        *flags, "-o", out, src], check=True)
        with open(out, "rb") as f:
            write("nosym", name, f.read())


nosym_seed("eh_frame_hdr", "-Wl,--eh-frame-hdr")
nosym_seed("eh_frame", "-Wl,--no-eh-frame-hdr")
nosym_seed("aead", "-Os", "-fno-omit-frame-pointer", "-falign-functions=1",
           src_text=NOSYM_AEAD_SRC)
nosym_seed("rustls", src_text=NOSYM_RUSTLS_SRC)
# ... position-independent (its vtables relocated: .rela.dyn), with a TLS 1.2 suite
nosym_seed("rustls_pie", "-fPIE", "-DTLS12", src_text=NOSYM_RUSTLS_SRC, link="-static-pie")


def unsorted_hdr(name, seed):
    """seed with the fifth entry of its .eh_frame_hdr table moved 0x20 up, past the sixth:
    out of order (a table searched by halves as it is finds one function from its start and
    another from inside it: fuzz.nosym's crash of 2026-12-05)."""
    with open(os.path.join(HERE, "corpus", "nosym", seed), "rb") as f:
        data = bytearray(f.read())
    phoff, phnum = struct.unpack_from("<Q", data, 0x20)[0], struct.unpack_from("<H", data, 0x38)[0]
    for i in range(phnum):
        typ, _, off = struct.unpack_from("<IIQ", data, phoff + 56 * i)
        if typ == 0x6474e550:  # PT_GNU_EH_FRAME
            at = off + 12 + 8 * 4
            struct.pack_into("<i", data, at, struct.unpack_from("<i", data, at)[0] + 0x20)
            if struct.unpack_from("<i", data, at)[0] <= struct.unpack_from("<i", data, at + 8)[0]:
                raise SystemExit("seeds.py: %s's table is in order after the move" % seed)
            write("nosym", name, bytes(data))
            return
    raise SystemExit("seeds.py: %s has no .eh_frame_hdr" % seed)


unsorted_hdr("rustls_pie_unsorted_hdr", "rustls_pie")


# fuzz_hello: the records Python's ssl made for tests/unit/test_hello.c, as BPF sends them.
def hello_fixtures():
    import re
    with open(os.path.join(ROOT, "tests/unit/test_hello.c")) as f:
        src = f.read()
    for name in ("client_hello", "server_hello13", "server_hello12"):
        body = re.search(r"static const uint8_t %s\[\] = \{(.*?)\};" % name, src, re.S).group(1)
        write("hello", name, bytes(int(x, 16) for x in re.findall(r"0x([0-9a-f]{2})", body)))


hello_fixtures()
