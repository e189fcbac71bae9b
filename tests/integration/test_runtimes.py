#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_runtimes.py - single-binary runtimes from npm (scripts/deps installs them): Bun, whose
BoringSSL has no symbols and no caller that names it, found by its error checks and traced
by PID, started later under --all and started by a traced shell, request and response exact
both ways, --http decoding them, HTTP/2 where it negotiates it; --list-probes naming the
evidence. Deno (rustls 0.23 on aws-lc-rs, stripped) traced at aws-lc's AEAD seal and open,
found by their error checks, the same ways and over HTTP/2; our fixture with those checks
showing that only application-data records are taken, and look-alikes get no probe. Our
rustls 0.20 program (blocking and tokio-rustls) traced at rustls's record layer by its
symbols, the same ways, as client and server, TLS 1.3 and 1.2; stripped (rustls on ring
without symbols), the same functions found by the literals they copy and the vtables that
call them."""
import base64
import os
import re
import subprocess

import harness
from harness import TracerTest, assert_on_connections, assert_one_connection, json_lines, wait_for

HELPERS = os.environ.get("HELPERS_DIR", os.path.join(os.path.dirname(__file__), "../../build/tests"))
RUSTLS_TLS = os.path.join(HELPERS, "rustls_tls")
BUN = os.environ.get("BUN_BIN", "/var/cache/tracer-tests/npm/node_modules/@oven/bun-linux-x64/bin/bun")
DENO = os.environ.get("DENO_BIN", "/var/cache/tracer-tests/npm/node_modules/@deno/linux-x64-glibc/deno")

# A Bun script: waits for the file argv[2] (when given), then fetches each path of argv[3:]
# from https://127.0.0.1:argv[1] in turn, reading each response whole; all at once when
# argv[3] is --at-once.
FETCH_JS = """
const [port, go, ...paths] = process.argv.slice(2);
while (go !== "-" && !(await Bun.file(go).exists())) await Bun.sleep(10);
const get = async path => {
  const r = await fetch(`https://127.0.0.1:${port}${path}`, {tls: {rejectUnauthorized: false}});
  await r.text();
};
if (paths[0] === "--at-once") await Promise.all(paths.slice(1).map(get));
else for (const path of paths) await get(path);
"""

# Bun's node:http2 client: waits for argv[3], asks https://127.0.0.1:argv[2] for argv[4] over
# HTTP/2 and prints the body.
H2_JS = """
import http2 from "node:http2";
const [port, go, path] = process.argv.slice(2);
while (!(await Bun.file(go).exists())) await Bun.sleep(10);
const c = http2.connect(`https://127.0.0.1:${port}`, {rejectUnauthorized: false});
const req = c.request({":path": path});
let body = "";
req.setEncoding("utf8");
req.on("data", d => body += d);
req.on("end", () => { process.stdout.write(body); c.close(); });
req.end();
"""

# A Bun HTTPS server (Bun.serve) on 127.0.0.1: prints "PORT n" and answers each request with
# "bun saw <path>".
SERVE_JS = """
const [cert, key] = process.argv.slice(2);
const server = Bun.serve({
  hostname: "127.0.0.1", port: 0, tls: {cert: Bun.file(cert), key: Bun.file(key)},
  fetch(req) { return new Response("bun saw " + new URL(req.url).pathname + "\\n"); },
});
console.log("PORT " + server.port);
"""


def calls_of(records, pid):
    """What process pid's calls wrote and read, in call order, and its data records."""
    mine = sorted((r for r in records if r["type"] == "data" and r["pid"] == pid),
                  key=lambda r: (r["call"], r["offset"]))
    got = {"write": b"", "read": b""}
    for r in mine:
        got[r["dir"]] += base64.b64decode(r["data"])
    return got, mine


def shell_runs(test, records, served, n):
    """The traced shell's n runs, run i asking for /shell/i, its PID in the file pid.i of
    the test's directory: yields (pid, path) of each run that must be exact. The first may
    have been looked at as it ran: then what it moved before is told, the end captured."""
    for i in range(n):
        with open(os.path.join(test.tmp, "pid.%d" % i)) as f:
            pid = int(f.read())
        path = "/shell/%d" % i
        got, _ = calls_of(records, pid)
        if i == 0 and (got["write"], got["read"]) != served[path][1:]:
            told = [r for r in records if r["type"] == "unprobed" and r["pid"] == pid]
            test.assertEqual(len(told), 1, "the first run neither captured nor told: %r" % got)
            test.assertEqual(told[0]["rport"], test.port)
            test.assertGreaterEqual(told[0]["bytes_sent"], len(served[path][1]) -
                                    len(got["write"]))
            test.assertTrue(served[path][1].endswith(got["write"]) and
                            served[path][2].endswith(got["read"]), got)
            continue
        yield pid, path


