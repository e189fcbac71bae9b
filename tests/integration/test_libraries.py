#!/usr/bin/python3
"""test_libraries.py - TLS libraries other than OpenSSL, each with a real Debian program."""
import base64
import json
import subprocess

import harness
from harness import TracerTest, joined

BODY = b"hello from the tracer test server\n"
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(BODY)) + BODY


def wget_request(port):
    return (b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: tracer-test\r\n"
            b"Accept: */*\r\nAccept-Encoding: identity\r\nConnection: Keep-Alive\r\n\r\n"
            % port)


class LibraryTest(TracerTest):

    def traced_wget(self, *tracer_args):
        """wget (GnuTLS) waiting in its handshake while the tracer attaches, then let go."""
        server, port, go = self.tls_server(go=False)
        client = self.spawn(["wget", "-q", "-O", "/dev/null", "--no-check-certificate",
                             "-U", "tracer-test", "https://127.0.0.1:%d/hello" % port])
        self.wait_mapped(client.pid, "libgnutls.so")
        run = self.tracer(client.pid, *tracer_args)
        run.wait_ready()
        open(go, "w").close()
        self.assertEqual(client.wait(timeout=20), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        return run, port

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


if __name__ == "__main__":
    harness.main()
