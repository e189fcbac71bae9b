#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tls_threads.py - TLS calls of many threads of one process at once, over 127.0.0.1.

Waits for --go-file (so a tracer can attach by PID first). Then --clients threads each
connect to a server in the same process (a thread per connection) and make --rounds round
trips: the client sends "c<i>-r<j>|", the server answers "echo c<i>-r<j>|". Python's ssl
releases the GIL inside SSL_read/SSL_write, so the threads' calls overlap. Exits 0 when
every answer came back right.
"""
import argparse
import socket
import ssl
import sys
import threading

from go_file import wait_for_go


def serve(tls, rounds, errors):
    try:
        for _ in range(rounds):
            msg = tls.recv(1024)
            tls.sendall(b"echo " + msg)
    except OSError as e:
        errors.append("server: %s" % e)
    finally:
        tls.close()


def client(port, i, rounds, ctx, errors):
    try:
        with socket.create_connection(("127.0.0.1", port)) as raw:
            with ctx.wrap_socket(raw) as tls:
                for j in range(rounds):
                    msg = b"c%d-r%d|" % (i, j)
                    tls.sendall(msg)
                    answer = tls.recv(1024)
                    if answer != b"echo " + msg:
                        errors.append("client %d: got %r for %r" % (i, answer, msg))
    except OSError as e:
        errors.append("client %d: %s" % (i, e))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--go-file", required=True)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=50)
    args = ap.parse_args()

    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(args.cert, args.key)
    cctx = ssl.create_default_context()
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(args.clients)
    port = srv.getsockname()[1]
    if not wait_for_go(args.go_file, "tls_threads"):
        return 1

    errors, threads = [], []
    for i in range(args.clients):
        threads.append(threading.Thread(target=client, args=(port, i, args.rounds, cctx, errors)))
        threads[-1].start()
    for _ in range(args.clients):
        conn, _ = srv.accept()
        tls = sctx.wrap_socket(conn, server_side=True)
        threads.append(threading.Thread(target=serve, args=(tls, args.rounds, errors)))
        threads[-1].start()
    for t in threads:
        t.join()
    for e in errors:
        print("tls_threads: " + e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
