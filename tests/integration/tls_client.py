#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tls_client.py - an HTTPS client for tests that writes its request body in many small
SSL_write calls, moving itself to another CPU before each one with --hop.

Waits for --go-file (so a tracer can attach by PID first), sends a POST whose body is
"part-000|part-001|..." one part per write, reads the response, exits 0.
"""
import argparse
import os
import socket
import ssl
import sys

from go_file import wait_for_go


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--go-file", required=True)
    ap.add_argument("--parts", type=int, default=40)
    ap.add_argument("--hop", action="store_true", help="change CPU before every write")
    args = ap.parse_args()

    if not wait_for_go(args.go_file, "tls_client"):
        return 1

    cpus = sorted(os.sched_getaffinity(0))
    parts = [b"part-%03d|" % i for i in range(args.parts)]
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", args.port)) as raw:
        with ctx.wrap_socket(raw) as tls:
            tls.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n"
                        % sum(map(len, parts)))
            for i, part in enumerate(parts):
                if args.hop:
                    os.sched_setaffinity(0, {cpus[i % len(cpus)]})
                tls.sendall(part)
            while tls.recv(65536):
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
