#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_settings.py - the settings user space writes to the BPF map at start (--no-read,
--no-write, --sample, --uid, the per-call limit), the per-process summary, and the order of
a thread's calls when it hops between CPUs."""
import base64
import json
import os
import signal
import subprocess
import unittest

import harness
from harness import PYTHON, TracerTest

HERE = os.path.dirname(os.path.abspath(__file__))
TLS_CLIENT = os.path.join(HERE, "tls_client.py")
BODY = b"hello from the tracer test server\n"
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(BODY)) + BODY
SUMMARY_FIELDS = {"calls", "bytes_moved", "bytes_captured", "bytes_truncated", "bytes_lost",
                  "bytes_unreadable", "events_lost", "events_filtered", "bytes_filtered"}


def records(text):
    return [json.loads(line) for line in text.splitlines()]


def data(recs, direction=None):
    return [r for r in recs if r["type"] == "data" and direction in (None, r["dir"])]


def balanced(s):
    """Every byte moved is captured, truncated, lost, unreadable or filtered."""
    return s["bytes_moved"] == (s["bytes_captured"] + s["bytes_truncated"] + s["bytes_lost"]
                                + s["bytes_unreadable"] + s["bytes_filtered"])


class SettingsTest(TracerTest):

    def traced_server(self, tracer_args, server_args=(), requests=1):
        """A traced tls_server.py answering `requests` curl requests; the tracer's JSON
        records, its stderr and the server's PID once the server has exited."""
        server, port, _ = self.tls_server("--count", str(requests), *server_args)
        run = self.tracer(server.pid, "--json", *tracer_args)
        run.wait_ready()
        for _ in range(requests):
            subprocess.run(["curl", "-sS", "-k", "-o", "/dev/null",
                            "https://127.0.0.1:%d/" % port], check=True, timeout=20)
        self.assertEqual(server.wait(timeout=20), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        recs = records(run.stdout())
        self.assertEqual(recs[-1]["type"], "summary")
        return recs, run.stderr(), server.pid

    def test_no_read_captures_only_what_was_sent(self):
        recs, err, pid = self.traced_server(["--no-read"])
        self.assertIn("; capturing writes only. Ctrl-C to end.", err)
        self.assertEqual(data(recs, "read"), [])
        self.assertEqual(b"".join(base64.b64decode(r["data"]) for r in data(recs, "write")),
                         RESPONSE)
        s = recs[-1]
        self.assertGreaterEqual(s["events_filtered"], 1)
        self.assertEqual(s["bytes_captured"], len(RESPONSE))
        self.assertGreater(s["bytes_filtered"], 0)  # curl's request
        self.assertTrue(balanced(s), s)
        self.assertRegex(err, r"target exited: \d+ calls, \d+ bytes moved = %d captured \+ 0 "
                         r"truncated \+ 0 lost \+ %d filtered \(%d calls\)"
                         % (len(RESPONSE), s["bytes_filtered"], s["events_filtered"]))

    def test_no_write_captures_only_what_was_received(self):
        recs, err, _ = self.traced_server(["--no-write"])
        self.assertIn("; capturing reads only.", err)
        self.assertEqual(data(recs, "write"), [])
        request = b"".join(base64.b64decode(r["data"]) for r in data(recs, "read"))
        self.assertTrue(request.startswith(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:"), request)
        s = recs[-1]
        self.assertEqual(s["bytes_filtered"], len(RESPONSE))
        self.assertTrue(balanced(s), s)

    def test_sample_keeps_one_call_in_n(self):
        recs, err, _ = self.traced_server(["--sample", "2"], requests=4)
        self.assertIn("; capturing 1 call in 2.", err)
        calls = {r["call"] for r in data(recs)}
        s = recs[-1]
        self.assertTrue(calls and all(c % 2 == 0 for c in calls), calls)
        self.assertEqual(len(calls) + s["events_filtered"], s["calls"])
        self.assertGreaterEqual(s["calls"], 8)  # a read and a write per request
        self.assertTrue(balanced(s), s)

    def test_uid_filter(self):
        """The server runs as root: --uid nobody filters every call, --uid root none."""
        recs, err, _ = self.traced_server(["--uid", "nobody"])
        self.assertIn("; capturing uid 65534.", err)
        s = recs[-1]
        self.assertEqual(data(recs), [])
        self.assertEqual((s["events_filtered"], s["bytes_filtered"]), (s["calls"], s["bytes_moved"]))
        self.assertGreater(s["calls"], 0)
        recs, err, _ = self.traced_server(["--uid", "root"])
        self.assertEqual(b"".join(base64.b64decode(r["data"]) for r in data(recs, "write")),
                         RESPONSE)
        self.assertEqual(recs[-1]["events_filtered"], 0)

    def test_call_limit_that_is_not_a_multiple_of_the_chunk(self):
        """Chunks of 64 bytes, 1000 bytes a call: 15 full chunks, one of 40, the rest counted."""
        recs, err, _ = self.traced_server(["--max-data-size", "64", "--max-call-bytes", "1000"],
                                          ["--body-size", "5000"])
        writes = data(recs, "write")
        self.assertEqual(len({r["call"] for r in writes}), 1)
        self.assertEqual([r["offset"] for r in writes], list(range(0, 1000, 64)))
        chunks = [base64.b64decode(r["data"]) for r in writes]
        self.assertEqual([len(c) for c in chunks], [64] * 15 + [40])
        call_len = writes[0]["call_len"]
        self.assertGreater(call_len, 5000)
        self.assertEqual(writes[-1]["truncated_bytes"], call_len - 1000)
        self.assertTrue(b"".join(chunks).startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertTrue(balanced(recs[-1]), recs[-1])

    def test_summary_per_process(self):
        recs, _, pid = self.traced_server(["--no-read"])
        s = recs[-1]
        self.assertEqual(len(s["processes"]), 1)
        p = s["processes"][0]
        self.assertEqual((p["pid"], p["comm"]), (pid, "python3"))
        self.assertLessEqual(SUMMARY_FIELDS, set(p))
        self.assertLessEqual(SUMMARY_FIELDS | {"chunks_out_of_order", "meta_events_lost",
                                               "malformed_events", "chunks_dropped",
                                               "bytes_dropped"}, set(s))
        self.assertEqual((s["malformed_events"], s["chunks_dropped"], s["bytes_dropped"]),
                         (0, 0, 0))
        for field in SUMMARY_FIELDS:
            self.assertEqual(p[field], s[field], field)
        self.assertTrue(balanced(p), p)

    @unittest.skipUnless(len(os.sched_getaffinity(0)) >= 2, "needs two CPUs to hop between")
    def test_thread_hopping_cpus_keeps_call_order(self):
        """A client that moves to another CPU before each of 60 writes while the tracer is
        stopped (as if busy): its writes pile up in two CPUs' buffers, read one buffer after
        the other, yet come out in the order they were made."""
        server, port, _ = self.tls_server()
        go = os.path.join(self.tmp, "client-go")
        client = self.spawn([PYTHON, TLS_CLIENT, "--port", str(port), "--go-file", go,
                             "--parts", "60", "--hop"])
        self.wait_mapped(client.pid)
        run = self.tracer(client.pid, "--json")
        run.wait_ready()
        run.proc.send_signal(signal.SIGSTOP)
        try:
            open(go, "w").close()
            self.assertEqual(client.wait(timeout=30), 0)
        finally:
            run.proc.send_signal(signal.SIGCONT)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        recs = records(run.stdout())
        writes = [base64.b64decode(r["data"]) for r in data(recs, "write")]
        parts = [w for w in writes if w.startswith(b"part-")]
        self.assertEqual(parts, [b"part-%03d|" % i for i in range(60)])
        times = [r["time_ns"] for r in data(recs)]
        self.assertEqual(times, sorted(times))
        self.assertEqual(recs[-1]["chunks_out_of_order"], 0)


if __name__ == "__main__":
    harness.main()
