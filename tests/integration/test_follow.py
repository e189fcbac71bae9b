#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_follow.py - what a traced process starts is traced from its first TLS call: a traced
shell runs real clients one after another, two levels deep and in parallel, each request and
response exact on its connection's 4-tuple; the first run of a program never seen is
captured or its bytes are told as moved before probes; a fork storm misses nothing."""
import base64
import os
import re
import shutil
import subprocess
import tempfile
import time

import harness
from harness import PYTHON, TRACER, Flows, TracerTest, json_lines, wait_for
from test_go import GOTLS, framed

HERE = os.path.dirname(os.path.abspath(__file__))
HELPERS = os.environ.get("HELPERS_DIR", os.path.join(HERE, "../../build/tests"))
STATIC_TLS = os.path.join(HELPERS, "static_tls")

# A client of each kind as a shell command: {port} the server's, {path} the path to ask for.
CLIENTS = {
    "curl": "curl -sS -k --http1.1 -o /dev/null https://127.0.0.1:{port}{path}",
    "wget": "wget -q --no-check-certificate -O /dev/null https://127.0.0.1:{port}{path}",
    "python3": PYTHON + " -c \"import ssl, urllib.request as u; u.urlopen("
               "'https://127.0.0.1:{port}{path}', "
               "context=ssl._create_unverified_context()).read()\"",
    "node": "node -e \"require('https').get({{host: '127.0.0.1', port: {port}, "
            "path: '{path}', rejectUnauthorized: false}}, r => r.resume())\"",
    "hey": "hey -n 1 -c 1 https://127.0.0.1:{port}{path} >/dev/null",
}


class FollowTest(TracerTest):

    def setUp(self):
        super().setUp()
        self.port, self.log = self.record_server()

    def served(self):
        """What the server saw: {path: (peer port, request, response)}."""
        return harness.served(self.log)

    def traced_shell(self, script, *tracer_args, env=None):
        """Runs `script` in sh, traced from before its first command; returns the tracer's
        JSON records once both have exited (the tracer by itself, its targets gone)."""
        go = os.path.join(self.tmp, "go")
        shell = self.spawn(["sh", "-c", "while [ ! -e %s ]; do sleep 0.01; done\n%s"
                            % (go, script)])
        run = self.tracer(shell.pid, "--json", *tracer_args, env=env)
        run.wait_ready()
        open(go, "w").close()
        self.assertEqual(shell.wait(timeout=240), 0)
        self.assertEqual(run.wait_exit(timeout=60), 0, run.stderr())
        self.assertNotIn("missed", run.stderr())
        return run, json_lines(run)

    @staticmethod
    def flows(records):
        """The captured bytes of each connection (Flows)."""
        return Flows(records)

    @staticmethod
    def calls_of(records, pid):
        """What process pid's calls wrote and read, whatever their connection."""
        got = {"write": b"", "read": b""}
        for r in records:
            if r["type"] == "data" and r["pid"] == pid:
                got[r["dir"]] += base64.b64decode(r["data"])
        return got

    def assert_exact(self, records, kind, paths, unfinished_ok=False):
        """Each path's request and response, as the server saw them, were captured whole on
        the client's connection (its 4-tuple: the server's port, the client's port the
        server saw), by a process of that kind (node's too: its TLS runs on memory BIOs,
        its sessions tied to their sockets after their calls)."""
        served, flows = self.served(), self.flows(records)
        unfinished = {p["pid"]: p["calls_unfinished"] for p in records[-1].get("processes", [])}
        for path in paths:
            self.assertIn(path, served, "the server never saw %s" % path)
            peer, request, response = served[path]
            f = flows.get(peer, self.port, write=request, read=response)
            self.assertIsNotNone(f, "%s %s: no capture on local port %d (of %d connections "
                                 "captured)" % (kind, path, peer, len(flows)))
            self.assertEqual(f["rport"], self.port, (kind, path))
            self.assertEqual(f["comm"], kind, (kind, path))
            self.assertEqual(f["read"], response, (kind, path))
            if unfinished_ok and f["write"] == b"" and unfinished.get(f["pid"]):
                continue  # its Write had not returned when it exited: counted, not shown
            self.assertEqual(f["write"], request, (kind, path))

    def python_client(self, name, body):
        """A python3 script in the test's directory: body, given get(path), which asks this
        test's server for path over HTTPS and reads the whole response."""
        script = os.path.join(self.tmp, name)
        with open(script, "w") as f:
            f.write("import ssl, urllib.request as u\n"
                    "ctx = ssl._create_unverified_context()\n"
                    "def get(path):\n"
                    "    u.urlopen('https://127.0.0.1:%d' + path, context=ctx).read()\n"
                    % self.port + body)
        return script

    def unprobed(self, records):
        return [r for r in records if r["type"] == "unprobed"]

    def told(self, records, lport, rport):
        """The bytes before probes told for the connection of those two ports."""
        return [u for u in self.unprobed(records) if (u["lport"], u["rport"]) == (lport, rport)]

    # --- a shell runs programs, again and again --------------------------------------------

    def test_a_shell_runs_twenty_of_each_client(self):
        """curl, wget and python3 (libraries of the ld.so cache), node (OpenSSL inside its
        executable), our Go client (stripped, static) and Debian's hey (Go, stripped): 20
        runs of each from a traced shell, every request and response on its connection.
        node and the Go programs are executables the tracer has not seen when the shell
        starts: each runs once first, its probes found as it runs, and that run is captured
        or its bytes are told as moved before probes (hey's request may go before its probes
        come and its response after: the one told, the other captured); the 20 after it are
        all captured (our Go client's probes may come during its second run instead, where
        finding them outlasts the first: assert_go_runs). hey exits without waiting for its writing goroutine: where Go's probes
        are a function's entry and returns (not its call sites), a Write that had not
        returned is counted as unfinished, never passed over in silence."""
        go_server = self.spawn([GOTLS["static"], "server", "-cert", self.cert, "-key",
                                self.key], stdout=subprocess.PIPE, text=True)
        go_port = int(go_server.stdout.readline().split()[1])
        lines = []
        for kind, cmd in CLIENTS.items():
            lines.append(cmd.format(port=self.port, path="/%s-first" % kind))
            for i in range(20):
                lines.append(cmd.format(port=self.port, path="/%s-%d" % (kind, i)))
        for i in range(21):
            lines.append("%s client -port %d -conns 1 -msgs 2 -size 100 > %s/go.%d" %
                         (GOTLS["static"], go_port, self.tmp, i))
        run, records = self.traced_shell("\n".join(lines))
        for kind in CLIENTS:
            self.assert_exact(records, kind, ["/%s-%d" % (kind, i) for i in range(20)],
                              unfinished_ok=kind == "hey")
            self.assert_first_run(records, kind, "/%s-first" % kind)
        self.assert_go_runs(records, go_port)
        summary = records[-1]
        self.assertEqual(summary["type"], "summary")
        self.assertEqual(summary["bytes_lost"], 0)

    def test_a_shell_runs_our_static_openssl_client_twenty_times(self):
        """Our stripped static OpenSSL client (OpenSSL from libssl.a, no symbols): a first
        run, captured or told as moved before probes, then 20 runs, each message and its
        echo captured whole on its connection."""
        server = self.spawn([STATIC_TLS, "server", self.cert, self.key],
                            stdout=subprocess.PIPE, text=True)
        port = int(server.stdout.readline().split()[1])
        go = os.path.join(self.tmp, "static-go")
        open(go, "w").close()
        run, records = self.traced_shell("\n".join(
            "echo static-%d | %s client %d %s %s > %s/static.%d" %
            (i, STATIC_TLS, port, self.cert, go, self.tmp, i) for i in range(21)))
        flows = self.flows(records)
        for i in range(21):
            with open(os.path.join(self.tmp, "static.%d" % i)) as f:
                out = f.read()
            self.assertIn("got: static-%d" % i, out)
            lport = int(re.search(r"LPORT (\d+)", out).group(1))
            f = flows.get(lport, port, write=b"static-%d\n" % i)
            if i == 0 and not f:
                told = self.told(records, lport, port)
                self.assertEqual(len(told), 1, "the first run: %r" % told)
                self.assertGreaterEqual(told[0]["bytes_sent"], len("static-0\n"))
                continue
            self.assertIsNotNone(f, "run %d (local port %d) not captured" % (i, lport))
            self.assertEqual((f["rport"], f["comm"], f["write"], f["read"]),
                             (port, "static_tls", b"static-%d\n" % i,
                              b"got: static-%d\n" % i), "run %d" % i)

    def test_a_program_seen_before_a_reload_is_probed_from_its_start_after_it(self):
        """The traced shell runs our static OpenSSL client (its probes found as it runs), the
        BPF sources are edited (the tracer reloads while no process runs the client), then
        the shell runs the client again: that run is captured whole, as before the reload
        (the new probes take every program the old ones had found, though none runs)."""
        mine = os.path.join(self.tmp, "mine")
        r = subprocess.run([TRACER, "--init-probes", mine], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        server = self.spawn([STATIC_TLS, "server", self.cert, self.key],
                            stdout=subprocess.PIPE, text=True)
        port = int(server.stdout.readline().split()[1])
        marks = {m: os.path.join(self.tmp, m) for m in ("go", "static-go", "reloaded")}
        open(marks["static-go"], "w").close()
        client = "echo {0} | %s client %d %s %s > %s/{0}" % (STATIC_TLS, port, self.cert,
                                                            marks["static-go"], self.tmp)
        shell = self.spawn(["sh", "-c", "while [ ! -e %s ]; do sleep 0.01; done\n%s\n"
                            "while [ ! -e %s ]; do sleep 0.05; done\n%s"
                            % (marks["go"], client.format("before"), marks["reloaded"],
                               client.format("after"))])
        run = self.tracer(shell.pid, "--json", "--bpf-src", os.path.join(mine, "bpf_src"),
                          "--probe-specs", os.path.join(mine, "probe_specs"))
        run.wait_ready()
        open(marks["go"], "w").close()
        wait_for(lambda: "loaded TLS code" in run.stderr(), 30,
                 "the client's probes; stderr:\n%s" % run.stderr())
        with open(os.path.join(mine, "bpf_src", "openssl.c"), "a") as f:
            f.write("\n/* an edit */\n")
        wait_for(lambda: "Reloaded" in run.stderr(), 60,
                 "the reload; stderr:\n%s" % run.stderr())
        open(marks["reloaded"], "w").close()
        self.assertEqual(shell.wait(timeout=60), 0)
        self.assertEqual(run.wait_exit(timeout=60), 0, run.stderr())
        with open(os.path.join(self.tmp, "after")) as f:
            out = f.read()
        self.assertIn("got: after", out)
        lport = int(re.search(r"LPORT (\d+)", out).group(1))
        f = self.flows(json_lines(run)).get(lport, port, write=b"after\n")
        self.assertIsNotNone(f, "the run after the reload (local port %d) not captured; "
                             "stderr:\n%s" % (lport, run.stderr()))
        self.assertEqual((f["comm"], f["read"]), ("static_tls", b"got: after\n"))

    def assert_go_runs(self, records, go_port):
        """Our Go client's 21 runs (one connection each, two 100-byte messages and their
        echo). The program is never seen before its first run: its probes come as that run
        runs or, when finding and placing them outlasts it (a slow build, the sanitizers'),
        as the next one does. A run before the first captured whole is captured from where
        its probes came, what it moved before them told, nothing passed over; from the
        first run captured whole on, every run is captured whole; and that is by the third
        run at the latest."""
        want = framed(0, 2, 100)
        flows = self.flows(records)
        probed = None
        for i in range(21):
            with open(os.path.join(self.tmp, "go.%d" % i)) as f:
                lport = int(re.search(r"CONN 0 PORT (\d+)", f.read()).group(1))
            f = flows.get(lport, go_port, write=want)
            whole = bool(f) and (f["rport"], f["write"], f["read"]) == (go_port, want, want)
            if probed is None and whole:
                probed = i
            if probed is not None:
                self.assertTrue(whole, "Go run %d (local port %d) not captured whole: %r"
                                % (i, lport, f))
                continue
            self.assertLess(i, 2, "Go runs 0-%d not captured whole" % i)
            # its probes came as it ran: what it moved before them is told, what after
            # them is captured (the end of each direction), nothing passed over
            told = self.told(records, lport, go_port)
            self.assertEqual(len(told), 1, "Go run %d: %r %r" % (i, told, f))
            got = f or {"write": b"", "read": b""}
            for d in ("write", "read"):  # whole messages (a Write each), the last ones
                self.assertTrue(want.endswith(got[d]) and len(got[d]) % (len(want) // 2)
                                == 0, "Go run %d: %r" % (i, f))
            self.assertGreaterEqual(told[0]["bytes_sent"], len(want) - len(got["write"]))
            if got["read"] != want:
                self.assertGreater(told[0]["bytes_received"], 0)

    def assert_first_run(self, records, kind, path):
        """The run of path was captured, or what its process moved was told as before
        probes: at least its request and the response, on its connection."""
        peer, request, response = self.served()[path]
        f = self.flows(records).get(peer, self.port, write=request, read=response)
        told = self.told(records, peer, self.port)
        if f and f["write"] == request and f["read"] == response:
            return
        if kind == "node":  # told: what its calls moved after its probes came is the end
            got = self.calls_of(records, told[0]["pid"])
            self.assertTrue(request.endswith(got["write"]) and response.endswith(got["read"]),
                            "node's first run: %r" % got)
        if kind == "hey" and f and f["read"] == response:
            if f["write"] == b"" and len(told) == 1 and told[0]["rport"] == self.port and \
                    told[0]["bytes_sent"] >= len(request):
                return  # its request went before its probes came (told), its response after
            self.assert_exact(records, kind, [path], unfinished_ok=True)
            return
        self.assertEqual(len(told), 1, "%s's first run neither captured nor told: %r %r"
                         % (kind, f, self.unprobed(records)))
        self.assertEqual(told[0]["rport"], self.port)
        self.assertGreaterEqual(told[0]["bytes_sent"], len(request))
        self.assertGreaterEqual(told[0]["bytes_received"], len(response))

    def test_two_levels_deep_and_in_parallel(self):
        """shell -> shell -> client, and three clients at once with their shell waiting."""
        lines, paths = [], {k: [] for k in ("curl", "python3", "node")}
        for kind in paths:
            cmd = CLIENTS[kind]
            lines.append(cmd.format(port=self.port, path="/%s-warm" % kind))
            for i in range(3):
                p = "/%s-deep-%d" % (kind, i)
                paths[kind].append(p)
                lines.append("sh -c %s" % shlex_quote("sh -c %s" % shlex_quote(
                    cmd.format(port=self.port, path=p))))
            par = ["/%s-par-%d" % (kind, i) for i in range(3)]
            paths[kind] += par
            lines.append(" & ".join(cmd.format(port=self.port, path=p) for p in par)
                         + " & wait")
        run, records = self.traced_shell("\n".join(lines))
        for kind, ps in paths.items():
            self.assert_exact(records, kind, ps)

    def test_a_process_that_runs_commands_keeps_its_probes(self, env=None):
        """python3 runs a command before each request (as an agent runs its tools), and a
        shell runs curl into a pipe: every request of the parent and of curl is captured.
        perf may swap the contexts of a parent and a child whose events it inherited, and
        the child's exit then took the parent's probes away (0 of 20 captured): the
        inherited events ask the kernel never to (Linux 6.12+)."""
        script = self.python_client("agent.py", "import subprocess\n"
                                    "for i in range(20):\n"
                                    "    subprocess.run(['true'])\n"
                                    "    get('/agent-%d' % i)\n")
        lines = ["%s %s" % (PYTHON, script)]
        lines += ["sh -c %s" % shlex_quote(CLIENTS["curl"].format(port=self.port,
                                                                 path="/pipe-%d" % i)
                                           .replace("-o /dev/null", "") + " | cat >/dev/null")
                  for i in range(20)]
        run, records = self.traced_shell("\n".join(lines), "-v", env=env)
        self.assertIn("children inherit their events" if env is None else
                      "each with guard events of its own", run.stderr())
        self.assert_exact(records, "python3", ["/agent-%d" % i for i in range(20)])
        self.assert_exact(records, "curl", ["/pipe-%d" % i for i in range(20)])

    def test_a_process_that_runs_commands_keeps_its_probes_with_guard_events(self):
        """The same the way kernels before 6.12 need it: each traced process holds guard
        events of its own (not inherited), given to a child as the tracer hears of its fork,
        so that perf never swaps its context (TRACER_SCOPE_GUARDS forces it here)."""
        self.test_a_process_that_runs_commands_keeps_its_probes(
            env=dict(os.environ, TRACER_SCOPE_GUARDS="1"))

    def test_a_setuid_program_is_put_back_in_the_scope(self):
        """A traced shell running as nobody runs a setuid-root copy of curl three times: the
        exec that changes its credentials makes the kernel drop its perf events, and the
        tracer puts them back (said with -v). Each request is captured whole on its
        connection, or what went before is told as moved before probes (left_scope):
        never lost in silence."""
        where = tempfile.mkdtemp(prefix="tracer-suid-")
        self.addCleanup(shutil.rmtree, where, True)
        os.chmod(where, 0o755)
        curl = os.path.join(where, "suid-curl")
        shutil.copy(shutil.which("curl"), curl)
        os.chmod(curl, 0o4755)
        cmd = CLIENTS["curl"].replace("curl ", curl + " ", 1)
        lines = ["setpriv --reuid=65534 --regid=65534 --clear-groups %s" %
                 cmd.format(port=self.port, path="/suid-%d" % i) for i in range(3)]
        run, records = self.traced_shell("\n".join(lines), "-v")
        self.assertRegex(run.stderr(), r"PID \d+ left the traced processes' perf events "
                         r"\(an exec that changed its credentials\): put back")
        served, flows = self.served(), self.flows(records)
        told = {(u["lport"], u["rport"]): u for u in self.unprobed(records)}
        outcomes = []
        for i in range(3):
            peer, request, response = served["/suid-%d" % i]
            f = flows.get(peer, self.port, write=request, read=response)
            if f and (f["write"], f["read"]) == (request, response):
                self.assertEqual(f["comm"], "suid-curl")
                outcomes.append("captured")
                continue
            t = told.get((peer, self.port))
            self.assertIsNotNone(t, "run %d neither captured nor told: %r" % (i, f))
            self.assertEqual(t["reason"], "left_scope")
            self.assertGreaterEqual(t["bytes_sent"], len(request))
            outcomes.append("told")
        print("setuid runs: %s" % ", ".join(outcomes), flush=True)
        self.assertIn("captured", outcomes)  # its probes were put back: not only told

    # --- the first run of a program never seen ----------------------------------------------

    def test_children_keep_their_probes_when_the_traced_process_exits(self):
        """The traced shell puts a job in the background and exits at once; the job, left
        running, then runs curl and python3 five times each: every request captured on its
        connection. Closing the exited shell's inherited perf events would free the copies
        the kernel made of them for its children, and take their breakpoints away."""
        paths = {kind: ["/orphan-%s-%d" % (kind, i) for i in range(5)]
                 for kind in ("curl", "python3")}
        job = "; ".join(CLIENTS[kind].format(port=self.port, path=p)
                        for kind, ps in paths.items() for p in ps)
        run, records = self.traced_shell("(sleep 0.5; %s) &" % job)
        for kind, ps in paths.items():
            self.assert_exact(records, kind, ps)
        self.assertIn("target exited", run.stderr())

    def test_first_run_of_a_never_seen_static_binary(self):
        """Our stripped static OpenSSL client, copied to a file of its own and with an empty
        cache of functions found without symbols: its first run is either captured (what
        went before its probes, its handshake, told), or its bytes are told as moved before
        probes (at least what it sent and got), on its connection; which of the two is
        said. Its next run, once the tracer says it loaded the program's TLS code, is
        captured whole. (Run at once, the next run may begin before every probe of the
        program is in place: under load, finding and placing them can outlast the first
        run.)"""
        binary = os.path.join(self.tmp, "fresh_tls")
        shutil.copy(STATIC_TLS, binary)
        server = self.spawn([STATIC_TLS, "server", self.cert, self.key],
                            stdout=subprocess.PIPE, text=True)
        port = int(server.stdout.readline().split()[1])
        go = os.path.join(self.tmp, "static-go")
        open(go, "w").close()
        loaded = os.path.join(self.tmp, "loaded")
        script = "\n".join("echo run-%d | %s client %d %s %s > %s/run%d.out" %
                           (i, binary, port, self.cert, go, self.tmp, i) for i in (1, 2))
        script = script.replace("\n", "\nwhile [ ! -e %s ]; do sleep 0.01; done\n" % loaded)
        start = os.path.join(self.tmp, "go")
        shell = self.spawn(["sh", "-c", "while [ ! -e %s ]; do sleep 0.01; done\n%s"
                            % (start, script)])
        run = self.tracer(shell.pid, "--json",
                          env=dict(os.environ, TRACER_CACHE_DIR=os.path.join(self.tmp, "cache")))
        run.wait_ready()
        open(start, "w").close()
        wait_for(lambda: "loaded TLS code: '%s'" % binary in run.stderr(), 60,
                 "the program's probes; stderr:\n%s" % run.stderr())
        open(loaded, "w").close()
        self.assertEqual(shell.wait(timeout=120), 0)
        self.assertEqual(run.wait_exit(timeout=60), 0, run.stderr())
        self.assertNotIn("missed", run.stderr())
        records = json_lines(run)
        ports = {}
        for i in (1, 2):
            with open(os.path.join(self.tmp, "run%d.out" % i)) as f:
                out = f.read()
            self.assertIn("got: run-%d" % i, out)
            ports[i] = int(re.search(r"LPORT (\d+)", out).group(1))
        flows = self.flows(records)
        second = flows.get(ports[2], port, write=b"run-2\n")
        self.assertIsNotNone(second, run.stderr())
        self.assertEqual((second["write"], second["read"]), (b"run-2\n", b"got: run-2\n"))
        first = flows.get(ports[1], port, write=b"run-1\n")
        told = self.told(records, ports[1], port)
        if first:
            # its handshake may have gone before its probes were in place: then that is told
            print("first run: captured; before probes: %r" % told, flush=True)
            self.assertEqual((first["write"], first["read"]), (b"run-1\n", b"got: run-1\n"))
            self.assertTrue(all(t["reason"] == "new_code" for t in told), told)
        else:
            print("first run: told as moved before probes: %r" % told, flush=True)
            self.assertEqual(len(told), 1, run.stderr())
            self.assertEqual(told[0]["rport"], port)
            self.assertEqual(told[0]["program"], binary)
            self.assertEqual(told[0]["comm"], "fresh_tls")
            self.assertGreaterEqual(told[0]["bytes_sent"], len(b"run-1\n"))
            self.assertGreaterEqual(told[0]["bytes_received"], len(b"got: run-1\n"))
            self.assertRegex(run.stderr(), r"PID \d+ \(fresh_tls\) sent \d+ and received \d+ "
                             r"bytes of TLS records on fd \d+, 127\.0\.0\.1:%d -> "
                             r"127\.0\.0\.1:%d before probes" % (ports[1], port))
            summary = records[-1]
            self.assertEqual(summary["bytes_sent_before_probes"], told[0]["bytes_sent"])
            self.assertIn("before probes: %d bytes sent" % told[0]["bytes_sent"],
                          run.stderr())
        self.assertIn("loaded TLS code: '%s'" % binary, run.stderr())

    def test_no_bytes_told_when_the_probes_were_in_place(self):
        """A program run for the first time whose TLS library was probed all along (curl,
        libssl of the ld.so cache): nothing is told as before probes."""
        run, records = self.traced_shell(CLIENTS["curl"].format(port=self.port, path="/once"))
        self.assert_exact(records, "curl", ["/once"])
        self.assertEqual(self.unprobed(records), [])
        self.assertNotIn("before probes", run.stderr())

    # --- many processes ---------------------------------------------------------------------

    def test_fork_storm(self):
        """The traced shell forks a short child hundreds of times a second for 10 s while a
        traced client makes requests in a loop: every request is captured whole, the tracer
        keeps the same threads and about the same fds (children cost it nothing), and it
        ends cleanly with its targets."""
        forks = os.path.join(self.tmp, "forks")
        client = self.python_client("client.py", "import time\n"
                                    "end = time.monotonic() + 10\n"
                                    "i = 0\n"
                                    "while time.monotonic() < end:\n"
                                    "    get('/storm-%d' % i)\n"
                                    "    i += 1\n"
                                    "print(i)\n")
        script = ("%s %s > %s/requests &\n"
                  "n=0; end=$(($(date +%%s) + 10))\n"
                  "while [ $(date +%%s) -lt $end ]; do /bin/true; n=$((n+1)); done\n"
                  "echo $n > %s\nwait" % (PYTHON, client, self.tmp, forks))
        go = os.path.join(self.tmp, "go")
        shell = self.spawn(["sh", "-c", "while [ ! -e %s ]; do sleep 0.01; done\n%s"
                            % (go, script)])
        run = self.tracer(shell.pid, "--json")
        run.wait_ready()
        pid = run.proc.pid
        threads = len(os.listdir("/proc/%d/task" % pid))
        fds = len(os.listdir("/proc/%d/fd" % pid))
        open(go, "w").close()
        most_threads, most_fds = threads, fds
        while shell.poll() is None:
            most_threads = max(most_threads, len(os.listdir("/proc/%d/task" % pid)))
            most_fds = max(most_fds, len(os.listdir("/proc/%d/fd" % pid)))
            time.sleep(0.2)
        self.assertEqual(shell.returncode, 0)
        self.assertEqual(run.wait_exit(timeout=60), 0, run.stderr())
        with open(forks) as f:
            n = int(f.read())
        self.assertGreaterEqual(n, 1000, "the shell forked %d children in 10 s" % n)
        with open(os.path.join(self.tmp, "requests")) as f:
            requests = int(f.read())
        self.assertGreater(requests, 0)
        records = json_lines(run)
        self.assert_exact(records, "python3", ["/storm-%d" % i for i in range(requests)])
        self.assertLessEqual(most_threads, threads + 8)  # the detach threads come and go
        self.assertLessEqual(most_fds, fds + 8)
        self.assertIn("target exited", run.stderr())
        self.assertEqual(records[-1]["bytes_lost"], 0)


def shlex_quote(s):
    import shlex
    return shlex.quote(s)


if __name__ == "__main__":
    harness.main()
