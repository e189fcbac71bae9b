#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_http.py - outputs people and tools use: a pcapng capture tshark dissects (HTTP/1.1
from curl to a Python server, HTTP/2 from curl to nginx), decoded HTTP records in text and
JSON (--http), and --redact hiding secrets in every output while the rest stays."""
import json
import os
import stat
import subprocess

from harness import TracerTest, main


BEARER = "s3cr3t-t0ken.AbC"
COOKIE = "session=c00kie-val"


def tshark(*args):
    """tshark's output (it warns on stderr when run as root)."""
    r = subprocess.run(["tshark", *args], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError("tshark %s failed: %s" % (" ".join(args), r.stderr))
    return r.stdout


class HttpTest(TracerTest):

    def waiting(self, argv):
        """Starts argv once a go file exists (bash waits, then execs it), so the tracer
        attaches to the PID first. Returns (process, go file)."""
        go = os.path.join(self.tmp, "go.%d" % len(self.procs))
        script = 'while [ ! -e "$0" ]; do sleep 0.02; done; exec "$@"'
        return self.spawn(["bash", "-c", script, go, *argv], stdout=subprocess.PIPE), go

    def curl(self, url, *args):
        """curl, traced from its start with the tracer's args; returns the tracer run."""
        return self.waiting(["curl", "-sS", "--cacert", self.cert, *args, url])

    def nginx_h2(self):
        """nginx over HTTP/2, answering with a cookie to redact."""
        return super().nginx_h2('add_header Set-Cookie "sid=srv-c00kie-42"; '
                                'return 200 "hello from nginx\\n";')

    def test_http1_pcapng_tshark_and_text_records(self):
        _, port, _ = self.tls_server()
        cap = os.path.join(self.tmp, "http1.pcapng")
        curl, go = self.curl("https://127.0.0.1:%d/hello?x=1" % port, "-H", "X-Keep: visible")
        run = self.trace_then_go(curl, go, "-w", cap, "--http")
        self.assertEqual(curl.stdout.read(), b"hello from the tracer test server\n")
        self.assertEqual(stat.S_IMODE(os.stat(cap).st_mode), 0o600)

        # tshark dissects it as HTTP over the real addresses: request line and response.
        fields = tshark("-r", cap, "-d", "tcp.port==%d,http" % port, "-Y", "http",
                        "-T", "fields", "-e", "ip.src", "-e", "tcp.dstport",
                        "-e", "http.request.method", "-e", "http.request.uri",
                        "-e", "http.response.code", "-e", "frame.comment")
        rows = [l.split("\t") for l in fields.splitlines()]
        self.assertEqual([r[:5] for r in rows],
                         [["127.0.0.1", str(port), "GET", "/hello?x=1", ""],
                          ["127.0.0.1", rows[1][1], "", "", "200"]], fields)
        self.assertRegex(rows[0][5], r"^pid %d tid %d comm curl SSL_write" % (curl.pid, curl.pid))
        # The TCP stream holds the exact bytes both ways, in order.
        follow = tshark("-r", cap, "-q", "-z", "follow,tcp,ascii,0")
        self.assertIn("GET /hello?x=1 HTTP/1.1\nHost: 127.0.0.1:%d\n" % port, follow)
        self.assertIn("HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 34\n", follow)
        self.assertIn("hello from the tracer test server", follow)
        analysis = tshark("-r", cap, "-Y", "tcp.analysis.flags")
        self.assertEqual(analysis.strip(), "", "TCP analysis complaints: " + analysis)

        # --http adds a line per exchange; the raw rows stay.
        out = run.stdout()
        self.assertRegex(out, r"(?m)^HTTP/1\.1 conn \d+: GET /hello\?x=1 -> 200, \d+\.\d{3} ms, "
                              r"request 0 B, response 34 B$")
        self.assertIn("X-Keep: visible", out)
        self.assertRegex(run.stderr(), r"HTTP: 2 requests and responses decoded")

        # The file is never overwritten without --force; with it, it is.
        code, _, err = self.run_tracer("-w", cap, str(os.getpid()))
        self.assertEqual(code, 1)
        self.assertIn("%s exists: give --force to overwrite it" % cap, err)

    def test_http2_nginx_pcapng_and_json_records(self):
        port = self.nginx_h2()
        cap = os.path.join(self.tmp, "h2.pcapng")
        url = "https://127.0.0.1:%d/api/v1/items?id=7" % port
        curl, go = self.curl(url, "--http2", "-H", "X-Custom: custom-value-42")
        run = self.trace_then_go(curl, go, "--json", "--http", "-w", cap)
        self.assertEqual(curl.stdout.read(), b"hello from nginx\n")

        events = [json.loads(l) for l in run.stdout().splitlines() if l.strip()]
        http = [e for e in events if e["type"] == "http"]
        self.assertEqual([(e["msg"], e["version"], e["stream"]) for e in http],
                         [("request", "2", 1), ("response", "2", 1)], http)
        req, resp = http
        self.assertEqual((req["method"], req["path"], req["authority"]),
                         ("GET", "/api/v1/items?id=7", "127.0.0.1:%d" % port))
        self.assertIn(["x-custom", "custom-value-42"], req["headers"])
        self.assertIn([":scheme", "https"], req["headers"])
        self.assertEqual((resp["status"], resp["body_bytes"], resp["path"]),
                         (200, 17, "/api/v1/items?id=7"))
        self.assertIn(["set-cookie", "sid=srv-c00kie-42"], resp["headers"])
        self.assertGreater(resp["latency_ns"], 0)
        conns = [e for e in events if e["type"] == "conn"]
        self.assertEqual({(e["conn"], e["rport"]) for e in http}, {(req["conn"], port)},
                         "%s\n%s" % (conns, run.stderr()))
        self.assertIsInstance(req["conn"], int)
        # The data events are still there (--http adds, it does not hide).
        self.assertTrue(any(e["type"] == "data" for e in events))

        # tshark decodes the HTTP/2 headers from the capture: the TCP stream is intact.
        fields = tshark("-r", cap, "-d", "tcp.port==%d,http2" % port, "-Y", "http2.header",
                        "-T", "fields", "-E", "separator=|", "-e", "http2.header.name",
                        "-e", "http2.header.value")
        self.assertIn("x-custom", fields)
        self.assertIn("custom-value-42", fields)
        self.assertIn("/api/v1/items?id=7", fields)
        self.assertIn("200", fields)

    def test_redact_http1_text_records_and_capture(self):
        _, port, _ = self.tls_server()
        cap = os.path.join(self.tmp, "redacted.pcapng")
        curl, go = self.curl("https://127.0.0.1:%d/r?api_key=k3y-v4lue&q=ok" % port,
                             "-H", "Authorization: Bearer " + BEARER, "-H", "Cookie: " + COOKIE,
                             "-H", "X-Keep: visible")
        run = self.trace_then_go(curl, go, "-v", "--http", "-w", cap,
                                 "--redact-pattern", "api_key=([^& ]*)")
        out = run.stdout()
        for secret in (BEARER, "c00kie-val", "k3y-v4lue"):
            self.assertNotIn(secret, out)
        # Lengths kept: the value's every character becomes '*'; the rest is as it was.
        self.assertIn("Authorization: %s\n" % ("*" * len("Bearer " + BEARER)), out)
        self.assertIn("Cookie: %s\n" % ("*" * len(COOKIE)), out)
        self.assertIn("GET /r?api_key=%s&q=ok HTTP/1.1" % ("*" * 9), out)
        self.assertIn("X-Keep: visible", out)
        self.assertIn("  > Authorization: %s\n" % ("*" * len("Bearer " + BEARER)), out)
        self.assertIn("  > X-Keep: visible\n", out)
        with open(cap, "rb") as f:
            raw = f.read()
        for secret in (BEARER, "c00kie-val", "k3y-v4lue"):
            self.assertNotIn(secret.encode(), raw)
        self.assertIn(b"X-Keep: visible", raw)
        fields = tshark("-r", cap, "-d", "tcp.port==%d,http" % port, "-Y", "http.request",
                        "-T", "fields", "-e", "http.authorization", "-e", "http.cookie")
        self.assertEqual(fields.strip(), "%s\t%s" % ("*" * len("Bearer " + BEARER),
                                                     "*" * len(COOKIE)))

    def test_redact_http2_hpack_bytes_and_records(self):
        port = self.nginx_h2()
        cap = os.path.join(self.tmp, "h2r.pcapng")
        urls = ["https://127.0.0.1:%d/one" % port, "https://127.0.0.1:%d/two" % port]
        curl, go = self.waiting(["curl", "-sS", "--http2", "--cacert", self.cert,
                                 "-H", "Authorization: Bearer " + BEARER,
                                 "-H", "X-Custom: custom-value-42", *urls])
        run = self.trace_then_go(curl, go, "--json", "--http", "--redact", "-w", cap)
        events = [json.loads(l) for l in run.stdout().splitlines() if l.strip()]
        http = [e for e in events if e["type"] == "http"]
        self.assertEqual([(e["msg"], e["path"]) for e in http],
                         [("request", "/one"), ("response", "/one"),
                          ("request", "/two"), ("response", "/two")])
        for e in http:
            headers = dict(e["headers"])
            if e["msg"] == "request":
                self.assertEqual(headers["authorization"], "*" * len("Bearer " + BEARER))
                self.assertEqual(headers["x-custom"], "custom-value-42")
            else:
                self.assertEqual(headers["set-cookie"], "*" * len("sid=srv-c00kie-42"))
        # Raw bytes everywhere: the data events and the capture hold no secret, Huffman-coded
        # or not, and tshark still decodes every header (the second request's come from
        # the HPACK dynamic table).
        with open(cap, "rb") as f:
            raw = f.read()
        self.assertNotIn(BEARER.encode(), raw)
        self.assertNotIn(b"srv-c00kie", raw)
        self.assertNotIn(BEARER, run.stdout())
        fields = tshark("-r", cap, "-d", "tcp.port==%d,http2" % port, "-Y", "http2.header",
                        "-T", "fields", "-E", "separator=|", "-e", "http2.header.name",
                        "-e", "http2.header.value")
        self.assertNotIn("s3cr3t", fields)
        self.assertNotIn("srv-c00kie", fields)
        self.assertEqual(fields.count("custom-value-42"), 2, fields + run.stderr())
        self.assertIn("/two", fields)
        self.assertNotIn("redaction:", run.stderr())
        summary = events[-1]
        self.assertEqual((summary["type"], summary["http_messages"], summary["http_stopped"],
                          summary["http_unmasked_bytes"]), ("summary", 4, 0, 0), summary)

    def test_truncation_is_a_gap_wireshark_sees(self):
        _, port, _ = self.tls_server("--body-size", "60000")
        cap = os.path.join(self.tmp, "gap.pcapng")
        curl, go = self.curl("https://127.0.0.1:%d/big" % port, "-o", "/dev/null")
        run = self.trace_then_go(curl, go, "--max-call-bytes", "1000", "--http-only", "-w", cap)
        # Each read keeps its first 1000 bytes: the rest is missing sequence space.
        lost = tshark("-r", cap, "-Y", "tcp.analysis.lost_segment")
        self.assertGreater(len(lost.splitlines()), 0, tshark("-r", cap))
        # The body's length is still known; the record says bytes are missing. With
        # --http-only no data row (nor the column header) is shown.
        out = run.stdout()
        self.assertRegex(out, r"(?m)^HTTP/1\.1 conn \d+: GET /big -> 200, .*"
                              r"response 60000 B \(incomplete: bytes not captured\)$")
        self.assertNotIn("DATA", out)
        self.assertNotIn("FUNC", out)

    def test_capture_to_stdout(self):
        _, port, _ = self.tls_server()
        curl, go = self.curl("https://127.0.0.1:%d/piped" % port)
        run = self.trace_then_go(curl, go, "-w", "-")
        cap = run.out_path  # stdout: the capture alone
        with open(cap, "rb") as f:
            self.assertEqual(f.read(4), b"\x0a\x0d\x0d\x0a")
        fields = tshark("-r", cap, "-d", "tcp.port==%d,http" % port, "-Y", "http.request",
                        "-T", "fields", "-e", "http.request.uri")
        self.assertEqual(fields.strip(), "/piped")
        self.assertIn("pcapng: ", run.stderr())


if __name__ == "__main__":
    main()
