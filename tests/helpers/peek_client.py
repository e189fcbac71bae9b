#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""peek_client.py - a TLS client that peeks at each answer before reading it (SSL_peek).

Drives the system's libssl directly (ctypes), as a C program would: connects to
127.0.0.1:PORT (or [::1] with --ipv6), waiting up to --wait seconds for the server to
listen (the tutorial starts both at once), then once every --interval seconds writes a line
("hello 1", "hello 2", ...), looks at the answer with SSL_peek, then takes it with SSL_read,
and prints both. Pair it with a line server such as `openssl s_server -rev` (which answers
each line reversed). Stops after --count lines (0: never) or when the server goes away.
Used by docs/TUTORIAL.md and its test.
"""
import argparse
import ctypes
import ctypes.util
import socket
import sys
import time


def load_libssl():
    ssl = ctypes.CDLL(ctypes.util.find_library("ssl") or "libssl.so.3")
    vp, ip, cp = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    for name, res, args in [("TLS_client_method", vp, []), ("SSL_CTX_new", vp, [vp]),
                            ("SSL_new", vp, [vp]), ("SSL_set_fd", ip, [vp, ip]),
                            ("SSL_connect", ip, [vp]), ("SSL_write", ip, [vp, cp, ip]),
                            ("SSL_peek", ip, [vp, cp, ip]), ("SSL_read", ip, [vp, cp, ip]),
                            ("SSL_shutdown", ip, [vp]), ("SSL_free", None, [vp]),
                            ("SSL_CTX_free", None, [vp])]:
        fn = getattr(ssl, name)
        fn.restype, fn.argtypes = res, args
    return ssl


def connect(addr, wait):
    """A connection to addr, retried while refused for up to wait seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return socket.create_connection(addr)
        except ConnectionRefusedError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--ipv6", action="store_true")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--wait", type=float, default=20.0)
    args = ap.parse_args()

    lib = load_libssl()
    ctx = lib.SSL_CTX_new(lib.TLS_client_method())  # verifies nothing: a local demo
    sock = connect(("::1" if args.ipv6 else "127.0.0.1", args.port), args.wait)
    ssl = lib.SSL_new(ctx)
    lib.SSL_set_fd(ssl, sock.fileno())
    if lib.SSL_connect(ssl) != 1:
        print("peek_client: TLS handshake failed", file=sys.stderr)
        return 1
    buf = ctypes.create_string_buffer(256)
    n = 0
    while args.count == 0 or n < args.count:
        n += 1
        line = b"hello %d\n" % n
        if lib.SSL_write(ssl, line, len(line)) <= 0:
            break
        got = lib.SSL_peek(ssl, buf, len(buf))
        if got <= 0:
            break
        print("peeked:", buf.raw[:got].decode(errors="replace").rstrip(), flush=True)
        got = lib.SSL_read(ssl, buf, len(buf))
        if got <= 0:
            break
        print("read:  ", buf.raw[:got].decode(errors="replace").rstrip(), flush=True)
        time.sleep(args.interval)
    lib.SSL_shutdown(ssl)
    lib.SSL_free(ssl)
    lib.SSL_CTX_free(ctx)
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
