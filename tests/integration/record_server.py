#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""record_server.py - an HTTPS server on 127.0.0.1 that writes down what each connection
brought: for tests that check a tracer saw exactly that, on the right connection.

Prints "PORT <n>" once listening, then serves connections (each on a thread of its own, so
clients may come in parallel) until killed: reads one HTTP/1.x request (its head, and a body
of Content-Length), answers "hello <path>" with Connection: close, and appends a JSON line
{"peer_port": N, "request": BASE64, "response": BASE64} to --log once the answer is sent.
"""
import argparse
import base64
import json
import socket
import ssl
import sys
import threading

from tls_server import read_request


def response(path: bytes) -> bytes:
    body = b"hello " + path + b"\n"
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(body)) + body


def serve(ctx, conn, peer_port, log, lock):
    try:
        with ctx.wrap_socket(conn, server_side=True) as tls:
            request = read_request(tls)
            if request is None:
                return
            head = request.partition(b"\r\n\r\n")[0]
            parts = head.split(b" ")
            reply = response(parts[1] if len(parts) > 1 else b"?")
            tls.sendall(reply)
            with lock, open(log, "a") as f:
                f.write(json.dumps({"peer_port": peer_port,
                                    "request": base64.b64encode(request).decode(),
                                    "response": base64.b64encode(reply).decode()}) + "\n")
            try:
                tls.unwrap()
            except (OSError, ssl.SSLError):
                pass
    except (OSError, ssl.SSLError):
        pass


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    print("PORT %d" % srv.getsockname()[1], flush=True)
    lock = threading.Lock()
    while True:
        conn, peer = srv.accept()
        threading.Thread(target=serve, args=(ctx, conn, peer[1], args.log, lock),
                         daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
