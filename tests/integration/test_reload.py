#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_reload.py - probe iteration without rebuilding: hot reload of bpf_src and probe_specs
while a real client is traced, --check, --init-probes, -D, and --list-probes of a real process.

The traced client is `openssl s_client`, fed lines on its stdin, talking to `openssl s_server
-rev` (which answers each line reversed) on 127.0.0.1: each line is one SSL_write and its
answer one SSL_read, so what the tracer printed can be compared with what was sent, byte for
byte, across the reloads.
"""
import base64
import json
import os
import re
import stat
import subprocess
import threading
import time

from harness import PYTHON, TracerTest, bpftool_uprobes, joined, main, wait_for, TRACER

RELOADED_RE = re.compile(r"^Reloaded \(changed: (.*?)\): (\d+) probes on .*; added: (.*); "
                                r"removed: (.*)$", re.M)
# A BPF function the verifier refuses: a hash map's value used without a NULL check.
UNCHECKED = """
int %s(struct pt_regs *ctx)
{
	u32 tid = 1;
	struct tls_call *call = tls_calls.lookup(&tid);

	return call->fd;
}
"""
# Once `go` exists: one HTTPS request on a new connection, read to the end, closed.
QUICK_CLIENT = """
import os, socket, ssl, sys, time
port, go, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile)
while not os.path.exists(go):
    time.sleep(0.01)
with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                     server_hostname="localhost") as tls:
    print("LPORT %d" % tls.getsockname()[1], flush=True)
    tls.sendall(b"GET /quick HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n")
    while tls.recv(4096):
        pass
    time.sleep(0.5)  # open (the peer gone) long enough to be looked up on a loaded machine
