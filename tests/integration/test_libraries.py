#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_libraries.py - TLS libraries other than OpenSSL, each with a real Debian program."""
import base64
import json
import os
import shutil
import subprocess
import unittest

import harness
from harness import TracerTest, joined

BODY = b"hello from the tracer test server\n"
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(BODY)) + BODY


def wget_request(port):
    return (b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: tracer-test\r\n"
            b"Accept: */*\r\nAccept-Encoding: identity\r\nConnection: Keep-Alive\r\n\r\n"
            % port)


def curl_request(port, path="/hello"):
    return (b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: tracer-test\r\n"
            b"Accept: */*\r\n\r\n" % (path.encode(), port))


def records(run):
    """A --json run's records."""
    return [json.loads(l) for l in run.stdout().splitlines()]


# the protocols wget 1.21 (GnuTLS) offers in its ClientHello: none
WGET_ALPN = []


def curl(port, path="/hello"):
    return ["curl", "-sS", "-k", "--http1.1", "-A", "tracer-test", "-o", "-",
            "https://127.0.0.1:%d%s" % (port, path)]


LIGHTTPD_CONF = """server.document-root = "{root}"
server.bind = "127.0.0.1"
server.port = {port}
server.modules += ("mod_{module}")
ssl.engine = "enable"
ssl.pemfile = "{cert}"
ssl.privkey = "{key}"
server.errorlog = "{root}/error.log"
"""


