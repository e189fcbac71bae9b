#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_capture.py - the tracer shows real OpenSSL plaintext of real programs, in the right
direction, and leaves nothing attached behind."""
import base64
import os
import re
import signal
import socket
import ssl
import subprocess
import unittest

import harness
from harness import TracerTest, bpftool_uprobes, joined, json_lines, tracefs_uprobe_events

REQUEST_10 = b"GET / HTTP/1.0\r\n\r\n"


def http_response(body: bytes) -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(body)) + body


def curl_request(port: int, path="/hello") -> bytes:
    return (b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: tracer-test\r\n"
            b"Accept: */*\r\n\r\n" % (path.encode(), port))


def curl(port, path="/hello"):
    return ["curl", "-sS", "-k", "--http1.1", "-A", "tracer-test", "-o", "/dev/null",
            "https://127.0.0.1:%d%s" % (port, path)]


def syscall_of(pid):
    """The number of the system call process pid is in (/proc/PID/syscall), as text."""
    with open("/proc/%d/syscall" % pid) as f:
        return f.read().split()[0]


class CaptureTest(TracerTest):

    def traced_server(self, server_args=(), tracer_args=(), requests=1, cpu=None):
        """Traces tls_server.py (optionally pinned to one CPU) while curl makes `requests`
        requests; returns the finished tracer run and the port."""
        server, port, _ = self.tls_server("--count", str(requests), *server_args)
        if cpu is not None:
            os.sched_setaffinity(server.pid, {cpu})
        run = self.tracer(server.pid, *tracer_args)
        run.wait_ready()
        for _ in range(requests):
            subprocess.run(curl(port), check=True, timeout=20)
        self.assertEqual(server.wait(timeout=20), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        return run, port

    def s_client_session(self):
        """openssl s_server -www, and an s_client that waits on a FIFO for its request."""
        port_probe = self.spawn(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert",
                                 self.cert, "-key", self.key, "-www", "-naccept", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        port = None
        for line in port_probe.stdout:
            if line.startswith("ACCEPT"):
                break
        # s_server prints no port; find it through ss by its PID.
        ss = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
        for l in ss.splitlines():
            if "pid=%d," % port_probe.pid in l:
                port = int(l.split()[3].rsplit(":", 1)[1])
        self.assertIsNotNone(port, "s_server port not found:\n" + ss)
        fifo = os.path.join(self.tmp, "stdin")
        os.mkfifo(fifo)
        client = self.spawn(["sh", "-c", 'exec openssl s_client -connect 127.0.0.1:%d -quiet '
                             '< "$0" > /dev/null 2>&1' % port, fifo])
        writer = open(fifo, "wb")  # unblocks the shell's open of the FIFO
        self.wait_mapped(client.pid)
        return client, writer

    def test_openssl_s_client_request_and_response(self):
        client, stdin = self.s_client_session()
        run = self.tracer(client.pid)
        run.wait_ready()
        stdin.write(REQUEST_10)
        stdin.close()
        self.assertEqual(client.wait(timeout=20), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())  # exits by itself with its target
        self.assertIn("target exited", run.stderr())

        events = run.events()
        self.assertEqual([e["data"] for e in events if e["func"] == "SSL_write"], [REQUEST_10])
        response = joined(events, "SSL_read")
        self.assertTrue(response.startswith(b"HTTP/1.0 200 ok\r\nContent-type: text/html\r\n\r\n"
                                            b"<HTML><BODY BGCOLOR=\"#ffffff\">\n<pre>\n"),
                        response[:200])
        self.assertIn(b"s_server -accept 127.0.0.1:0", response)
        self.assertTrue(all(e["pid"] == client.pid and e["comm"] == "openssl" for e in events))
        self.assertTrue(all(e["truncated"] == 0 for e in events))

    def test_curl_client_exact_request_and_response(self):
        body = b"hello from the tracer test server\n"
        server, port, go = self.tls_server(go=False)
        client = self.spawn(curl(port))
        self.wait_mapped(client.pid)  # curl now waits in its handshake: nothing accepted yet
        run = self.trace_then_go(client, go)

        events = run.events()
        self.assertEqual(joined(events, "SSL_write"), curl_request(port))
        self.assertEqual(joined(events, "SSL_read"), http_response(body))
        self.assertEqual({e["func"] for e in events}, {"SSL_write", "SSL_read"})
        self.assertTrue(all(e["comm"] == "curl" for e in events))

    def test_python_server_ex_functions(self):
        """Python's ssl module calls only SSL_read_ex/SSL_write_ex."""
        body = b"hello from the tracer test server\n"
        run, port = self.traced_server()
        events = run.events()
        self.assertEqual(joined(events, "SSL_read_ex"), curl_request(port))
        self.assertEqual([e["data"] for e in events if e["func"] == "SSL_write_ex"],
                         [http_response(body)])
        self.assertEqual(joined(events, "SSL_write") + joined(events, "SSL_read"), b"")

    def test_count_shows_each_connections_calls_and_bytes(self):
        """--count: no rows, but at the end a line per connection with its calls and the bytes
        they moved each way (a 5 KB response in 1 KiB chunks is one call of its whole length),
        and a total that is the summary's account."""
        run, port = self.traced_server(["--body-size", "5000"],
                                       ["--count", "--max-data-size", "1024"], requests=2)
        lines = run.stdout().splitlines()
        self.assertEqual(lines[0].split(), ["CONN", "PID", "COMM", "REMOTE", "CALLS_OUT",
                                            "BYTES_OUT", "CALLS_IN", "BYTES_IN"], run.stdout())
        rows = [l.split() for l in lines[1:-1]]
        self.assertEqual(len(rows), 2, run.stdout())
        self.assertEqual(len({r[0] for r in rows}), 2)  # two connections
        for conn, pid, comm, remote, calls_out, bytes_out, calls_in, bytes_in in rows:
            self.assertEqual((comm, remote.rsplit(":", 1)[0]), ("python3", "127.0.0.1"))
            self.assertNotEqual(remote, "127.0.0.1:%d" % port)  # the server's peer: curl
            self.assertEqual(int(calls_out), 1)
            self.assertGreater(int(bytes_out), 5000)
            self.assertGreaterEqual(int(calls_in), 1)
            self.assertEqual(int(bytes_in), len(curl_request(port)))
        total = lines[-1].split()
        self.assertEqual(total[0], "TOTAL")
        calls, moved = re.search(r"target exited: (\d+) calls, (\d+) bytes moved",
                                 run.stderr()).groups()
        self.assertEqual(int(total[1]) + int(total[3]), int(calls))
        self.assertEqual(int(total[2]) + int(total[4]), int(moved))
        self.assertNotIn("DATA", run.stdout())

    def test_call_over_max_data_size_is_marked_truncated(self):
        """Chunks of 1 KiB, at most 2 KiB a call: a 5 KB write shows 2 KiB, the rest counted."""
        run, _ = self.traced_server(["--body-size", "5000"],
                                    ["--max-data-size", "1024", "--max-call-bytes", "2048"])
        writes = [e for e in run.events() if e["func"] == "SSL_write_ex"]
        self.assertEqual(len(writes), 1)  # the two chunks print as one payload
        full = writes[0]["len"]
        self.assertGreater(full, 5000)
        self.assertEqual(writes[0]["truncated"], full - 2048)
        self.assertEqual(len(writes[0]["data"]), 2048)
        self.assertTrue(writes[0]["data"].startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertIn("TRUNCATED, %d bytes not shown" % (full - 2048), run.stdout())
        self.assertRegex(run.stderr(), r"2 calls, %d bytes moved = %d captured \+ %d truncated "
                         r"\+ 0 lost; 0 events lost" % (full + 84, 2048 + 84, full - 2048))

    def test_hexdump_shows_exact_bytes(self):
        run, _ = self.traced_server(tracer_args=["--hexdump"])
        out = run.stdout()
        # "GET /hello HTTP/1.1\r\n" as hex + ASCII, the first line of the request dump.
        self.assertIn("00000000  47 45 54 20 2f 68 65 6c  6c 6f 20 48 54 54 50 2f"
                      "  |GET /hello HTTP/|", out)

    def test_perf_buffer_loss_is_reported_and_counted(self):
        """One 4 KiB page cannot hold a 5 KB event: the kernel drops it, the loss callback
        must say so on stderr and the summary must count it."""
        run, _ = self.traced_server(["--body-size", "5000"], ["--perf-pages", "1"])
        self.assertEqual([e["func"] for e in run.events()], ["SSL_read_ex"])  # the request
        # No later event reaches that buffer, so the kernel's own loss record never comes:
        # the BPF-side counter must still account for it.
        self.assertIn("lost 1 events the kernel had not reported yet\n", run.stderr())
        self.assertRegex(run.stderr(), r"2 calls, (\d+) bytes moved = 84 captured \+ 0 truncated "
                         r"\+ \d+ lost; 1 events lost \(unreported by the kernel: 1\)")

    def test_loss_callback_reports_losses_as_they_happen(self):
        """A later event that fits makes the kernel emit its loss record: the loss callback
        prints it per CPU as it happens (the server answers 3 requests pinned to one CPU)."""
        run, _ = self.traced_server(["--body-size", "5000"], ["--perf-pages", "1"], requests=3,
                                    cpu=0)
        self.assertEqual([e["func"] for e in run.events()], ["SSL_read_ex"] * 3)
        self.assertEqual(re.findall(r"(?m)^lost 1 events on CPU 0$", run.stderr()),
                         ["lost 1 events on CPU 0"] * 2)
        self.assertRegex(run.stderr(), r"6 calls, \d+ bytes moved = 252 captured \+ 0 truncated "
                         r"\+ \d+ lost; 3 events lost \(CPU 0: 2\) \(unreported by the kernel: 1\)")

    def test_text_mode_marks_calls_whose_chunks_were_lost(self):
        """The tracer is stopped while a 100 KB write goes out in 1 KiB chunks, so its 16 KiB
        buffer overflows: the call's tail and last chunk are lost. It is printed once, with
        what arrived and the LOST count, as soon as the next call on that CPU shows it ended."""
        server, port, _ = self.tls_server("--body-size", "100000", "--count", "2")
        os.sched_setaffinity(server.pid, {0})
        run = self.tracer(server.pid, "--max-data-size", "1024", "--perf-pages", "4")
        run.wait_ready()
        run.proc.send_signal(signal.SIGSTOP)
        subprocess.run(curl(port), check=True, timeout=20)
        run.proc.send_signal(signal.SIGCONT)
        subprocess.run(curl(port), check=True, timeout=20)
        server.wait(timeout=20)
        self.assertEqual(run.wait_exit(), 0, run.stderr())

        writes = [e for e in run.events() if e["func"] == "SSL_write_ex"]
        self.assertGreaterEqual(len(writes), 1)
        first = writes[0]
        self.assertGreater(first["len"], 100000)
        self.assertGreater(first["lost"], 0)
        self.assertTrue(first["data"].startswith(b"HTTP/1.1 200 OK\r\n"))
        for w in writes:
            self.assertEqual(w["lost"], w["len"] - len(w["data"]))
        markers = [int(n) for n in re.findall(r"\(LOST, (\d+) bytes not captured\)",
                                              run.stdout())]
        self.assertEqual(markers, [w["lost"] for w in writes if w["lost"]])
        self.assertIn("events lost", run.stderr())
        self.assertNotIn("accounting mismatch", run.stderr())

    def test_sigint_stops_cleanly_and_no_uprobe_remains(self):
        server, port, _ = self.tls_server("--count", "2")
        run = self.tracer(server.pid)
        run.wait_ready()
        attached = bpftool_uprobes(run.proc.pid)
        announced = int(re.search(r": (\d+) probes on ", run.stderr()).group(1))
        self.assertGreaterEqual(announced, 8)  # OpenSSL's, and the ld.so cache's libraries
        self.assertEqual(len(attached), announced, attached)  # the check below sees probes
        subprocess.run(curl(port), check=True, timeout=20)
        self.assertEqual(self.interrupt(run, signal.SIGINT), 0, run.stderr())
        self.assertIn("stopped:", run.stderr())
        self.assertEqual(joined(run.events(), "SSL_read_ex"), curl_request(port))
        self.assertEqual(bpftool_uprobes(run.proc.pid), [])
        self.assertEqual([l for l in tracefs_uprobe_events() if "bcc_" in l], [])
        self.assertIsNone(server.poll())  # the traced program is unharmed
        subprocess.run(curl(port), check=True, timeout=20)  # and still serves
        self.assertEqual(server.wait(timeout=20), 0)

    def test_a_call_in_flight_at_the_stop_is_counted(self):
        """The server reads a request head that has not ended: its first SSL_read_ex returns
        the part that came (captured), its second waits for the rest as the tracer stops.
        That call is told as in flight (text and JSON), not passed over; a thread asleep in
        its call is not waited for."""
        server, port, _ = self.tls_server()
        run = self.tracer(server.pid, "--json")
        run.wait_ready()
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        part = b"GET /part HTTP/1.1\r\n"
        with socket.create_connection(("127.0.0.1", port)) as raw, \
                ctx.wrap_socket(raw) as tls:
            tls.sendall(part)
            harness.wait_for(lambda: b"".join(
                base64.b64decode(e["data"]) for e in json_lines(run)
                if e["type"] == "data" and e["dir"] == "read") == part, 20,
                "the first part's read")
            # the server is in its next SSL_read_ex, waiting in read(2) for the rest
            harness.wait_for(lambda: syscall_of(server.pid) == "0", 20,
                             "the server's next read")
            self.assertEqual(self.interrupt(run), 0, run.stderr())
        self.assertIn("; 1 call in flight as the tracer stopped (handshakes and reads still "
                      "waiting included; what it moved is not counted)", run.stderr())
        summary = json_lines(run)[-1]
        self.assertEqual((summary["type"], summary["calls_in_flight"], summary["calls"]),
                         ("summary", 1, 1))

    def test_sigterm_stops_cleanly(self):
        server, port, _ = self.tls_server()
        run = self.tracer(server.pid)
        run.wait_ready()
        self.assertEqual(self.interrupt(run, signal.SIGTERM), 0, run.stderr())
        self.assertIn("stopped: 0 calls", run.stderr())


if __name__ == "__main__":
    harness.main()
