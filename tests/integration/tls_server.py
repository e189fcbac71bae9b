#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tls_server.py - a tiny HTTPS server on 127.0.0.1 for tests and the demo (Python ssl: SSL_*_ex).

Prints "PORT <n>" once listening. With --go-file it accepts nothing until that file
exists, so a client can be left waiting in its TLS handshake while a tracer attaches.
Answers --count requests with a fixed response, then exits; with --reply-file it holds
each response until that file exists (the connection stays open for a look at it).
"""
import argparse
import socket
import ssl
import sys

from go_file import wait_for_go


def read_request(tls):
    """One HTTP/1.x request from tls: its head and a body of Content-Length, as the bytes
    that came (None when the peer closed before its head ended)."""
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = tls.recv(65536)
        if not chunk:
            return None
        request += chunk
    head, _, body = request.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:  # read an upload to its end
        chunk = tls.recv(65536)
        if not chunk:
            break
        body += chunk
        request += chunk
    return request


def response(body: bytes) -> bytes:
    head = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n" % len(body))
    return head.encode() + body


def make_body(size: int, text: str) -> bytes:
    if size <= 0:
        return text.encode()
    pattern = b"0123456789abcdefghijklmnopqrstuvwxyz\n"
    return (pattern * (size // len(pattern) + 1))[:size]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--go-file")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--body", default="hello from the tracer test server\n")
    ap.add_argument("--body-size", type=int, default=0)
    ap.add_argument("--ipv6", action="store_true")
    ap.add_argument("--reply-file")
    ap.add_argument("--alpn", action="append", help="a protocol the server's ALPN accepts")
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.alpn:
        ctx.set_alpn_protocols(args.alpn)
    family, host = (socket.AF_INET6, "::1") if args.ipv6 else (socket.AF_INET, "127.0.0.1")
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, 0))
    srv.listen(8)
    print("PORT %d" % srv.getsockname()[1], flush=True)

    if not wait_for_go(args.go_file, "tls_server"):
        return 1

    reply = response(make_body(args.body_size, args.body))
    for _ in range(args.count):
        conn, _ = srv.accept()
        with ctx.wrap_socket(conn, server_side=True) as tls:
            if read_request(tls) is None:
                continue  # the peer closed before its request ended: nothing to answer
            if not wait_for_go(args.reply_file, "tls_server"):
                return 1
            tls.sendall(reply)
    return 0


if __name__ == "__main__":
    sys.exit(main())
