#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_payloads.py - whole payloads of any size arrive complete (sha256), JSON lines follow
their schema, and every byte is accounted for: captured, truncated or lost."""
import base64
import hashlib
import json
import os
import socket
import subprocess
import unittest

import harness
from harness import TracerTest

MIB = 1 << 20
DATA_FIELDS = {"v", "type", "time_ns", "pid", "tid", "uid", "comm", "lib", "func", "dir",
               "call", "call_len", "offset", "data"}


def records(text):
    return [json.loads(line) for line in text.splitlines()]


def stream(recs, direction):
    """The bytes of one direction, chunks put back by call and offset."""
    calls = {}
    for r in recs:
        if r["type"] == "data" and r["dir"] == direction:
            calls.setdefault(r["call"], []).append(r)
    out = b""
    for call in sorted(calls):
        chunks = sorted(calls[call], key=lambda r: r["offset"])
        data = b"".join(base64.b64decode(c["data"]) for c in chunks)
        assert len(data) == chunks[0]["call_len"], (call, len(data), chunks[0]["call_len"])
        out += data
    return out


def http_body(raw):
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, raw[:200]
    return body


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PayloadTest(TracerTest):

    def write_file(self, name, size):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        with open(path, "rb") as f:
            return path, hashlib.sha256(f.read()).hexdigest()

    def check_schema(self, run):
        """jq parses the whole stream; every data record has the documented fields."""
        jq = subprocess.run(["jq", "-c", "."], stdin=open(run.out_path), capture_output=True,
                            text=True)
        self.assertEqual(jq.returncode, 0, jq.stderr)
        recs = records(run.stdout())
        self.assertEqual(recs[-1]["type"], "summary")
        for r in recs:
            self.assertEqual(r["v"], 1)
            if r["type"] == "data":
                self.assertLessEqual(DATA_FIELDS, set(r), r)
                self.assertIn(r["dir"], ("read", "write"))
                self.assertEqual(r["lib"], "/usr/lib/x86_64-linux-gnu/libssl.so.3")
        return recs

    def test_python_one_1mib_ssl_write_ex(self):
        server, port, _ = self.tls_server("--body-size", str(MIB))
        run = self.tracer(server.pid, "--json")
        run.wait_ready()
        got = subprocess.run(["curl", "-sS", "-k", "https://127.0.0.1:%d/" % port],
                             capture_output=True, check=True, timeout=60).stdout
        server.wait(timeout=30)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        recs = self.check_schema(run)
        writes = [r for r in recs if r["type"] == "data" and r["dir"] == "write"]
        self.assertEqual({r["func"] for r in writes}, {"SSL_write_ex"})
        self.assertEqual(len({r["call"] for r in writes}), 1)  # one call ...
        self.assertEqual(len(writes), 65)  # ... of 1 MiB + headers: 64 full chunks and a tail
        self.assertEqual([r["offset"] for r in writes], [i * 16384 for i in range(65)])
        body = http_body(stream(recs, "write"))
        self.assertEqual(hashlib.sha256(body).hexdigest(), hashlib.sha256(got).hexdigest())
        self.assertEqual(len(body), MIB)
        summary = recs[-1]
        self.assertEqual(summary["bytes_moved"], summary["bytes_captured"])
        self.assertEqual((summary["bytes_lost"], summary["events_lost"]), (0, 0))

    def test_nginx_1mib_download(self):
        www = os.path.join(self.tmp, "www")
        os.mkdir(www)
        path, digest = self.write_file("www/big.bin", MIB)
        port = free_port()
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""daemon off; master_process off; worker_processes 1;
pid %(t)s/nginx.pid; error_log %(t)s/error.log;
events {}
http {
  access_log off; client_body_temp_path %(t)s; proxy_temp_path %(t)s;
  fastcgi_temp_path %(t)s; uwsgi_temp_path %(t)s; scgi_temp_path %(t)s;
  server {
    listen 127.0.0.1:%(p)d ssl; root %(t)s/www;
    ssl_certificate %(c)s; ssl_certificate_key %(k)s;
  }
}
""" % {"t": self.tmp, "p": port, "c": self.cert, "k": self.key})
        nginx = self.spawn(["nginx", "-c", conf, "-e", os.path.join(self.tmp, "error.log")])
        self.wait_mapped(nginx.pid)
        run = self.tracer(nginx.pid, "--json")
        run.wait_ready()
        url = "https://127.0.0.1:%d/big.bin" % port
        subprocess.run(["curl", "-sS", "-k", "--retry", "5", "--retry-connrefused",
                        "--retry-delay", "1", "-o", os.path.join(self.tmp, "got"), url],
                       check=True, timeout=60)
        self.assertEqual(self.interrupt(run), 0, run.stderr())
        recs = self.check_schema(run)
        body = http_body(stream(recs, "write"))
        self.assertEqual(hashlib.sha256(body).hexdigest(), digest)
        self.assertTrue(stream(recs, "read").startswith(b"GET /big.bin HTTP/1.1\r\n"))
        self.assertEqual(recs[-1]["events_lost"], 0)

    def test_curl_1mib_upload(self):
        path, digest = self.write_file("upload.bin", MIB)
        server, port, go = self.tls_server(go=False)
        client = self.spawn(["curl", "-sS", "-k", "--http1.1", "-o", "/dev/null",
                             "-H", "Expect:", "--data-binary", "@" + path,
                             "https://127.0.0.1:%d/upload" % port])
        self.wait_mapped(client.pid)
        run = self.tracer(client.pid, "--json")
        run.wait_ready()
        open(go, "w").close()
        self.assertEqual(client.wait(timeout=60), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        recs = self.check_schema(run)
        writes = [r for r in recs if r["type"] == "data" and r["dir"] == "write"]
        self.assertGreater(max(r["call_len"] for r in writes), 16384)  # curl's 64 KiB writes
        body = http_body(stream(recs, "write"))
        self.assertEqual(hashlib.sha256(body).hexdigest(), digest)

    def test_starved_buffer_reports_loss_and_accounts_for_it(self):
        server, port, _ = self.tls_server("--body-size", str(MIB))
        run = self.tracer(server.pid, "--json", "--perf-pages", "4")
        run.wait_ready()
        subprocess.run(["curl", "-sS", "-k", "-o", "/dev/null", "https://127.0.0.1:%d/" % port],
                       check=True, timeout=60)
        server.wait(timeout=30)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        recs = self.check_schema(run)
        s = recs[-1]
        self.assertGreater(s["events_lost"], 0)
        self.assertGreater(s["bytes_lost"], 0)
        # Every byte moved is captured, truncated or lost: nothing unexplained.
        self.assertEqual(s["bytes_moved"], s["bytes_captured"] + s["bytes_truncated"]
                         + s["bytes_lost"] + s["bytes_unreadable"])
        captured = sum(len(base64.b64decode(r["data"])) for r in recs if r["type"] == "data")
        self.assertEqual(captured, s["bytes_captured"])
        lost_records = sum(r["count"] for r in recs if r["type"] == "lost")
        self.assertIn("events lost", run.stderr())
        self.assertLessEqual(lost_records, s["events_lost"])
        self.assertNotIn("accounting mismatch", run.stderr())


if __name__ == "__main__":
    harness.main()
