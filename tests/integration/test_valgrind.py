#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_valgrind.py - one whole tracing run under valgrind's memcheck: the tracer compiles
(with a compile cache of its own, empty) and keeps what it compiled, attaches, captures three HTTPS exchanges with --http and exits by itself, with no memory
error and nothing definitely or indirectly lost. libbpf's own reports on bpf(2) arguments,
which are not errors, are suppressed (tests/valgrind/libbpf.supp). Not run on the sanitized
build: valgrind cannot run AddressSanitizer's binaries."""
import os
import re
import subprocess

import harness
from harness import PLACEMENT, TRACER, TracerTest, wait_for

SUPP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../valgrind/libbpf.supp")


class ValgrindTest(TracerTest):

    def test_a_tracing_run_is_clean(self):
        requests = 3
        server, port, _ = self.tls_server("--count", str(requests), "--body-size", "50000")
        out, err = (os.path.join(self.tmp, n) for n in ("out", "err"))
        # A cache of its own, empty: the run compiles bpf_src and keeps what it compiled.
        env = dict(os.environ, TRACER_CACHE_DIR=os.path.join(self.tmp, "cache"))
        with open(out, "wb") as o, open(err, "wb") as e:
            tracer = self.spawn(["valgrind", "--leak-check=full", "--show-leak-kinds=definite,"
                                 "indirect", "--errors-for-leak-kinds=definite,indirect",
                                 "--error-exitcode=99", "--suppressions=" + SUPP, TRACER,
                                 *PLACEMENT, "--http", str(server.pid)], stdout=o, stderr=e,
                                env=env)

        def stderr():
            with open(err, errors="replace") as f:
                return f.read()
        wait_for(lambda: "Tracing PID" in stderr() or tracer.poll() is not None, 600,
                 "the tracer under valgrind to be ready")
        for _ in range(requests):
            subprocess.run(["curl", "-sS", "-k", "--http1.1", "-o", "/dev/null",
                            "https://127.0.0.1:%d/" % port], check=True, timeout=60)
        self.assertEqual(server.wait(timeout=60), 0)
        self.assertEqual(tracer.wait(timeout=300), 0, stderr()[-4000:])
        text = stderr()
        self.assertRegex(text, r"ERROR SUMMARY: 0 errors from 0 contexts")
        self.assertEqual(len(os.listdir(env["TRACER_CACHE_DIR"])), 1)  # what it compiled
        self.assertRegex(text, r"definitely lost: 0 bytes in 0 blocks")
        self.assertRegex(text, r"indirectly lost: 0 bytes in 0 blocks")
        self.assertRegex(text, r"target exited: 6 calls, \d+ bytes moved = \d+ captured \+ 0 "
                         r"truncated \+ 0 lost")
        with open(out, "rb") as f:
            stdout = f.read().decode("utf-8", "surrogateescape")
        self.assertEqual(len(re.findall(r"(?m)^HTTP/1.1 conn \d+: GET / -> 200, [\d.]+ ms, "
                                        r"request 0 B, response 50000 B$", stdout)), requests)
        sent = b"".join(e["data"] for e in harness.parse_events(stdout)
                        if e["func"].startswith("SSL_write"))
        self.assertEqual(sent.count(b"HTTP/1.1 200 OK\r\n"), requests)


if __name__ == "__main__":
    harness.main()