def assert_get_decoded(test, run, path):
    """--http decoded the run's one GET of path (HTTP/1.1, with Host) and its 200."""
    http = [e for e in json_lines(run) if e["type"] == "http"]
    test.assertEqual([(e["msg"], e["version"]) for e in http],
                     [("request", "1.1"), ("response", "1.1")], http)
    test.assertEqual((http[0]["method"], http[0]["path"]), ("GET", path))
    test.assertIn(["host", "127.0.0.1:%d" % test.port],  # HTTP's names: any case
                  [[n.lower(), v] for n, v in http[0]["headers"]])
    test.assertEqual(http[1]["status"], 200)


def assert_h2_get(test, records, pid, path, port):
    """pid's one HTTP/2 GET of path from nginx on port (answering "hello from nginx at
    PATH"): the preface in its writes, the body in its reads, all on one connection to
    127.0.0.1:port, --http decoding request and response on stream 1."""
    assert_one_connection(test, records, pid, rport=port)
    http = [e for e in records if e["type"] == "http"]
    test.assertEqual([(e["msg"], e["version"], e["stream"]) for e in http],
                     [("request", "2", 1), ("response", "2", 1)], http)
    test.assertEqual((http[0]["method"], http[0]["path"]), ("GET", path))
    test.assertEqual((http[1]["status"], http[1]["path"]), (200, path))
    got, _ = calls_of(records, pid)
    test.assertTrue(got["write"].startswith(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
    test.assertIn(b"hello from nginx at %s\n" % path.encode(), got["read"])


def forget_found(exe):
    """What an earlier run found in exe is forgotten (its nosym cache entry): searched anew."""
    cache = os.environ.get("TRACER_CACHE_DIR", "/var/cache/tracer")
    build_id = re.search(r"Build ID: ([0-9a-f]+)",
                         subprocess.run(["readelf", "-n", exe], capture_output=True,
                                        text=True).stdout).group(1)
    if cache and os.path.exists(os.path.join(cache, "nosym-" + build_id)):
        os.unlink(os.path.join(cache, "nosym-" + build_id))


def assert_found_then_cached(test, exe, pid, searched, cached, probes):
    """--list-probes on pid, twice: exe's rows are `probes` ((function, kind) sorted), each
    with the evidence `searched` (a pattern of its function's name), then from the cache
    (`cached`) at the same places. Returns each run's (rows, stderr)."""
    forget_found(exe)  # searched anew first
    offsets, runs = None, []
    for evidence in (searched, cached):
        code, out, err = test.run_tracer("--list-probes", str(pid))
        test.assertEqual(code, 0, err)
        rows = [l for l in out.splitlines() if l.startswith(exe + " ")]
        test.assertEqual(sorted({(l.split()[1], l.split()[2]) for l in rows}), probes, out)
        for l in rows:
            test.assertRegex(l, evidence % l.split()[1] if "%s" in evidence else evidence)
            test.assertEqual("cache (verified)" in l, evidence is cached, l)
        test.assertEqual(offsets or {l.split()[3] for l in rows}, {l.split()[3] for l in rows})
        offsets = {l.split()[3] for l in rows}
        runs.append((rows, err))
    return runs


def started_later_under_all(test, exe, start, path):
    """A program (exe) started by start(go, path) once `--all` is tracing: it fetches path
    once the tracer says it found its TLS code. Returns the run, ended, and the process."""
    run = test.tracer(None, "--all", "--json")
    run.wait_ready()
    go = os.path.join(test.tmp, "go")
    proc = start(go, path)
    wait_for(lambda: "loaded TLS code: '%s'" % exe in run.stderr(), 60, "its probes")
    open(go, "w").close()
    test.assertEqual(proc.wait(timeout=60), 0)
    wait_for(lambda: b"hello " + path.encode() in calls_of(json_lines(run), proc.pid)[0]["read"],
             20, "the response in its reads")
    test.interrupt(run)
    return run, proc


def traced_shell(test, exe, argv, env):
    """A traced shell runs `argv /shell/i` (a shell command line) six times, exe never seen
    before: the first as soon as the tracer is ready, the other five once it says it found
    exe's TLS code. Returns the shell's records."""
    go, loaded = (os.path.join(test.tmp, n) for n in ("go", "loaded"))
    lines = ["sh -c 'echo $$ > %s/pid.%d; exec %s /shell/%d' > /dev/null 2>&1" %
             (test.tmp, i, argv, i) for i in range(6)]
    lines.insert(1, "while [ ! -e %s ]; do sleep 0.01; done" % loaded)
    shell = test.spawn(["sh", "-c", "while [ ! -e %s ]; do sleep 0.01; done\n%s" %
                        (go, "\n".join(lines))], env=env)
    run = test.tracer(shell.pid, "--json")
    run.wait_ready()
    open(go, "w").close()
    wait_for(lambda: "loaded TLS code: '%s'" % exe in run.stderr(), 60, "its probes")
    open(loaded, "w").close()
    test.assertEqual(shell.wait(timeout=120), 0)
    test.assertEqual(run.wait_exit(timeout=60), 0, run.stderr())
    return json_lines(run)


class RuntimesTest(TracerTest):

    def setUp(self):
        super().setUp()
        # scripts/deps installs it: missing is a failure
        self.assertTrue(os.access(BUN, os.X_OK), "%s is not installed (scripts/deps)" % BUN)
        forget_found(BUN)  # each test searches its code anew
        self.port, self.log = self.record_server()
        self.script = os.path.join(self.tmp, "fetch.js")
        with open(self.script, "w") as f:
            f.write(FETCH_JS)
        # Bun's own files (its install cache, transpiler cache) stay in the test's directory
        self.env = dict(os.environ, HOME=self.tmp, BUN_INSTALL_CACHE_DIR=self.tmp,
                        BUN_RUNTIME_TRANSPILER_CACHE_PATH="0")

    def served(self):
        """What the server saw: {path: (peer port, request, response)}."""
        return harness.served(self.log)

    def bun(self, go, *paths):
        return self.spawn([BUN, self.script, str(self.port), go, *paths], env=self.env,
                          stdout=subprocess.DEVNULL)

    def assert_exact(self, records, pid, paths):
        """Each path's request was captured in pid's writes and its response in its reads,
        whole and in order, by Bun's SSL_write and SSL_read; nothing else."""
        served = self.served()
        got, mine = calls_of(records, pid)
        self.assertEqual(got["write"], b"".join(served[p][1] for p in paths))
        self.assertEqual(got["read"], b"".join(served[p][2] for p in paths))
        self.assertEqual({(r["func"], r["dir"]) for r in mine},
                         {("SSL_write", "write"), ("SSL_read", "read")})
        self.assertEqual({r["lib"] for r in mine}, {BUN})
        assert_on_connections(self, records, pid, served, paths, self.port)

    def test_bun_by_pid(self):
        go = os.path.join(self.tmp, "go")
        bun = self.bun(go, "/by-pid/1", "/by-pid/2")
        run = self.trace_then_go(bun, go, "--json", env=self.env)
        records = json_lines(run)
        self.assert_exact(records, bun.pid, ["/by-pid/1", "/by-pid/2"])
        self.assertEqual(records[-1]["bytes_lost"], 0)
        self.assertEqual(records[-1]["bytes_truncated"], 0)

    def test_bun_fetches_at_once(self):
        """Six fetches at once on Bun's one thread, each on a connection of its own: each
        request and response exact on its 4-tuple (its calls use no socket: each session
        tied to its own after the fact), none on another's."""
        go = os.path.join(self.tmp, "go")
        paths = ["/at-once/%d" % i for i in range(6)]
        bun = self.bun(go, "--at-once", *paths)
        run = self.trace_then_go(bun, go, "--json", env=self.env)
        assert_on_connections(self, json_lines(run), bun.pid, self.served(), paths, self.port)

    def test_bun_started_later_under_all(self):
        run, bun = started_later_under_all(self, BUN, self.bun, "/with-all")
        self.assert_exact(json_lines(run), bun.pid, ["/with-all"])

    def test_bun_from_a_traced_shell(self):
        """A traced shell runs bun, never seen before: that run is captured or told as moved
        before probes (its code is searched as it runs). Once the tracer says it found Bun's
        TLS code, five more runs: each request and response exact."""
        records = traced_shell(self, BUN, "%s %s %d -" % (BUN, self.script, self.port),
                               self.env)
        for pid, path in shell_runs(self, records, self.served(), 6):
            self.assert_exact(records, pid, [path])

    def test_bun_server_by_pid(self):
        """Bun as the server: curl's request in its SSL_read, its answer in its SSL_write."""
        script = os.path.join(self.tmp, "serve.js")
        with open(script, "w") as f:
            f.write(SERVE_JS)
        bun = self.spawn([BUN, script, self.cert, self.key], env=self.env,
                         stdout=subprocess.PIPE, text=True)
        port = int(bun.stdout.readline().split()[1])
        run = self.tracer(bun.pid, "--json")
        run.wait_ready()
        curl = subprocess.run(["curl", "-sS", "-k", "--http1.1", "-H", "X-Test: bun-server",
                               "-w", "LPORT %{local_port}",
                               "https://127.0.0.1:%d/served/1" % port], capture_output=True,
                              timeout=30)
        body, _, lport = curl.stdout.partition(b"LPORT ")
        self.assertEqual(body, b"bun saw /served/1\n", curl.stderr)
        wait_for(lambda: b"bun saw /served/1" in calls_of(json_lines(run), bun.pid)[0]["write"],
                 20, "the answer in bun's writes")
        self.interrupt(run)
        got, mine = calls_of(json_lines(run), bun.pid)
        self.assertTrue(got["read"].startswith(b"GET /served/1 HTTP/1.1\r\n"), got["read"])
        self.assertIn(b"\r\nX-Test: bun-server\r\n", got["read"])
        self.assertTrue(got["write"].startswith(b"HTTP/1.1 200 OK\r\n"), got["write"])
        self.assertTrue(got["write"].endswith(b"\r\n\r\nbun saw /served/1\n"), got["write"])
        self.assertEqual({r["lib"] for r in mine}, {BUN})
        assert_one_connection(self, json_lines(run), bun.pid, lport=port, rport=int(lport))

    def test_bun_http_decoded(self):
        go = os.path.join(self.tmp, "go")
        bun = self.bun(go, "/decoded?q=1")
        run = self.trace_then_go(bun, go, "--json", "--http", env=self.env)
        assert_get_decoded(self, run, "/decoded?q=1")

    def test_bun_http2_with_nginx(self):
        """Bun's fetch asks for HTTP/1.1 only (1.4.5); its node:http2 client speaks HTTP/2
        to nginx over the same BoringSSL: the preface and frames in its writes, --http
        decoding request and response on one stream."""
        port = self.nginx_h2('return 200 "hello from nginx at $uri\\n";')
        script = os.path.join(self.tmp, "h2.js")
        with open(script, "w") as f:
            f.write(H2_JS)
        go = os.path.join(self.tmp, "go")
        bun = self.spawn([BUN, script, str(port), go, "/over-h2"], env=self.env,
                         stdout=subprocess.PIPE)
        run = self.trace_then_go(bun, go, "--json", "--http", env=self.env)
        self.assertEqual(bun.stdout.read(), b"hello from nginx at /over-h2\n")
        assert_h2_get(self, json_lines(run), bun.pid, "/over-h2", port)

    def test_list_probes_names_the_evidence(self):
        bun = self.spawn([BUN, "-e", "await Bun.sleep(60000)"], env=self.env)
        wait_for(lambda: os.path.exists("/proc/%d/exe" % bun.pid), 10, "bun")
        assert_found_then_cached(
            self, BUN, bun.pid,
            r"BoringSSL's error checks of \S*boringssl/ssl/ssl_lib\.cc: %s's "
            r"reasons in line order x\d \(lines \d+-\d+\), called x\d+",
            r"cache \(verified\): BoringSSL's error checks of "
            r"\S*boringssl/ssl/ssl_lib\.cc: %s's first one where it was",
            [("SSL_read", "entry"), ("SSL_read", "return"), ("SSL_write", "entry"),
             ("SSL_write", "return")])


# A Deno script: waits for the file Deno.args[1] (when not "-"), then fetches each path of
# Deno.args[2:] from https://127.0.0.1:Deno.args[0] in turn, reading each response whole, and
# prints the last body; all at once when Deno.args[2] is --at-once.
DENO_FETCH_JS = """
const [port, go, ...paths] = Deno.args;
while (go !== "-") {
  try { Deno.statSync(go); break; } catch { await new Promise(r => setTimeout(r, 10)); }
}
const get = async path => (await fetch(`https://127.0.0.1:${port}${path}`)).text();
let body = "";
if (paths[0] === "--at-once") await Promise.all(paths.slice(1).map(get));
else for (const path of paths) body = await get(path);
console.log(body);
"""

class AwsLcFixtureTest(TracerTest):
    """Our fixture with aws-lc's AEAD checks beside a rustls crate's path (tests/unit/
    fixtures_src/nosym_aead.c, stripped): found, and of its calls only TLS records of
    application data taken, TLS 1.3 (padding taken off) and 1.2; a handshake record, a
    header whose length is not the record's, additional data of no TLS record and a failed
    open taken for nothing. A look-alike (seal's checks in two functions) and the same
    program without rustls get no probe: the first is named with why, the second not."""

    def test_only_application_data_records(self):
        go = os.path.join(self.tmp, "go")
        fixture = self.spawn([os.path.join(HELPERS, "nosym_aead"), "run", go])
        run = self.trace_then_go(fixture, go, "--json")
        records = json_lines(run)
        got, mine = calls_of(records, fixture.pid)
        self.assertEqual(got, {"write": b"fixture request 1.3fixture request 1.2",
                               "read": b"fixture response 1.3fixture response 1.2"})
        self.assertEqual([(r["func"], r["dir"]) for r in mine],
                         [(SEAL, "write"), (OPEN, "read"), (OPEN, "read"), (SCATTER, "write"),
                          (OPEN, "read")])
        # the record padded past what is looked through: its 38 bytes (text, type, padding)
        # counted as unreadable, never dropped unsaid
        self.assertEqual((mine[2]["data"], mine[2]["call_len"]), ("", 38))
        self.assertEqual((records[-1]["calls"], records[-1]["bytes_unreadable"]), (5, 38))

    def test_lookalikes_get_no_probe(self):
        for name, said in (("nosym_aead_lookalike", "it carries Rust's rustls-0.23.40, but not "
                            "aws-lc's EVP_AEAD_CTX_seal and EVP_AEAD_CTX_open for sure: two "
                            "functions make the checks EVP_AEAD_CTX_seal makes"),
                           ("nosym_aead_norustls", None)):
            exe = os.path.join(HELPERS, name)
            p = self.spawn([exe, "wait"])
            wait_for(lambda: os.readlink("/proc/%d/exe" % p.pid) == os.path.realpath(exe), 10,
                     name)
            code, out, err = self.run_tracer("--list-probes", str(p.pid))
            self.assertEqual(code, 0, err)
            self.assertNotIn(os.path.realpath(exe), out)
            if said:
                self.assertIn("not probing '%s': %s" % (os.path.realpath(exe), said), err)
            else:
                self.assertNotIn("not probing", err)


# rustls 0.23 on aws-lc in Deno, as --json names its calls
SEAL, OPEN = "EVP_AEAD_CTX_seal", "EVP_AEAD_CTX_open"
SCATTER = "EVP_AEAD_CTX_seal_scatter"  # TLS 1.2's records


class DenoTest(TracerTest):
    """Deno (npm, stripped, rustls 0.23 on aws-lc-rs): aws-lc's AEAD seal and open found by
    their error checks, each application-data record taken as it is sealed and once it is
    opened; traced by PID, started later under --all, from a traced shell; --http decoding
    HTTP/1.1 and HTTP/2 (Deno's fetch negotiates h2 with nginx, over TLS 1.2); --list-probes
    naming the evidence, searched and then from the cache."""

    def setUp(self):
        super().setUp()
        # scripts/deps installs it: missing is a failure
        self.assertTrue(os.access(DENO, os.X_OK), "%s is not installed (scripts/deps)" % DENO)
        self.port, self.log = self.record_server()
        self.script = os.path.join(self.tmp, "fetch.js")
        with open(self.script, "w") as f:
            f.write(DENO_FETCH_JS)
        # Deno's own files (its cache of compiled scripts) stay in the test's directory
        self.env = dict(os.environ, HOME=self.tmp, DENO_DIR=os.path.join(self.tmp, "deno"),
                        DENO_NO_UPDATE_CHECK="1", NO_COLOR="1")

    def deno_argv(self, script, *args):
        # the test's certificate is its own CA: Deno (webpki) takes no CA as a server's
        return [DENO, "run", "--allow-net=127.0.0.1", "--allow-read",
                "--unsafely-ignore-certificate-errors=127.0.0.1", script, *args]

    def deno(self, go, *paths, port=None):
        return self.spawn(self.deno_argv(self.script, str(port or self.port), go, *paths),
                          env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def assert_exact(self, records, proc, paths):
        """Each path's request, as the server saw it, was captured in proc's writes and its
        response in its reads, whole and in order, by aws-lc's seal and open in Deno;
        nothing else. proc printed the last body."""
        served = harness.served(self.log)
        got, mine = calls_of(records, proc.pid)
        self.assertEqual(got["write"], b"".join(served[p][1] for p in paths))
        self.assertEqual(got["read"], b"".join(served[p][2] for p in paths))
        self.assertEqual({(r["func"], r["dir"]) for r in mine}, {(SEAL, "write"), (OPEN, "read")})  # TLS 1.3
        self.assertEqual({r["lib"] for r in mine}, {DENO})
        assert_on_connections(self, records, proc.pid, served, paths, self.port)
        if proc.stdout:
            self.assertIn(proc.stdout.read().strip(), served[paths[-1]][2])

    def test_deno_by_pid(self):
        go = os.path.join(self.tmp, "go")
        deno = self.deno(go, "/by-pid/1", "/by-pid/2")
        run = self.trace_then_go(deno, go, "--json", env=self.env)
        records = json_lines(run)
        self.assert_exact(records, deno, ["/by-pid/1", "/by-pid/2"])
        self.assertEqual((records[-1]["bytes_lost"], records[-1]["bytes_truncated"]), (0, 0))

    def test_deno_fetches_at_once(self):
        """Six fetches at once on Deno's thread (tokio, one connection each, sealed with keys
        of their own): each request and response exact on its 4-tuple, none on another's;
        the server's session tickets, opened on every socket before the responses, do not
        stand in their way."""
        go = os.path.join(self.tmp, "go")
        paths = ["/at-once/%d" % i for i in range(6)]
        deno = self.deno(go, "--at-once", *paths)
        run = self.trace_then_go(deno, go, "--json", env=self.env)
        assert_on_connections(self, json_lines(run), deno.pid, harness.served(self.log),
                              paths, self.port)

    def test_deno_started_later_under_all(self):
        run, deno = started_later_under_all(self, DENO, self.deno, "/with-all")
        self.assert_exact(json_lines(run), deno, ["/with-all"])

    def test_deno_from_a_traced_shell(self):
        """A traced shell runs deno, never seen before: that run is captured or told as moved
        before probes (its code is searched as it runs). Once the tracer says it found the
        TLS code, five more runs: each request and response exact."""
        argv = " ".join(self.deno_argv(self.script, str(self.port), "-"))
        records = traced_shell(self, DENO, argv, self.env)
        served = harness.served(self.log)
        for pid, path in shell_runs(self, records, served, 6):
            assert_on_connections(self, records, pid, served, [path], self.port)

    def test_deno_http_decoded(self):
        go = os.path.join(self.tmp, "go")
        deno = self.deno(go, "/decoded?q=1")
        run = self.trace_then_go(deno, go, "--json", "--http", env=self.env)
        assert_get_decoded(self, run, "/decoded?q=1")

    def test_deno_http2_with_nginx(self):
        """Deno's fetch negotiates HTTP/2 with nginx over TLS 1.2 (nginx 1.22's default),
        sealed by seal_scatter: the preface and frames in its writes, --http decoding
        request and response on one stream."""
        port = self.nginx_h2('return 200 "hello from nginx at $uri\\n";')
        go = os.path.join(self.tmp, "go")
        deno = self.deno(go, "/over-h2", port=port)
        run = self.trace_then_go(deno, go, "--json", "--http", env=self.env)
        self.assertEqual(deno.stdout.read(), b"hello from nginx at /over-h2\n\n")
        records = json_lines(run)
        assert_h2_get(self, records, deno.pid, "/over-h2", port)
        self.assertEqual({(r["func"], r["dir"]) for r in records if r["type"] == "data"},
                         {(SCATTER, "write"), (OPEN, "read")})

    def test_list_probes_names_the_evidence(self):
        deno = self.spawn([DENO, "eval", "await new Promise(r => setTimeout(r, 60000))"],
                          env=self.env)
        wait_for(lambda: os.path.exists("/proc/%d/exe" % deno.pid), 10, "deno")
        runs = assert_found_then_cached(
            self, DENO, deno.pid,
            r"aws-lc's error checks of /aws-lc/crypto/fipsmodule/cipher/aead\.c: "
            r"%s's reasons in line order x\d \(lines \d+-\d+\), called x\d+",
            r"cache \(verified\): aws-lc's error checks of "
            r"/aws-lc/crypto/fipsmodule/cipher/aead\.c: %s's first one where it was",
            [(OPEN, "entry"), (OPEN, "return"), (SEAL, "entry"), (SCATTER, "entry")])
        for rows, err in runs:
            for l in rows:
                # push rbp: no single step; a uretprobe shares the entry's breakpoint
                self.assertIn(" emulated " if l.split()[2] == "entry" else " return ", l)
            self.assertNotIn("cannot trace", err)


# rustls 0.20's record layer, as --json names its functions
ENCRYPT = "rustls::%s::encrypt"  # MessageEncrypter's, the trait left out of the name
DECRYPT = "rustls::%s::decrypt"
TLS13 = {(ENCRYPT % "tls13::Tls13MessageEncrypter", "write"),
         (DECRYPT % "tls13::Tls13MessageDecrypter", "read")}


class RustlsTest(TracerTest):
    """Our rustls 0.20 program (tests/helpers/rustls_tls, Debian's crates on ring), blocking
    (rustls::Stream) and async (tokio-rustls, which inlines rustls's Writer and Reader):
    each application-data record taken at rustls's record layer, before it is sealed and
    once it is opened; traced by PID, under --all, from a traced shell, as a server, with
    TLS 1.3 and TLS 1.2's two AEADs; --http decoding it."""

    EXE = RUSTLS_TLS
    FUNCS = TLS13

    @staticmethod
    def tls12_funcs(suite):
        """The functions a TLS 1.2 suite's records may go through: a list of sets of
        (function, direction)."""
        return [{(ENCRYPT % ("tls12::cipher::%sMessageEncrypter" % suite), "write"),
                 (DECRYPT % ("tls12::cipher::%sMessageDecrypter" % suite), "read")}]

    def setUp(self):
        super().setUp()
        self.assertTrue(os.access(self.EXE, os.X_OK), self.EXE)
        self.port, self.log = self.record_server()

    def get(self, mode, go, *paths):
        return self.spawn([self.EXE, mode, str(self.port), go, *paths], stdout=subprocess.PIPE)

    def der(self):
        """The test's certificate and key as DER files (what rustls_tls server reads)."""
        der_cert, der_key = (os.path.join(self.tmp, n) for n in ("cert.der", "key.der"))
        subprocess.run(["openssl", "x509", "-in", self.cert, "-outform", "DER", "-out",
                        der_cert], check=True)
        subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", self.key, "-outform",
                        "DER", "-out", der_key], check=True)
        return der_cert, der_key

    def assert_exact(self, records, proc, paths):
        """Each path's request, as the server saw it, was captured in proc's writes and its
        response in its reads, whole and in order, by rustls's record layer in the program;
        nothing else. proc's output is the responses."""
        served = self.served()
        got, mine = calls_of(records, proc.pid)
        self.assertEqual(got["write"], b"".join(served[p][1] for p in paths))
        self.assertEqual(got["read"], b"".join(served[p][2] for p in paths))
        self.assertEqual({(r["func"], r["dir"]) for r in mine}, self.FUNCS)
        self.assertEqual({r["lib"] for r in mine}, {self.EXE})
        assert_on_connections(self, records, proc.pid, served, paths, self.port)
        self.assertEqual(proc.stdout.read(), got["read"])

    def served(self):
        """What the server saw: {path: (peer port, request, response)}."""
        return harness.served(self.log)

    def test_blocking_and_tokio_by_pid(self):
        for mode in ("get", "tokio-get"):
            go = os.path.join(self.tmp, "go-" + mode)
            paths = ["/%s/1" % mode, "/%s/2" % mode]
            client = self.get(mode, go, *paths)
            run = self.trace_then_go(client, go, "--json")
            records = json_lines(run)
            self.assert_exact(records, client, paths)
            self.assertEqual((records[-1]["bytes_lost"], records[-1]["bytes_truncated"]),
                             (0, 0))
            self.assertNotIn("not probing", run.stderr())

    def test_tls12_gcm_and_chacha20(self):
        """TLS 1.2 (a rustls server that offers it alone, with one AEAD): the client's
        lines and the server's answers, through that suite's encrypter and decrypter, each
        suite's its own."""
        der_cert, der_key = self.der()
        seen = {}
        for only, suite in (("tls12-gcm", "Gcm"), ("tls12-chacha", "ChaCha20Poly1305")):
            server = self.spawn([RUSTLS_TLS, "server", der_cert, der_key, only],
                                stdout=subprocess.PIPE, text=True)
            port = server.stdout.readline().split()[1]
            for mode in ("client", "tokio-client"):
                go = os.path.join(self.tmp, "go-%s-%s" % (only, mode))
                client = self.spawn([self.EXE, mode, port, go, "one", "two"],
                                    stdout=subprocess.PIPE)
                run = self.trace_then_go(client, go, "--json")
                got, mine = calls_of(json_lines(run), client.pid)
                self.assertEqual((got["write"], got["read"]),
                                 (b"one\ntwo\n", b"rustls saw: one\nrustls saw: two\n"),
                                 (only, mode))
                funcs = {(r["func"], r["dir"]) for r in mine}
                self.assertIn(funcs, self.tls12_funcs(suite))
                self.assertEqual(seen.setdefault(suite, funcs), funcs)
                self.assertEqual(client.stdout.read(), got["read"])
                assert_one_connection(self, json_lines(run), client.pid, rport=int(port))
        self.assertNotEqual(seen["Gcm"], seen["ChaCha20Poly1305"])

    def test_server_by_pid(self):
        """rustls as the server (a thread per connection): the client's lines in its reads,
        its answers in its writes."""
        der_cert, der_key = self.der()
        server = self.spawn([RUSTLS_TLS, "server", der_cert, der_key], stdout=subprocess.PIPE,
                            text=True)
        port = server.stdout.readline().split()[1]
        run = self.tracer(server.pid, "--json")
        run.wait_ready()
        client = subprocess.run([RUSTLS_TLS, "client", port, "-", "to the server"],
                                capture_output=True, timeout=30)
        self.assertEqual(client.stdout, b"rustls saw: to the server\n", client.stderr)
        wait_for(lambda: b"rustls saw" in calls_of(json_lines(run), server.pid)[0]["write"],
                 20, "the answer in the server's writes")
        self.interrupt(run)
        got, _ = calls_of(json_lines(run), server.pid)
        self.assertEqual((got["read"], got["write"]),
                         (b"to the server\n", b"rustls saw: to the server\n"))
        assert_one_connection(self, json_lines(run), server.pid, lport=int(port))

    def test_started_later_under_all(self):
        run = self.tracer(None, "--all", "--json")
        run.wait_ready()
        go = os.path.join(self.tmp, "go")
        client = self.get("tokio-get", go, "/with-all")
        wait_for(lambda: "loaded TLS code: '%s'" % self.EXE in run.stderr(), 60,
                 "the program's probes")
        open(go, "w").close()
        self.assertEqual(client.wait(timeout=60), 0)
        wait_for(lambda: b"hello /with-all" in calls_of(json_lines(run), client.pid)[0]["read"],
                 20, "the response in the program's reads")
        self.interrupt(run)
        self.assert_exact(json_lines(run), client, ["/with-all"])

    def test_from_a_traced_shell(self):
        """A traced shell runs the program six times: the first run is captured or told as
        moved before probes (the program is looked at as it runs); the five after it are
        each exact."""
        lines = ["sh -c 'echo $$ > %s/pid.%d; exec %s get %d - /shell/%d > /dev/null'" %
                 (self.tmp, i, self.EXE, self.port, i) for i in range(6)]
        go = os.path.join(self.tmp, "go")
        shell = self.spawn(["sh", "-c", "while [ ! -e %s ]; do sleep 0.01; done\n%s" %
                            (go, "\n".join(lines))])
        run = self.tracer(shell.pid, "--json")
        run.wait_ready()
        open(go, "w").close()
        self.assertEqual(shell.wait(timeout=120), 0)
        self.assertEqual(run.wait_exit(timeout=60), 0, run.stderr())
        records, served = json_lines(run), self.served()
        for pid, path in shell_runs(self, records, served, 6):
            assert_on_connections(self, records, pid, served, [path], self.port)

    def test_http_decoded(self):
        go = os.path.join(self.tmp, "go")
        client = self.get("tokio-get", go, "/decoded?q=1")
        run = self.trace_then_go(client, go, "--json", "--http")
        assert_get_decoded(self, run, "/decoded?q=1")



class StrippedRustlsTest(RustlsTest):
    """The same program stripped (rustls 0.20 on ring, no symbols): its three encrypters and
    three decrypters found by the literals they copy and the vtables that call them, TLS
    1.2's in pairs of one suite; each record exact both ways on its connection, by PID,
    under --all, from a traced shell, TLS 1.3 and both TLS 1.2 suites; --list-probes names
    the evidence, then the cache's, verified."""

    EXE = RUSTLS_TLS + "_stripped"
    FUNCS = {("rustls_tls13_encrypt", "write"), ("rustls_tls13_decrypt", "read")}

    @staticmethod
    def tls12_funcs(suite):
        return [{("rustls_tls12_encrypt_%d" % i, "write"), ("rustls_tls12_decrypt_%d" % i, "read")}
                for i in (1, 2)]

    test_server_by_pid = None  # the same probes as the client's: run once, with symbols
    test_http_decoded = None

    def test_list_probes_names_the_evidence(self):
        go = os.path.join(self.tmp, "go")
        client = self.get("get", go, "/listed")
        wait_for(lambda: os.path.exists("/proc/%d/exe" % client.pid), 10, "the client")
        roles = ["rustls_tls12_decrypt_1", "rustls_tls12_decrypt_2", "rustls_tls12_encrypt_1",
                 "rustls_tls12_encrypt_2", "rustls_tls13_decrypt", "rustls_tls13_encrypt"]
        probes = sorted([(r, "entry") for r in roles] +
                        [(r, "return") for r in roles if "decrypt" in r])
        assert_found_then_cached(
            self, self.EXE, client.pid,
            r"rustls-0\.20\.8's (copies \"(encrypt failed|peer sent bad TLSInnerPlaintext)\" "
            r"\(x\d\), )?method of the vtable at 0x[0-9a-f]+.*, \.eh_frame entry",
            r"cache \(verified\): rustls-0\.20\.8's .*method of the vtable at 0x[0-9a-f]+",
            probes)
        open(go, "w").close()
        self.assertEqual(client.wait(timeout=20), 0)


if __name__ == "__main__":
    harness.main()
