#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_selftest.py - tracer --selftest passes here, and fails when bytes cannot be kept."""
import os
import re
import signal
import subprocess
import time

import harness
from harness import PLACEMENT, SANITIZER_REPORT, TRACER, TracerTest


class SelftestTest(TracerTest):

    def selftest(self, *args, env=None):
        r = subprocess.run([TRACER, *PLACEMENT, "--selftest", *args], capture_output=True, text=True,
                           timeout=600, env=env)
        return r.returncode, r.stdout, r.stderr

    def test_selftest_passes_with_perf_uprobes(self):
        """The fallback of kernels before 6.6 (perf uprobe events bound to the process, forced
        here with TRACER_PERF_UPROBES) captures every transfer whole too."""
        code, out, err = self.selftest("-v", env=dict(os.environ, TRACER_PERF_UPROBES="1"))
        self.assertEqual(code, 0, out + err)
        self.assertIn("uprobes: perf events, not uprobe_multi links", err)
        self.assertIn("26 of 26 transfers captured whole in both directions", out)

    def test_selftest_passes(self):
        code, out, err = self.selftest()
        self.assertEqual(code, 0, out + err)
        self.assertIn("26 of 26 transfers captured whole in both directions", out)
        self.assertTrue(out.rstrip().endswith("selftest: PASS"), out)
        rows = [l.split() for l in out.splitlines() if re.match(r"^ *\d+ +\d+ +SSL_", l)]
        self.assertEqual(len(rows), 26)
        self.assertEqual({(r[1], r[2], r[6]) for r in rows if r[1] in ("1", "4194304")},
                         {("1", "SSL_write", "SSL_read_ex"), ("1", "SSL_write_ex", "SSL_read"),
                          ("4194304", "SSL_write", "SSL_read_ex"),
                          ("4194304", "SSL_write_ex", "SSL_read")})
        self.assertEqual(sum(r.count("ok") for r in rows), 52)
        self.assertRegex(err, r"target exited: \d+ calls, (\d+) bytes moved = \1 captured \+ 0 "
                         r"truncated \+ 0 lost; 0 events lost")

    def test_selftest_passes_with_a_tracer_that_keeps_stalling(self):
        """The tracer is stopped 0.2 s in every 0.25 s: the transfers wait for it to drain,
        so a slow reader (a sanitized build on a busy machine) loses nothing. Without that
        pacing, the two 4 MiB transfers went back to back and lost bytes."""
        err_path = os.path.join(self.tmp, "selftest.err")
        with open(err_path, "w") as err:
            tracer = self.spawn([TRACER, *PLACEMENT, "--selftest"], stdout=subprocess.PIPE,
                                stderr=err, text=True)
        def err():
            with open(err_path) as f:
                return f.read()

        deadline = time.monotonic() + 120
        while "Tracing" not in err():
            self.assertIsNone(tracer.poll(), err())
            self.assertLess(time.monotonic(), deadline, "the selftest did not start tracing")
            time.sleep(0.05)
        while tracer.poll() is None and time.monotonic() < deadline:
            os.kill(tracer.pid, signal.SIGSTOP)
            time.sleep(0.2)
            os.kill(tracer.pid, signal.SIGCONT)
            time.sleep(0.05)
        out, _ = tracer.communicate(timeout=60)
        self.assertNotRegex(err(), SANITIZER_REPORT)
        self.assertEqual(tracer.returncode, 0, out + err())
        self.assertIn("26 of 26 transfers captured whole in both directions", out)
        self.assertRegex(err(), r"\+ 0 lost; 0 events lost")

    def test_selftest_fails_when_the_buffer_cannot_hold_a_chunk(self):
        """One 4 KiB page per CPU holds no 16 KiB chunk: bytes are lost, and it says FAIL."""
        code, out, err = self.selftest("--perf-pages", "1")
        self.assertEqual(code, 1, out + err)
        self.assertTrue(out.rstrip().endswith("selftest: FAIL"), out)
        self.assertIn("MISSING", out)
        self.assertRegex(err, r"[1-9]\d* events lost")

    def test_selftest_takes_no_pid(self):
        code, _, err = self.selftest("42")
        self.assertEqual(code, 2)
        self.assertIn("--selftest takes no PID", err)


if __name__ == "__main__":
    harness.main()
