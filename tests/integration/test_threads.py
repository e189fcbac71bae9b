#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_threads.py - the calls of many threads of one process at once are each captured
whole, in their own direction: through the per-thread slots the BPF programs keep a call
in flight in, and through the table they fall back to when another thread holds the slot
(forced here by compiling the sources with one slot)."""
import collections
import os
import shutil
import subprocess
import unittest

import harness
from harness import PYTHON, TracerTest

TLS_THREADS = os.path.join(harness.HERE, "tls_threads.py")
BPF_SRC = os.path.join(harness.HERE, "../../bpf_src")
CLIENTS, ROUNDS = 8, 50


class ThreadsTest(TracerTest):

    def traced_threads(self, *tracer_args):
        """Traces tls_threads.py; returns the writes and the reads it captured, as
        multisets of payloads, and the tracer's stderr."""
        go = os.path.join(self.tmp, "go")
        proc = self.spawn([PYTHON, TLS_THREADS, "--cert", self.cert, "--key", self.key,
                           "--go-file", go, "--clients", str(CLIENTS),
                           "--rounds", str(ROUNDS)])
        self.wait_mapped(proc.pid)
        run = self.trace_then_go(proc, go, *tracer_args)
        events = run.events()
        writes = collections.Counter(e["data"] for e in events if e["func"].startswith("SSL_write"))
        reads = collections.Counter(e["data"] for e in events if e["func"].startswith("SSL_read"))
        return writes, reads, run.stderr()

    def check(self, *tracer_args):
        writes, reads, err = self.traced_threads(*tracer_args)
        msgs = [b"c%d-r%d|" % (i, j) for i in range(CLIENTS) for j in range(ROUNDS)]
        expected = collections.Counter(msgs + [b"echo " + m for m in msgs])
        self.assertEqual(writes, expected)
        self.assertEqual(reads, expected)  # every byte sent in the process is read in it
        calls = 4 * CLIENTS * ROUNDS
        self.assertRegex(err, r"%d calls, (\d+) bytes moved = \1 captured \+ 0 truncated \+ 0 "
                              r"lost; 0 events lost" % calls)

    def test_threads_in_their_slots(self):
        self.check()

    def test_threads_sharing_one_slot(self):
        """With one slot, all threads but the one holding it keep their calls in the
        fallback table, and the scheduler frees the slot of a thread that exits."""
        src = os.path.join(self.tmp, "bpf_src")
        shutil.copytree(BPF_SRC, src)
        with open(os.path.join(src, "00_capture.c")) as f:
            text = f.read()
        with open(os.path.join(src, "00_capture.c"), "w") as f:
            f.write("#define TLS_SLOTS 1\n" + text)
        self.check("--bpf-src", src)


if __name__ == "__main__":
    harness.main()