class LibraryTest(TracerTest):

    def traced_wget(self, *tracer_args):
        """wget (GnuTLS) waiting in its handshake while the tracer attaches, then let go."""
        server, port, go = self.tls_server(go=False)
        client = self.spawn(["wget", "-q", "-O", "/dev/null", "--no-check-certificate",
                             "-U", "tracer-test", "https://127.0.0.1:%d/hello" % port])
        self.wait_mapped(client.pid, "libgnutls.so")
        return self.trace_then_go(client, go, *tracer_args), port

    def test_gnutls_wget_request_and_response_once(self):
        """gnutls_record_send jumps to gnutls_record_send2, both probed: one write event."""
        run, port = self.traced_wget()
        self.assertRegex(run.stderr(), r"Tracing PID \d+ \(wget\) and its children: \d+ probes "
                         r"on /usr/lib/x86_64-linux-gnu/libgnutls\.so\.30[.\d]*, ")
        self.assertRegex(run.stderr(), r"calls captured by library: "
                         r"/usr/lib/x86_64-linux-gnu/libgnutls\.so\.30[.\d]* \(2\)")
        events = run.events()
        self.assertEqual([e["data"] for e in events if e["func"] == "gnutls_record_send"],
                         [wget_request(port)])
        self.assertEqual(joined(events, "gnutls_record_recv"), RESPONSE)
        self.assertEqual({e["func"] for e in events}, {"gnutls_record_send",
                                                       "gnutls_record_recv"})
        self.assertTrue(all(e["comm"] == "wget" for e in events))
        self.assertRegex(run.stderr(), r"target exited: 2 calls, %d bytes moved = %d captured"
                         % (len(wget_request(port)) + len(RESPONSE),
                            len(wget_request(port)) + len(RESPONSE)))

    def test_gnutls_json_names_library_and_function(self):
        run, port = self.traced_wget("--json")
        recs = [json.loads(l) for l in run.stdout().splitlines()]
        data = [r for r in recs if r["type"] == "data"]
        self.assertEqual([(r["func"], r["dir"]) for r in data],
                         [("gnutls_record_send", "write"), ("gnutls_record_recv", "read")])
        self.assertTrue(all(r["lib"].startswith("/usr/lib/x86_64-linux-gnu/libgnutls.so.30")
                            for r in data), data)
        self.assertEqual(base64.b64decode(data[0]["data"]), wget_request(port))
        self.assertEqual(base64.b64decode(data[1]["data"]), RESPONSE)


    def traced_server(self, argv, port, lib, path="/hello", tracer_args=(), client=None):
        """Starts a TLS server, traces it, fetches `path` once with curl (or the client
        argv given): (run, body)."""
        server = self.spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_listening(port, server)
        self.wait_mapped(server.pid, lib)
        run = self.tracer(server.pid, *tracer_args)
        run.wait_ready()
        body = subprocess.run(client or curl(port, path), check=True, timeout=20,
                              capture_output=True).stdout
        if tracer_args: # the server's records of the request are written
            harness.wait_for(lambda: sum(r["type"] == "data" for r in records(run)) >= 2, 20,
                             "the server's calls")
        self.assertEqual(self.interrupt(run), 0, run.stderr())
        return run, body

    def assert_hellos(self, run, pid, mine, name, alpn, version="TLSv1.3"):
        """pid's hellos in --json run: its ClientHello (`mine` "client": sent, else received)
        asked for server name `name` offering protocols alpn, its ServerHello (received or
        sent) chose `version` with a suite (TLS 1.2: and answered ALPN in clear), both on the
        connection its data is on, which carries the name."""
        recs = records(run)
        hellos = {}
        for h in (r for r in recs if r["type"] == "hello" and r["pid"] == pid):
            self.assertNotIn((h["side"], h["dir"]), hellos, recs)
            hellos[(h["side"], h["dir"])] = h
        sent, got = ("client", "server") if mine == "client" else ("server", "client")
        self.assertEqual(sorted(hellos), sorted([(sent, "write"), (got, "read")]), recs)
        client = hellos[("client", "write" if mine == "client" else "read")]
        server = hellos[("server", "read" if mine == "client" else "write")]
        self.assertEqual((client["server_name"], client["alpn"], client["version"]),
                         (name, alpn, "TLSv1.3"), client)
        self.assertEqual((server["version"], server["resumed"], server["complete"]),
                         (version, False, True), server)
        self.assertTrue(server["cipher"].startswith("TLS_"), server)
        if version == "TLSv1.2":
            self.assertEqual(server["alpn"], alpn[0] if alpn else None, server)
        data = [r for r in recs if r["type"] == "data" and r["pid"] == pid]
        self.assertTrue(data, recs)
        self.assertEqual({(r["conn"], r.get("sni")) for r in data}, {(client["conn"], name)})
        self.assertEqual(server["conn"], client["conn"])

    def test_hellos_gnutls_and_nss_clients(self):
        """wget (GnuTLS) against Python's server, tstclnt (NSS) against selfserv, each
        client traced: the ClientHello each sent and the ServerHello each received."""
        server, port, _ = self.tls_server()
        go = os.path.join(self.tmp, "wget.go")
        wget = self.spawn(["sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.02; done; exec "$@"',
                           go, "wget", "-q", "-O", "/dev/null", "--no-check-certificate",
                           "https://localhost:%d/hello" % port])
        run = self.trace_then_go(wget, go, "--json")
        self.assert_hellos(run, wget.pid, "client", "localhost", WGET_ALPN)
        db = self.nss_db()
        port = self.selfserv(db)
        req = os.path.join(self.tmp, "nss.req")
        with open(req, "wb") as f:
            f.write(b"GET /nss HTTP/1.0\r\n\r\n")
        go = os.path.join(self.tmp, "nss.go")
        shell = self.spawn(["sh", "-c", 'while [ ! -e "$1" ]; do sleep 0.02; done; '
                            'tstclnt -h 127.0.0.1 -p "$2" -a nss.test -d "$3" -o <"$4" '
                            '>/dev/null 2>&1; exit $?', "sh", go, str(port), db, req])
        run = self.trace_then_go(shell, go, "--json")
        tstclnt = {r["pid"] for r in records(run) if r["type"] == "hello"}
        self.assertEqual(len(tstclnt), 1, records(run))
        self.assert_hellos(run, tstclnt.pop(), "client", "nss.test", [])

    def test_hellos_gnutls_nss_mbedtls_wolfssl_servers(self):
        """gnutls-serv, selfserv (NSS) and lighttpd with mbedTLS and wolfSSL, each traced,
        answering curl, which asks for api.test: the ClientHello each received and the
        ServerHello each sent."""
        db = self.nss_db()
        for name, lib, version in (("gnutls-serv", "libgnutls.so", "TLSv1.3"),
                                   ("selfserv", "libssl3.so", "TLSv1.3"),
                                   ("mbedtls", "libmbedtls.so", "TLSv1.2"), # mbedTLS 2
                                   ("wolfssl", "libwolfssl.so", "TLSv1.3")):
            with self.subTest(server=name):
                port = self.free_port()
                argv = {"gnutls-serv": ["gnutls-serv", "--http", "-p", str(port),
                                        "--x509certfile", self.cert, "--x509keyfile", self.key],
                        "selfserv": ["selfserv", "-d", db, "-n", "server", "-p", str(port),
                                     "-V", "tls1.2:"]}.get(name)
                if argv is None:
                    argv = ["lighttpd", "-D", "-f", self.lighttpd_conf(name, port)]
                client = ["curl", "-sS", "-k", "--http1.1", "-o", "/dev/null", "--resolve",
                          "api.test:%d:127.0.0.1" % port, "https://api.test:%d/hello" % port]
                run, _ = self.traced_server(argv, port, lib, tracer_args=("--json",),
                                            client=client)
                pids = {r["pid"] for r in records(run) if r["type"] == "hello"}
                self.assertEqual(len(pids), 1, records(run))
                self.assert_hellos(run, pids.pop(), "server", "api.test", ["http/1.1"],
                                   version)

    def lighttpd_conf(self, module, port):
        """lighttpd's configuration serving /hello over TLS by mod_`module` on port."""
        if not os.path.exists("/usr/lib/lighttpd/mod_%s.so" % module):
            self.skipTest("lighttpd-mod-%s is not installed (scripts/deps installs it)" % module)
        with open(os.path.join(self.tmp, "hello"), "w") as f:
            f.write("hello from lighttpd\n")
        conf = os.path.join(self.tmp, "lighttpd.%s.conf" % module)
        with open(conf, "w") as f:
            f.write(LIGHTTPD_CONF.format(root=self.tmp, port=port, module=module,
                                         cert=self.cert, key=self.key))
        return conf

    def nss_db(self):
        """An NSS database holding the test's certificate and key as "server"."""
        for tool in ("selfserv", "tstclnt", "certutil", "pk12util"):
            if not shutil.which(tool):
                self.skipTest("libnss3-tools is not installed (scripts/deps installs it)")
        db = "sql:" + os.path.join(self.tmp, "nssdb")
        if os.path.isdir(db[4:]):
            return db
        os.mkdir(db[4:])
        p12 = os.path.join(self.tmp, "server.p12")
        subprocess.run(["certutil", "-N", "-d", db, "--empty-password"], check=True)
        subprocess.run(["openssl", "pkcs12", "-export", "-out", p12, "-inkey", self.key,
                        "-in", self.cert, "-name", "server", "-passout", "pass:"], check=True)
        subprocess.run(["pk12util", "-i", p12, "-d", db, "-W", ""], check=True,
                       stdout=subprocess.DEVNULL)
        return db

    def selfserv(self, db):
        """NSS's selfserv on a free port with db's "server" certificate: its port, once it
        accepts (it echoes each request back)."""
        port = self.free_port()
        server = self.spawn(["selfserv", "-d", db, "-n", "server", "-p", str(port),
                             "-V", "tls1.2:"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
        self.wait_listening(port, server)
        return port

    def lighttpd(self, module, lib):
        port = self.free_port()
        conf = self.lighttpd_conf(module, port)
        run, body = self.traced_server(["lighttpd", "-D", "-f", conf], port, lib)
        self.assertEqual(body, b"hello from lighttpd\n")
        events = run.events()
        funcs = {"mbedtls": ("mbedtls_ssl_read", "mbedtls_ssl_write"),
                 "wolfssl": ("wolfSSL_read", "wolfSSL_write")}[module]
        self.assertEqual(joined(events, funcs[0]), curl_request(port))
        response = joined(events, funcs[1])
        self.assertTrue(response.startswith(b"HTTP/1.1 200 OK\r\n"), response)
        self.assertTrue(response.endswith(b"\r\n\r\nhello from lighttpd\n"), response)
        self.assertEqual({e["func"] for e in events}, set(funcs))
        self.assertRegex(run.stderr(), r"calls captured by library: [^\n]*%s[.\d]* \(2\)" % lib)

    def test_mbedtls_lighttpd(self):
        self.lighttpd("mbedtls", "libmbedtls.so")

    def test_wolfssl_lighttpd(self):
        self.lighttpd("wolfssl", "libwolfssl.so")

    def test_openssl_through_an_ssl_bio(self):
        """openssl s_server -www reads and writes through BIO_f_ssl under a buffer BIO: that
        path never calls SSL_read/SSL_write, only the internal ssl_*_internal, which the
        tracer finds as the function both exported calls call."""
        port = self.free_port()
        run, body = self.traced_server(
            ["openssl", "s_server", "-accept", str(port), "-cert", self.cert, "-key",
             self.key, "-www", "-quiet"], port, "libssl.so")
        events = run.events()
        self.assertEqual({e["func"] for e in events}, {"ssl_read_internal",
                                                       "ssl_write_internal"})
        self.assertEqual(joined(events, "ssl_read_internal"), curl_request(port))
        self.assertEqual(joined(events, "ssl_write_internal"),
                         b"HTTP/1.0 200 ok\r\nContent-type: text/html\r\n\r\n" + body)

    def test_gnutls_serv(self):
        port = self.free_port()
        run, body = self.traced_server(
            ["gnutls-serv", "--http", "-p", str(port), "--x509certfile", self.cert,
             "--x509keyfile", self.key], port, "libgnutls.so")
        events = run.events()
        self.assertEqual(joined(events, "gnutls_record_recv"), curl_request(port))
        response = joined(events, "gnutls_record_send")
        self.assertTrue(response.startswith(b"HTTP/1.0 200 OK\r\n"), response)
        self.assertTrue(response.endswith(body), (response, body))

    def test_boringssl_bssl_client(self):
        """android-boringssl's libssl.so.0 sits in a subdirectory, found through the maps."""
        if not shutil.which("bssl-tool"):
            self.skipTest("android-boringssl is not installed (scripts/deps installs it)")
        server, port, _ = self.tls_server()
        client = self.spawn(["bssl-tool", "client", "-connect", "127.0.0.1:%d" % port],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
        self.wait_mapped(client.pid, "android/libssl.so.0")
        run = self.tracer(client.pid)
        run.wait_ready()
        request = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        client.stdin.write(request)
        client.stdin.flush()
        self.assertEqual(server.wait(timeout=20), 0)
        client.stdin.close()
        client.wait(timeout=20)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        events = run.events()
        self.assertEqual([e["data"] for e in events if e["func"] == "SSL_write"], [request])
        self.assertEqual(joined(events, "SSL_read"), RESPONSE)
        self.assertIn("/usr/lib/x86_64-linux-gnu/android/libssl.so.0 (2)", run.stderr())

    def test_nss_tstclnt_reports_only_ssl_descriptors(self):
        """tstclnt reads its request from a file and prints the response to stdout, both
        through NSPR: only the SSL socket's write and read are reported, once each. The
        traced shell starts tstclnt after the tracer is ready: a child, traced too."""
        db = self.nss_db()
        port = self.selfserv(db)
        request = b"GET /nss HTTP/1.0\r\n\r\n"
        req_file, out_file = os.path.join(self.tmp, "req"), os.path.join(self.tmp, "resp")
        with open(req_file, "wb") as f:
            f.write(request)
        go = os.path.join(self.tmp, "nss.go")
        shell = self.spawn(["sh", "-c", 'while [ ! -e "$1" ]; do sleep 0.02; done; '
                            'tstclnt -h 127.0.0.1 -p "$2" -d "$3" -o <"$4" >"$5" 2>/dev/null; '
                            'exit $?', "sh", go, str(port), db, req_file, out_file])
        run = self.trace_then_go(shell, go)
        self.assertIn("PID %d (sh) maps no TLS library yet; waiting" % shell.pid, run.stderr())
        with open(out_file, "rb") as f:
            printed = f.read()
        self.assertIn(request, printed)  # selfserv echoes the request back
        events = run.events()
        self.assertEqual([(e["func"] in ("PR_Write", "PR_Send"), e["data"]) for e in events
                          if e["func"] in ("PR_Write", "PR_Send")], [(True, request)])
        self.assertEqual(b"".join(e["data"] for e in events
                                  if e["func"] in ("PR_Read", "PR_Recv")), printed)
        self.assertRegex(run.stderr(), r"target exited: 2 calls")
        self.assertNotEqual({e["pid"] for e in events}, {shell.pid})  # tstclnt's own PID

    WRITEV_BODY = (b"0123456789abcdefghijklmnopqrstuvwxyz\n" * 1082)[:40000]
    WRITEV_HEAD = b"POST /writev HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 40000\r\n\r\n"

    def traced_writev(self, *tracer_args):
        """An NSS client sends head and a 40000-byte body from four pieces (head, a third
        of the body, an empty piece, the rest) in one PR_Writev and prints the response
        to stdout with PR_Write (no SSL layer: not reported)."""
        server, port, _ = self.tls_server()
        go = os.path.join(self.tmp, "writev.go")
        out_file = os.path.join(self.tmp, "writev.out")
        with open(out_file, "wb") as out:
            client = self.spawn([harness.NSS_WRITEV_CLIENT, go, str(port), "40000"],
                                stdout=out)
            run = self.trace_then_go(client, go, *tracer_args)
        self.assertEqual(server.wait(timeout=20), 0)
        with open(out_file, "rb") as f:
            self.assertEqual(f.read(), RESPONSE)
        self.assertRegex(run.stderr(), r"target exited: 2 calls, (\d+) bytes moved = \1 "
                         r"captured \+ 0 truncated \+ 0 lost;")
        return run

    def test_nss_writev_is_one_write(self):
        events = self.traced_writev().events()
        self.assertEqual([(e["func"], e["data"]) for e in events],
                         [("PR_Writev", self.WRITEV_HEAD + self.WRITEV_BODY),
                          ("PR_Read", RESPONSE)])

    def test_nss_writev_chunks_follow_pieces(self):
        """A chunk never spans two pieces nor exceeds 16 KiB; the empty piece sends none."""
        recs = [json.loads(l) for l in self.traced_writev("--json").stdout().splitlines()]
        chunks = [(r["offset"], len(base64.b64decode(r["data"]))) for r in recs
                  if r["type"] == "data" and r["func"] == "PR_Writev"]
        h = len(self.WRITEV_HEAD)
        self.assertEqual(chunks, [(0, h), (h, 13333), (h + 13333, 16384),
                                  (h + 29717, 10283)])

    def test_node_static_openssl(self):
        """node links OpenSSL 3 into /usr/bin/node: its symbols are found in the executable."""
        node = shutil.which("node")
        if not node:
            self.skipTest("node is not installed")
        out = subprocess.run(["nm", "-D", "--defined-only", os.path.realpath(node)],
                             capture_output=True, text=True).stdout
        if " SSL_write" not in out:
            self.skipTest("this node links OpenSSL dynamically: nothing static to find")
        server, port, _ = self.tls_server()
        go = os.path.join(self.tmp, "node.go")
        request = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        script = ("const fs=require('fs'),tls=require('tls');"
                  "const t=setInterval(()=>{if(!fs.existsSync(%r))return;clearInterval(t);"
                  "const s=tls.connect({host:'127.0.0.1',port:%d,rejectUnauthorized:false},"
                  "()=>s.write(%r));s.on('data',d=>process.stdout.write(d));},20);"
                  % (go, port, request))
        client = self.spawn([node, "-e", script], stdout=subprocess.PIPE)
        self.wait_mapped(client.pid, "libc.so")
        run = self.tracer(client.pid)
        run.wait_ready()
        self.assertRegex(run.stderr(), r"probes on [^\n]*%s" % os.path.realpath(node))
        open(go, "w").close()
        self.assertEqual(client.stdout.read(), RESPONSE)
        self.assertEqual(client.wait(timeout=20), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        events = run.events()
        self.assertEqual([e["data"] for e in events if e["func"] == "SSL_write"],
                         [request.encode()])
        self.assertEqual(joined(events, "SSL_read"), RESPONSE)


if __name__ == "__main__":
    harness.main()