"""


class ReloadTest(TracerTest):
    def init_probes(self):
        """Copies the shipped probes with --init-probes; returns (bpf_src, probe_specs)."""
        mine = os.path.join(self.tmp, "mine")
        r = subprocess.run([TRACER, "--init-probes", mine], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        bpf, specs = os.path.join(mine, "bpf_src"), os.path.join(mine, "probe_specs")
        self.assertIn("Copied ", r.stdout)
        self.assertTrue(os.path.isfile(os.path.join(bpf, "00_capture.c")))
        self.assertTrue(os.path.isfile(os.path.join(bpf, "tls_event.h")))
        self.assertTrue(os.path.isfile(os.path.join(specs, "openssl.spec")))
        return bpf, specs

    def chat(self):
        """s_server -rev and an s_client connected to it (stdin a pipe); returns the client."""
        port = self.free_port()
        server = self.spawn(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-cert",
                             self.cert, "-key", self.key, "-rev", "-quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_listening(port, server)
        client = self.spawn(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                             "-quiet"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
        self.addCleanup(client.stdin.close)
        self.wait_mapped(client.pid)
        return client

    def say(self, client, line):
        client.stdin.write(line)
        client.stdin.flush()

    def trace(self, client, bpf, specs, *args):
        run = self.tracer(client.pid, "--bpf-src", bpf, "--probe-specs", specs, *args)
        run.wait_ready()
        return run

    def wait_read(self, run, text, timeout=30):
        """Waits until the tracer showed `text` (bytes) received: the answer to a line."""
        wait_for(lambda: text in joined(run.events(), "SSL_read"), timeout,
                 "%r in the traced SSL_read data; stderr:\n%s" % (text, run.stderr()))

    def wait_stderr(self, run, text, count=1, timeout=60):
        wait_for(lambda: run.stderr().count(text) >= count, timeout,
                 "%r (%d times) on the tracer's stderr:\n%s" % (text, count, run.stderr()))

    def append(self, path, text):
        with open(path, "a") as f:
            f.write(text)

    def test_init_probes_copies_and_never_overwrites(self):
        bpf, specs = self.init_probes()
        self.assertEqual(sorted(os.listdir(bpf)), sorted(
            f for f in os.listdir(os.path.join(os.path.dirname(TRACER), "bpf_src"))
            if f.endswith((".c", ".h"))))
        mode = stat.S_IMODE(os.stat(os.path.join(specs, "openssl.spec")).st_mode)
        self.assertEqual(mode, 0o644)
        r = subprocess.run([TRACER, "--init-probes", os.path.dirname(bpf)], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot create '%s': File exists" % bpf, r.stderr)

    def test_reload_while_traffic_flows_misses_and_repeats_nothing(self):
        """Lines go every 20 ms from before a saved change to after the reload: every one
        is captured exactly once, sent and received, and the old probes are gone."""
        bpf, specs = self.init_probes()
        client = self.chat()
        run = self.trace(client, bpf, specs)
        self.say(client, b"first\n")
        self.wait_read(run, b"tsrif\n")
        before = len(bpftool_uprobes(run.proc.pid))
        sent, stop = [], threading.Event()

        def talk():
            while not stop.is_set():
                line = b"msg-%04d\n" % len(sent)
                self.say(client, line)
                sent.append(line)
                time.sleep(0.02)

        talker = threading.Thread(target=talk)
        talker.start()
        try:
            time.sleep(0.3)
            self.append(os.path.join(bpf, "openssl.c"), "\n/* an edit */\n")
            self.wait_stderr(run, "Reloaded")
            time.sleep(0.3)
        finally:
            stop.set()
            talker.join()
        self.wait_read(run, sent[-1][:-1][::-1] + b"\n")
        self.assertEqual(len(bpftool_uprobes(run.proc.pid)), before)
        self.assertEqual(self.interrupt(run), 0, run.stderr())

        m = RELOADED_RE.search(run.stderr())
        self.assertIsNotNone(m, run.stderr())
        self.assertEqual((m.group(1), m.group(3), m.group(4)), ("openssl.c", "none", "none"))
        self.assertGreater(len(sent), 50)
        events = run.events()
        self.assertEqual(joined(events, "SSL_write"), b"first\n" + b"".join(sent))
        self.assertEqual(joined(events, "SSL_read"),
                         b"tsrif\n" + b"".join(l[:-1][::-1] + b"\n" for l in sent))
        self.assertIn("reloads: 1 done, 0 failed", run.stderr())

    def test_a_connection_that_lives_only_while_a_reload_compiles_gets_its_addresses(self):
        """The main loop is busy compiling for seconds; a connection opened and closed
        meanwhile is still looked up while it is open (by the notes thread)."""
        bpf, specs = self.init_probes()
        _, port, _ = self.tls_server()
        go = os.path.join(self.tmp, "go.quick")
        client = self.spawn([PYTHON, "-c", QUICK_CLIENT, str(port), go, self.cert],
                            stdout=subprocess.PIPE, text=True)
        self.wait_mapped(client.pid)
        run = self.trace(client, bpf, specs, "--json")
        self.append(os.path.join(bpf, "openssl.c"), "\n/* an edit */\n")
        time.sleep(0.8)  # the change is taken after 0.2 s of quiet; the compile takes seconds
        open(go, "w").close()
        lport = int(client.stdout.readline().split()[1])
        self.assertEqual(client.wait(timeout=20), 0)
        self.assertNotIn("Reloaded", run.stderr(), "the connection outlived the compile")
        self.assertEqual(run.wait_exit(timeout=60), 0, run.stderr())
        self.assertIn("Reloaded", run.stderr())
        events = [json.loads(l) for l in run.stdout().splitlines() if l.strip()]
        data = [e for e in events if e["type"] == "data"]
        self.assertTrue(data, run.stderr())
        for e in events:
            if e["type"] in ("data", "conn"):
                self.assertEqual((e["family"], e["laddr"], e["lport"], e["raddr"], e["rport"]),
                                 ("ipv4", "127.0.0.1", lport, "127.0.0.1", port), e)
        sent = b"".join(base64.b64decode(e["data"]) for e in data if e["dir"] == "write")
        self.assertEqual(sent, b"GET /quick HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertIn("connections: 1 (0 without addresses)", run.stderr())

    def test_failed_reloads_keep_the_running_probes(self):
        """A compile error, a spec naming a missing function and code the verifier refuses
        each fail with FILE:LINE and leave the probes running; a good edit then reloads."""
        bpf, specs = self.init_probes()
        openssl_c, openssl_spec = os.path.join(bpf, "openssl.c"), os.path.join(specs, "openssl.spec")
        with open(openssl_c) as f:
            good_c = f.read()
        with open(openssl_spec) as f:
            good_spec = f.read()
        client = self.chat()
        run = self.trace(client, bpf, specs)
        self.say(client, b"one\n")
        self.wait_read(run, b"eno\n")

        # 1. clang's error, at the line of the mistake
        bad_line = good_c.count("\n") + 2
        self.append(openssl_c, "\nint broken(struct pt_regs *ctx) { return no_such_thing; }\n")
        self.wait_stderr(run, "keeping previous probes")
        self.assertIn("%s:%d:" % (openssl_c, bad_line), run.stderr())
        self.assertIn("no_such_thing", run.stderr())
        self.say(client, b"two\n")
        self.wait_read(run, b"owt\n")

        # 2. a spec line whose BPF function is not defined
        with open(openssl_c, "w") as f:
            f.write(good_c)
        self.append(openssl_spec, "ssl SSL_peek entry probe_entry_nowhere optional\n")
        self.wait_stderr(run, "keeping previous probes", 2)
        self.assertIn("%s:%d: BPF function 'probe_entry_nowhere' is not defined in bpf_src"
                      % (openssl_spec, good_spec.count("\n") + 1), run.stderr())
        self.say(client, b"three\n")
        self.wait_read(run, b"eerht\n")

        # 3. code the verifier refuses: a hash map value used without a NULL check
        with open(openssl_spec, "w") as f:
            f.write(good_spec + "ssl SSL_peek entry probe_entry_unchecked optional\n")
        self.append(openssl_c, UNCHECKED % "probe_entry_unchecked")
        self.wait_stderr(run, "keeping previous probes", 3)
        self.assertRegex(run.stderr(), r"%s:\d+: the verifier rejected BPF function "
                         r"'probe_entry_unchecked': " % re.escape(openssl_c))
        self.say(client, b"four\n")
        self.wait_read(run, b"ruof\n")

        # 4. a good edit reloads; one that changes a map's size says that map starts empty
        with open(openssl_c, "w") as f:
            f.write(good_c)
        with open(openssl_spec, "w") as f:
            f.write(good_spec)
        capture_c = os.path.join(bpf, "00_capture.c")
        with open(capture_c) as f:
            text = f.read()
        with open(capture_c, "w") as f:
            f.write(text.replace("#define TLS_SLOTS 16384", "#define TLS_SLOTS 8192"))
        self.wait_stderr(run, "Reloaded")
        self.assertIn("BPF map 'tls_slots' changed its type, key or value size, or entries: "
                      "it starts empty", run.stderr())
        self.assertEqual(run.stderr().count("starts empty"), 1, run.stderr())
        self.say(client, b"five\n")
        self.wait_read(run, b"evif\n")
        self.assertEqual(self.interrupt(run), 0, run.stderr())
        events = run.events()
        self.assertEqual(joined(events, "SSL_write"), b"one\ntwo\nthree\nfour\nfive\n")
        self.assertEqual(joined(events, "SSL_read"), b"eno\nowt\neerht\nruof\nevif\n")
        self.assertEqual(run.stderr().count("reload failed"), 3, run.stderr())
        self.assertIn("reloads: 1 done, 3 failed", run.stderr())

    def test_check_names_file_and_line(self):
        r = subprocess.run([TRACER, "--check"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^ok: \d+ BPF functions in '.*bpf_src' compiled and verified; "
                         r"\d+ probe specs in '.*probe_specs' parsed\n$")

        bpf, specs = self.init_probes()
        openssl_c, openssl_spec = os.path.join(bpf, "openssl.c"), os.path.join(specs, "openssl.spec")
        with open(openssl_spec) as f:
            spec_line = f.read().count("\n") + 1
        self.append(openssl_spec, "ssl SSL_peek entry probe_entry_missing optional\n")
        self.append(openssl_c, UNCHECKED % "probe_unchecked")
        r = subprocess.run([TRACER, "--check", "--bpf-src", bpf, "--probe-specs", specs],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s:%d: BPF function 'probe_entry_missing' is not defined in bpf_src"
                      % (openssl_spec, spec_line), r.stderr)
        self.assertRegex(r.stderr, r"(?m)^%s:\d+: the verifier rejected BPF function "
                         r"'probe_unchecked': .*map_value_or_null" % re.escape(openssl_c))
        self.assertIn("check failed: 2 errors", r.stderr)
        self.assertEqual(r.stdout, "")

        # a malformed spec line and a compile error, each at its line
        self.append(openssl_spec, "ssl SSL_peek sideways probe_entry_missing optional\n")
        with open(openssl_c) as f:
            c_line = f.read().count("\n") + 1
        self.append(openssl_c, "int oops(struct pt_regs *ctx) { return }\n")
        r = subprocess.run([TRACER, "--check", "--bpf-src", bpf, "--probe-specs", specs],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s:%d:" % (openssl_spec, spec_line + 1), r.stderr)
        self.assertIn("%s:%d:" % (openssl_c, c_line), r.stderr)
        self.assertIn("error:", r.stderr)

    def test_define_passes_checked_macros_only(self):
        for bad, why in (("X=1 -fplugin=evil", "' ' cannot be in a value"),
                         ("-fplugin=evil", "NAME a C identifier"),
                         ("X;id", "';' cannot be in a macro name"),
                         ("X=$(id)", "'$' cannot be in a value"),
                         ('X="a"', "'\"' cannot be in a value"),
                         ("X=`id`", "'`' cannot be in a value"),
                         ("X=1\n#include </etc/shadow>", "cannot be in a value"),
                         ("TRACE_PID=1", "TRACE_PID is set by the tracer"),
                         ("", "NAME a C identifier")):
            r = subprocess.run([TRACER, "--check", "-D", bad], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertIn("invalid -D '%s': " % bad, r.stderr)
            self.assertIn(why, r.stderr)
            self.assertEqual(r.stdout, "")

        bpf, specs = self.init_probes()
        self.append(os.path.join(bpf, "openssl.c"),
                    "#ifdef TUTORIAL_FAIL\n#error TUTORIAL_FAIL is defined\n#endif\n"
                    "#if TLS_SLOTS != 4096\n#error TLS_SLOTS is not 4096\n#endif\n")
        base = [TRACER, "--check", "--bpf-src", bpf, "--probe-specs", specs]
        r = subprocess.run(base + ["-v", "-D", "TLS_SLOTS=4096"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(" -DTLS_SLOTS=4096", r.stderr)
        r = subprocess.run(base + ["-D", "TLS_SLOTS=4096", "-D", "TUTORIAL_FAIL"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("TUTORIAL_FAIL is defined", r.stderr)

    def test_list_probes_of_a_real_process(self):
        client = self.chat()
        r = subprocess.run([TRACER, "--list-probes", str(client.pid)], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^LIBRARY +FUNCTION +KIND +OFFSET +BPF FUNCTION +NEED +"
                         r"FIRST INSTRUCTION +UPROBE +COST/HIT +FOUND BY\n")
        row = r"(?m)^\S*/libssl\.so\.3 +SSL_write +entry +(0x[0-9a-f]+|-) +probe_entry_SSL_write +required +"
        self.assertRegex(r.stdout, row)
        self.assertRegex(r.stdout, r"(?m)^\S*/libssl\.so\.3 +SSL_write_ex +return +\S+ +"
                         r"probe_return_ex +optional ")
        r = subprocess.run([TRACER, "--list-probes", "--all"], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, row)
        # not the tracer itself, which carries the strings the stripped search looks for
        self.assertNotIn(os.path.realpath(TRACER), r.stdout + r.stderr)


if __name__ == "__main__":
    main()
