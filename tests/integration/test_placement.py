#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_placement.py - where the probes on OpenSSL 3 go: by default on the internal
ssl_write_internal/ssl_read_internal, whose first instruction (a push) the kernel emulates,
in place of the exported functions, whose first instruction it single-steps; calls keep the
exported name they came through. --placement=exported probes the exported functions. A C
function whose first instruction is single-stepped is probed on the first emulated one after
flag-only instructions (wolfSSL_read's je), its entry probe and uretprobe at one offset; each
row shows its class and what a hit of it costs here, measured."""
import os
import re
import subprocess
import unittest

from harness import TRACER, TracerTest, bpftool_uprobes

LIBSSL = "libssl.so.3"


ROW = re.compile(r"^(\S+) +(\S+) +(entry|return) +(\S+) +\S+ +(?:required|optional) +"
                 r"(.+?) {2,}(\S.*?) +(\d+\.\d \u00b5s|\?|-) +(?:symbol|callers|pclntab)$")
COSTS = re.compile(r"^COST/HIT: .*: emulated (\d+\.\d) \u00b5s, single-stepped (\d+\.\d) "
                   r"\u00b5s, return (\d+\.\d) \u00b5s \(", re.M)


def probe_rows(text, cost=False):
    """--list-probes output as {(library file name, function, kind): (offset, instruction,
    uprobe[, cost])} (the BPF function and need columns are left out)."""
    rows = {}
    for line in text.splitlines()[1:]:
        m = ROW.match(line)
        if m:
            rows[(os.path.basename(m.group(1)), m.group(2), m.group(3))] = (
                m.group(4), m.group(5).strip(), m.group(6), *([m.group(7)] if cost else []))
    return rows


class PlacementTest(TracerTest):

    def list_probes(self, *args, out=False):
        r = subprocess.run([TRACER, "--list-probes", *args], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("LIBRARY "), r.stdout)
        return r.stdout if out else probe_rows(r.stdout)

    def test_internal_functions_stand_in_for_exported_ones(self):
        rows = self.list_probes()
        for kind in ("entry", "return"):
            offset, insn, uprobe = rows[(LIBSSL, "ssl_write_internal", kind)]
            self.assertTrue(insn.startswith("push "), insn)
            self.assertEqual(uprobe, "emulated" if kind == "entry" else "return")
            self.assertEqual(rows[(LIBSSL, "ssl_read_internal", kind)][2],
                             "emulated" if kind == "entry" else "return")
            for f in ("SSL_write", "SSL_write_ex"):
                self.assertEqual(rows[(LIBSSL, f, kind)],
                                 ("-", "-", "none: caught by ssl_write_internal"))
            for f in ("SSL_read", "SSL_read_ex"):
                self.assertEqual(rows[(LIBSSL, f, kind)],
                                 ("-", "-", "none: caught by ssl_read_internal"))

    def test_exported_placement_lists_single_stepped_entries(self):
        rows = self.list_probes("--placement=exported")
        offset, insn, uprobe = rows[(LIBSSL, "SSL_write", "entry")]
        self.assertEqual((insn, uprobe), ("sub rsp, 0x18", "single-stepped"))
        self.assertEqual(rows[(LIBSSL, "ssl_write_internal", "entry")][2], "emulated")

    def test_attached_uprobes_follow_the_placement(self):
        """The uprobes really sit where --list-probes says: under the default placement none
        on SSL_write; with --placement=exported one on it too."""
        server, _, _ = self.tls_server()
        listed = self.list_probes(str(server.pid))
        ssl_write = int(self.list_probes("--placement=exported", str(server.pid))
                        [(LIBSSL, "SSL_write", "entry")][0], 16)
        internal = int(listed[(LIBSSL, "ssl_write_internal", "entry")][0], 16)
        for args, want_exported in (((), False), (("--placement=exported",), True)):
            run = self.tracer(server.pid, *args)
            run.wait_ready()
            offsets = {int(m.group(1)) for l in bpftool_uprobes(run.proc.pid)
                       if "libssl.so.3" in l for m in [re.search(r"offset (\d+)", l)] if m}
            self.assertIn(internal, offsets)
            self.assertEqual(ssl_write in offsets, want_exported, offsets)
            run.proc.terminate()
            self.assertEqual(run.wait_exit(timeout=30), 0, run.stderr())

    def test_single_stepped_first_instruction_passed_over_onto_an_emulated_one(self):
        """wolfSSL_read begins `test rdi, rdi; je`: its entry probe and uretprobe sit on the
        je, three bytes in, at one offset (one breakpoint, emulated); and the traffic of a
        wolfSSL program is still caught exactly (test_libraries)."""
        rows = self.list_probes()
        sym = subprocess.run(["nm", "-D", "--defined-only", "/lib/x86_64-linux-gnu/"
                              "libwolfssl.so.35"], capture_output=True, text=True).stdout
        start = int(re.search(r"(?m)^([0-9a-f]+) T wolfSSL_read$", sym).group(1), 16)
        entry, ret = rows[("libwolfssl.so.35", "wolfSSL_read", "entry")], \
            rows[("libwolfssl.so.35", "wolfSSL_read", "return")]
        self.assertEqual(int(entry[0], 16), start + 3, entry)
        self.assertEqual(entry[0], ret[0])
        self.assertRegex(entry[1], r"^je 0x[0-9a-f]+$")
        self.assertEqual((entry[2], ret[2]), ("emulated", "return"))
        self.assertEqual(rows[("libssl.so.3", "SSL_connect", "entry")][2], "emulated")
        # a first instruction that writes a register stays where it is, single-stepped
        self.assertEqual(rows[("libssl.so.3", "SSL_get_verify_result", "entry")][1:],
                         ("mov rax, qword ptr [rdi + 0x9b8]", "single-stepped"))

    def test_each_row_shows_its_class_and_its_measured_cost(self):
        out = self.list_probes(out=True)
        m = COSTS.search(out)
        self.assertTrue(m, out[-600:])
        cost = {"emulated": m.group(1), "single-stepped": m.group(2), "return": m.group(3)}
        rows = probe_rows(out, cost=True)
        self.assertGreater(len(rows), 20)
        classes = set()
        for key, (offset, insn, uprobe, c) in rows.items():
            if offset == "-":  # SSL_write & co.: caught by the internal functions
                self.assertRegex(uprobe, r"^none: caught by ssl_(write|read)_internal$", key)
                self.assertEqual(c, "-", key)
                continue
            self.assertIn(uprobe, cost, key)
            self.assertEqual(c, cost[uprobe] + " \u00b5s", key)
            self.assertEqual(uprobe == "return", key[2] == "return", key)
            classes.add(uprobe)
        self.assertEqual(classes, set(cost))

    def test_list_probes_of_a_process_without_tls(self):
        sleeper = self.spawn(["sleep", "30"])
        r = subprocess.run([TRACER, "--list-probes", str(sleeper.pid)], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("PID %d (sleep) maps no TLS library" % sleeper.pid, r.stderr)
        self.assertEqual(r.stdout.splitlines()[1:], [])

    def test_bad_placement_is_a_usage_error(self):
        r = subprocess.run([TRACER, "--placement=middle", "1"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("invalid --placement 'middle': want internal or exported", r.stderr)


if __name__ == "__main__":
    unittest.main()
