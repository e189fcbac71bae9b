#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""test_stripped.py - OpenSSL 3 linked into stripped executables (tests/helpers/static_tls,
from libssl.a): its functions found without symbols by their error sites, every byte both
ways on the right connection, over IPv4 and IPv6, by PID and with --all; --list-probes
naming the evidence; the build id cache used, verified, and not trusted when it lies; and
no probe in a look-alike (OpenSSL's strings, no OpenSSL) or a program without TLS."""
import base64
import os
import re
import stat
import subprocess

import harness
from harness import TRACER, TracerTest, json_lines

HELPERS = os.environ.get("HELPERS_DIR", os.path.join(harness.HERE, "../../build/tests"))
STATIC_TLS = os.path.join(HELPERS, "static_tls")
STATIC_TLS_FULL = os.path.join(HELPERS, "static_tls_full")  # -static: no .eh_frame_hdr
LOOKALIKE = os.path.join(HELPERS, "nosym_lookalike")
LINES = [b"hello from the static client\n", b"a second line, longer: " + b"x" * 3000 + b"\n",
         b"third\n"]


def by_conn(events):
    """{(lport, rport, dir): bytes} of the data events, in call order."""
    out = {}
    for e in sorted((e for e in events if e["type"] == "data"), key=lambda e: (e["call"], e["offset"])):
        k = (e["lport"], e["rport"], e["dir"])
        out[k] = out.get(k, b"") + base64.b64decode(e["data"])
    return out


class StrippedTest(TracerTest):

    def server(self, v6=False, binary=STATIC_TLS):
        p = self.spawn([binary, "server", self.cert, self.key] + (["6"] if v6 else []),
                       stdout=subprocess.PIPE)
        line = p.stdout.readline().decode()
        self.assertTrue(line.startswith("PORT "), line)
        return p, int(line.split()[1])

    def client(self, port, v6=False):
        go = os.path.join(self.tmp, "go.%d" % len(self.procs))
        p = self.spawn([STATIC_TLS, "client", str(port), self.cert, go] + (["6"] if v6 else []),
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return p, go

    def converse(self, v6, server_binary):
        """Server and client, each traced by its PID with --json; returns the client's
        local port, the server's port and both runs."""
        server, port = self.server(v6, server_binary)
        client, go = self.client(port, v6)
        srun = self.tracer(server.pid, "--json")
        crun = self.tracer(client.pid, "--json")
        srun.wait_ready()
        crun.wait_ready()
        open(go, "w").close()
        out, err = client.communicate(b"".join(LINES), timeout=60)
        self.assertEqual(client.returncode, 0, err)
        self.assertEqual(out.splitlines(keepends=True)[1:], [b"got: " + l for l in LINES])
        lport = int(out.split()[1])
        self.assertEqual(crun.wait_exit(), 0, crun.stderr())
        self.interrupt(srun)
        return lport, port, srun, crun

    def check_conversation(self, v6, server_binary):
        lport, port, srun, crun = self.converse(v6, server_binary)
        sent, answers = b"".join(LINES), b"".join(b"got: " + l for l in LINES)
        cev, sev = json_lines(crun), json_lines(srun)
        self.assertEqual(by_conn(cev), {(lport, port, "write"): sent, (lport, port, "read"): answers})
        self.assertEqual(by_conn(sev), {(port, lport, "read"): sent, (port, lport, "write"): answers})
        family = "ipv6" if v6 else "ipv4"
        addr = "::1" if v6 else "127.0.0.1"
        for e in cev + sev:
            if e["type"] in ("data", "conn"):
                self.assertEqual((e["family"], e["laddr"], e["raddr"]), (family, addr, addr), e)
        for e in cev:
            self.assertEqual(e.get("lib", STATIC_TLS), STATIC_TLS, e)
        for e in sev:
            self.assertEqual(e.get("lib", server_binary), server_binary, e)
        # the client writes with SSL_write (named so, through its internal function unless
        # placement is exported) and the server with SSL_write_ex, which has no trace of
        # its own: its calls are named after ssl_write_internal, which they go through
        self.assertEqual({e["func"] for e in cev if e["type"] == "data" and e["dir"] == "write"},
                         {"SSL_write"})
        self.assertEqual({e["func"] for e in sev if e["type"] == "data" and e["dir"] == "write"},
                         {"ssl_write_internal"})
        for run in (crun, srun):
            self.assertIn("0 lost", run.stderr())
        for run, binary in ((crun, STATIC_TLS), (srun, server_binary)):
            self.assertRegex(run.stderr(), r"calls captured by library: %s \(\d+\)" % re.escape(binary))

    def test_client_and_server_over_ipv4(self):
        self.check_conversation(False, STATIC_TLS)

    def test_client_and_server_over_ipv6_the_server_fully_static(self):
        self.check_conversation(True, STATIC_TLS_FULL)

    def test_all_finds_a_stripped_program_started_later(self):
        """--all: the server's start shows the tracer the program (searched, probed for
        every process); the client, the same program, is traced from its first call."""
        run = self.tracer(None, "--all", "--json", "-c", "static_tls")
        run.wait_ready()
        server, port = self.server()
        harness.wait_for(lambda: "loaded TLS code: '%s'" % STATIC_TLS in run.stderr(), 30,
                         "static_tls's probes")
        client, go = self.client(port)
        open(go, "w").close()
        out, err = client.communicate(b"".join(LINES), timeout=60)
        self.assertEqual(client.returncode, 0, err)
        lport = int(out.split()[1])
        harness.wait_for(lambda: b"got: third" in b"".join(
            base64.b64decode(e["data"]) for e in json_lines(run) if e["type"] == "data"
            and e["pid"] == client.pid and e["dir"] == "read"), 20, "the client's last read")
        self.interrupt(run)
        streams = by_conn(e for e in json_lines(run) if e.get("pid") == client.pid)
        self.assertEqual(streams[(lport, port, "write")], b"".join(LINES))
        # the tracer does not look at itself (the strings it searches for are in it)
        self.assertNotIn(os.path.realpath(TRACER), run.stderr())

    def list_probes(self, pid):
        """--list-probes -v for pid, the tracer's cache in the test's directory: the rows
        of static_tls and stderr."""
        env = dict(os.environ, TRACER_CACHE_DIR=os.path.join(self.tmp, "cache"))
        r = subprocess.run([TRACER, *harness.PLACEMENT, "--list-probes", "-v", str(pid)],
                           capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotRegex(r.stderr, harness.SANITIZER_REPORT)
        return [l for l in r.stdout.splitlines() if l.startswith(STATIC_TLS + " ")], r.stderr

    def test_list_probes_names_the_evidence_and_the_cache_is_verified(self):
        server, _ = self.server()
        first, err = self.list_probes(server.pid)
        funcs = {l.split()[1] for l in first}
        self.assertEqual(funcs, {"SSL_write", "SSL_read", "ssl_write_internal",
                                 "ssl_read_internal", "SSL_do_handshake", "SSL_set_fd"}, err)
        for l in first:
            self.assertRegex(l, r'error sites: "%s" in \S*ssl/ssl_lib\.c x\d+, \.eh_frame entry'
                             % l.split()[1])
            self.assertNotIn("cache", l)
        self.assertRegex("\n".join(first), r"ssl_write_internal .*called by SSL_write")
        cache = os.path.join(self.tmp, "cache")
        files = [f for f in os.listdir(cache) if f.startswith("nosym-")]
        self.assertEqual(len(files), 1, files)
        path = os.path.join(cache, files[0])
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(cache).st_mode), 0o700)

        second, err = self.list_probes(server.pid)
        self.assertEqual([l.split()[:4] for l in second], [l.split()[:4] for l in first])
        for l in second:
            self.assertIn("cache (verified): error sites", l)

        # a cache that lies (the entry of SSL_write moved by a byte) is found out: the file
        # is searched anew and the probes are where they were
        with open(path) as f:
            text = f.read()
        m = re.search(r"^SSL_write 0x([0-9a-f]+) ", text, re.M)
        with open(path, "w") as f:
            f.write(text.replace(m.group(0), "SSL_write 0x%x " % (int(m.group(1), 16) + 1)))
        third, err = self.list_probes(server.pid)
        self.assertIn("the cached place of 'SSL_write' in '%s' does not hold" % STATIC_TLS, err)
        self.assertEqual([l.split()[:4] for l in third], [l.split()[:4] for l in first])

    def test_no_probe_in_a_lookalike_or_a_program_without_tls(self):
        for argv in ([LOOKALIKE, "wait"], ["/bin/sleep", "60"]):
            p = self.spawn(argv)
            harness.wait_for(lambda: os.readlink("/proc/%d/exe" % p.pid) == os.path.realpath(argv[0]),
                             10, "the program to start")
            code, out, err = self.run_tracer("--list-probes", str(p.pid))
            self.assertEqual(code, 0, err)
            self.assertNotIn(os.path.realpath(argv[0]), out)
            self.assertNotIn(argv[0], out)
            self.assertEqual(err.count("not probing"), 0, err)


if __name__ == "__main__":
    harness.main()
