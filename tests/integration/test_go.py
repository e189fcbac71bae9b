#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""test_go.py - Go's crypto/tls in Go programs, stripped or not: Debian's caddy and hey (Go
1.19, stripped, cgo), esbuild from npm (Go 1.26, stripped, static), and our own client and
server (tests/helpers/gotls) built with symbols, as a stripped PIE, as a stripped static
binary and with crypto/tls not inlined. Every byte both ways on its own connection's
4-tuple, caught at Write's and Read's call sites, or at their entry and returns where those
are not recognised (the same bytes); goroutine stacks that move while calls are in flight,
--http over Go's HTTP/2, --all, --list-probes."""
import base64
import hashlib
import json
import os
import re
import subprocess

import harness
from harness import TRACER, TracerTest, json_lines, wait_for

GOTLS_DIR = os.environ.get("GOTLS_DIR", os.path.join(harness.HERE, "../../build/tests"))
GOTLS = {shape: os.path.join(GOTLS_DIR, "gotls_" + shape)
         for shape in ("sym", "pie", "static", "noinline")}
CADDY, HEY = "/usr/bin/caddy", "/usr/bin/hey"
# esbuild from npm (scripts/deps): Go 1.26, stripped and static, serving HTTPS
ESBUILD = os.environ.get("ESBUILD_BIN", "/var/cache/tracer-tests/npm/node_modules/@esbuild/"
                         "linux-x64/bin/esbuild")
WRITE, READ = "crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read"


def message(c, m, size):
    """What gotls's payload(c, m, size) makes: message m of connection c."""
    head = b"conn %d msg %d " % (c, m)
    body = bytes(ord("a") + (c * 7 + m * 3 + i) % 26 for i in range(len(head), size))
    return (head + body)[:size]


def framed(c, msgs, size):
    """Connection c's whole stream one way: each message after its 4-byte length."""
    return b"".join(size.to_bytes(4, "big") + message(c, m, size) for m in range(msgs))


def streams(events, key):
    """{(key of the event's connection, direction): bytes}, chunks in call, offset order."""
    out = {}
    data = sorted((e for e in events if e["type"] == "data"), key=lambda e: (e["call"], e["offset"]))
    for e in data:
        k = (e[key], e["dir"])
        out[k] = out.get(k, b"") + base64.b64decode(e["data"])
    return out


def has_symtab(path):
    out = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True).stdout
    return ".symtab" in out


class GoTest(TracerTest):

    def gotls_server(self, shape, *args):
        p = self.spawn([GOTLS[shape], "server", "-cert", self.cert, "-key", self.key, *args],
                       stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        self.assertTrue(line.startswith("PORT "), line)
        return p, int(line.split()[1])

    def gotls_client(self, shape, port, *args):
        go = os.path.join(self.tmp, "go.%d" % len(self.procs))
        p = self.spawn([GOTLS[shape], "client", "-port", str(port), "-go", go, *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return p, go

    def run_pair(self, server_shape, client_shape, conns, msgs, size, *client_args,
                 tracer_args=(), server_args=()):
        """Our server and client, each traced by its PID (--json); returns the client's
        {conn index: local port} and both runs' events."""
        server, port = self.gotls_server(server_shape, *server_args)
        client, go = self.gotls_client(client_shape, port, "-conns", str(conns), "-msgs",
                                       str(msgs), "-size", str(size), *client_args)
        srun = self.tracer(server.pid, "--json", *tracer_args)
        crun = self.tracer(client.pid, "--json", *tracer_args)
        srun.wait_ready()
        crun.wait_ready()
        open(go, "w").close()
        out, err = client.communicate(timeout=120)
        self.assertEqual(client.returncode, 0, err)
        self.assertEqual(crun.wait_exit(), 0, crun.stderr())
        self.interrupt(srun)
        ports = {int(m.group(1)): int(m.group(2)) for m in re.finditer(r"CONN (\d+) PORT (\d+)", out)}
        self.assertEqual(len(ports), conns, out)
        return ports, port, json_lines(srun), json_lines(crun), srun, crun

    def assert_exact(self, ports, port, sevents, cevents, msgs, size):
        """Every byte of each connection in the right direction, on that connection's
        4-tuple, in the client (writes = requests) and the server (reads = requests)."""
        for events, side in ((cevents, "client"), (sevents, "server")):
            data = [e for e in events if e["type"] == "data"]
            self.assertTrue(data, side)
            for e in data:
                self.assertEqual(e["func"], WRITE if e["dir"] == "write" else READ, e)
                self.assertEqual((e["family"], e["laddr"], e["raddr"]),
                                 ("ipv4", "127.0.0.1", "127.0.0.1"), e)
                self.assertEqual(e["rport" if side == "client" else "lport"], port, e)
            summary = events[-1]
            self.assertEqual((summary["bytes_lost"], summary["bytes_truncated"],
                              summary["calls_without_conn"], summary["events_lost"]),
                             (0, 0, 0, 0), summary)
        cstreams = streams(cevents, "lport")
        sstreams = streams(sevents, "rport")
        for c, lport in ports.items():
            want = framed(c, msgs, size)
            for got, what in ((cstreams.get((lport, "write"), b""), "client writes"),
                              (cstreams.get((lport, "read"), b""), "client reads"),
                              (sstreams.get((lport, "read"), b""), "server reads"),
                              (sstreams.get((lport, "write"), b""), "server writes")):
                self.assertEqual(hashlib.sha256(got).hexdigest(),
                                 hashlib.sha256(want).hexdigest(),
                                 "%s of conn %d (port %d): %d bytes, want %d"
                                 % (what, c, lport, len(got), len(want)))

    # --- our own programs ---------------------------------------------------------------

    def test_our_builds_are_what_they_claim(self):
        self.assertTrue(has_symtab(GOTLS["sym"]))
        for shape in ("pie", "static", "noinline"):
            self.assertFalse(has_symtab(GOTLS[shape]), shape)
        def readelf(*args):
            return subprocess.run(["readelf", *args], capture_output=True, text=True,
                                  check=True).stdout

        self.assertRegex(readelf("-h", GOTLS["pie"]), r"Type: +DYN")  # position-independent
        self.assertRegex(readelf("-h", GOTLS["static"]), r"Type: +EXEC")
        self.assertNotIn("INTERP", readelf("-l", GOTLS["static"]))  # no dynamic loader
        self.assertIn("INTERP", readelf("-l", GOTLS["sym"]))  # cgo: libc, dynamically

    def test_one_mebibyte_messages_sha256_exact_stripped_pie_and_static(self):
        # 1 MiB writes while 16 KiB reads stream in: room for a few MiB in flight, which a
        # slow consumer (JSON under AddressSanitizer) drains behind (issue 25's defaults)
        ports, port, sev, cev, _, _ = self.run_pair("pie", "static", 2, 2, 1 << 20,
                                                    tracer_args=("--perf-pages", "4096"))
        self.assert_exact(ports, port, sev, cev, 2, 1 << 20)

    def test_many_goroutines_at_once_with_symbols_and_stripped(self):
        ports, port, sev, cev, _, _ = self.run_pair("static", "sym", 24, 10, 3000)
        self.assert_exact(ports, port, sev, cev, 10, 3000)
        # reads and writes ran on many threads: goroutines, not threads, are the key
        self.assertGreater(len({e["tid"] for e in sev if e["type"] == "data"}), 1)

    def test_hellos_at_both_ends_on_each_connection(self):
        """Go's handshake reads and writes outside any probed call: each of four connections
        still has its hellos at both ends, the client's ClientHello (server name go.test,
        ALPN h2, http/1.1) sent by the client and received by the server, the server's
        ServerHello the other way, on that connection's 4-tuple."""
        ports, port, sev, cev, _, _ = self.run_pair("static", "pie", 4, 1, 100, "-sni",
                                                    "go.test", "-alpn", "h2,http/1.1")
        self.assert_exact(ports, port, sev, cev, 1, 100)
        for events, lport_key, sent, got in ((cev, "lport", "client", "server"),
                                             (sev, "rport", "server", "client")):
            hellos = [e for e in events if e["type"] == "hello"]
            by = {(h[lport_key], h["side"], h["dir"]): h for h in hellos}
            self.assertEqual(len(by), len(hellos), hellos)
            self.assertEqual(sorted(by), sorted((p, s, d) for p in ports.values() for s, d
                                                in ((sent, "write"), (got, "read"))), hellos)
            for h in hellos:
                if h["side"] == "client":
                    self.assertEqual((h["server_name"], h["alpn"], h["version"]),
                                     ("go.test", ["h2", "http/1.1"], "TLSv1.3"), h)
                else:
                    self.assertEqual((h["version"], h["complete"]), ("TLSv1.3", True), h)
                    self.assertTrue(h["cipher"].startswith("TLS_"), h)
            data = [e for e in events if e["type"] == "data"]
            self.assertEqual({e.get("sni") for e in data}, {"go.test"})

    def test_certificates_at_both_ends_on_each_connection(self):
        """A Go server presenting a chain (its certificate, then the CA's) asks the Go
        client for one: on each of two connections the client's check of the server's
        chain (verifyServerCertificate) shows both, leaf first, and the server's check of
        the client's (processCertsFromClient, its chain on the stack) shows the client's,
        each field as openssl x509 says."""
        f = self.make_chain()
        ports, port, sev, cev, _, _ = self.run_pair(
            "static", "pie", 2, 1, 100, "-cert", f["cli.pem"], "-key", f["cli.key"],
            server_args=("-cert", f["chain.pem"], "-key", f["srv.key"], "-ask"))
        self.assert_exact(ports, port, sev, cev, 1, 100)
        for events, lport_key, chain in ((cev, "lport", [("server", "srv.pem"),
                                                         ("server", "ca.pem")]),
                                         (sev, "rport", [("client", "cli.pem")])):
            certs = [e for e in events if e["type"] == "certificate"]
            for lport in ports.values():
                mine = [c for c in certs if c[lport_key] == lport]
                self.assertEqual([(c["side"], c["depth"]) for c in mine],
                                 [(side, d) for d, (side, _) in enumerate(chain)], certs)
                for cert, (_, pem) in zip(mine, chain):
                    self.assert_cert_is(cert, f[pem])
            self.assertEqual(len(certs), len(chain) * len(ports), certs)

    def test_moving_stacks_while_calls_are_in_flight(self):
        """Each message is sent from a new goroutine at a random depth while the collector
        shrinks stacks: stacks grow and move inside Write and Read. The client checks every
        echo (exit 0) and every byte is captured."""
        ports, port, sev, cev, _, _ = self.run_pair("sym", "pie", 8, 40, 5000, "-deep")
        self.assert_exact(ports, port, sev, cev, 40, 5000)

    def list_probes(self, pid, *args):
        r = subprocess.run([TRACER, "--list-probes", *args, str(pid)], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def assert_sites(self, out, path, writes):
        """--list-probes rows of a Go program whose Write and Read are probed at their call
        sites alone: `writes` calls of writeRecordLocked in Write, Read's one copy, each an
        emulated call instruction; no entry or return probe."""
        rows = [l for l in out.splitlines() if re.search(r"crypto/tls\.\(\*Conn\)\.(Write|Read) ", l)]
        w = [l for l in rows if re.search(r"Write sites +0x[0-9a-f]+ +probe_site_go_write ", l)]
        r = [l for l in rows if re.search(r"Read sites +0x[0-9a-f]+ +probe_site_go_read ", l)]
        self.assertEqual((len(w), len(r), len(rows)), (writes, 1, writes + 1), out)
        for l in rows:
            self.assertTrue(l.startswith(path), l)
            self.assertRegex(l, r" required +call 0x[0-9a-f]+ +emulated +(?:\d+\.\d \u00b5s|\?) +pclntab: ")
        for l in w:
            self.assertTrue(l.rstrip().endswith(
                "call of writeRecordLocked with record type 23 (application data)"), l)
        self.assertRegex(r[0], r"memmove out of c\.input into b \(the \*Conn at "
                               r"\[rsp\+0x[0-9a-f]+\]\)$")

    def test_list_probes_shows_one_emulated_call_site_per_call(self):
        server, _ = self.gotls_server("pie")
        r = self.list_probes(server.pid)
        # Go 1.19's Write calls writeRecordLocked twice (the second for TLS 1.0's 1/n-1 split)
        self.assert_sites(r.stdout, os.path.realpath(GOTLS["pie"]), 2)
        # the two checks of a peer's chain, at their entry's emulated branch
        for func, prog in (("verifyServerCertificate", "server"),
                           ("processCertsFromClient", "client")):
            self.assertRegex(r.stdout, r"crypto/tls\.\(\*Conn\)\.%s +entry +0x[0-9a-f]+ +"
                                       r"probe_entry_go_%s_certs +optional +jbe 0x[0-9a-f]+ +"
                                       r"emulated " % (func, prog))

    def test_code_another_tracer_probes_is_read_as_the_file_has_it(self):
        """A tracer with --all puts its breakpoints into every executable-capable mapping of
        the program's file, a reader's too: a second tracer must still find the program's
        functions and their call sites (it reads code from the file, not a mapping)."""
        server, _ = self.gotls_server("pie")
        first = self.tracer(None, "--all", "-c", "nomatch")
        first.wait_ready()
        wait_for(lambda: "gotls_pie" in first.stderr(), 20, "the first tracer's probes")
        r = self.list_probes(server.pid, "-v")
        self.assertNotIn("not recognised", r.stderr)
        self.assertNotIn("not probing Go function", r.stderr)
        self.assert_sites(r.stdout, os.path.realpath(GOTLS["pie"]), 2)

    def test_read_not_recognised_falls_back_to_entry_and_returns_and_says_so(self):
        """crypto/tls built without inlining: Read calls bytes.(*Reader).Read, a layout the
        call sites do not cover. -v says so; Read is probed at its entry (the stack check's
        emulated branch) and each return; Write keeps its call sites; every byte is caught,
        stacks moving."""
        server, _ = self.gotls_server("noinline")
        r = self.list_probes(server.pid, "-v")
        self.assertRegex(r.stderr, r"Go function 'crypto/tls\.\(\*Conn\)\.Read' in '[^']*gotls_"
                                   r"noinline' \([^)]*go\.spec:\d+\): call sites not recognised "
                                   r"\(it calls bytes\.\(\*Reader\)\.Read \(a build without "
                                   r"inlining\)\); probed at its entry and returns instead")
        rows = [l for l in r.stdout.splitlines()
                if re.search(r"crypto/tls\.\(\*Conn\)\.(Write|Read) ", l)]
        entries = [l for l in rows if re.search(r"Read entry +0x[0-9a-f]+ +probe_entry_go_read +"
                                                r"fallback +jbe 0x[0-9a-f]+ +emulated +(?:\d+\.\d \u00b5s|\?) +"
                                                r"pclntab$", l)]
        rets = [l for l in rows if re.search(r"Read returns +0x[0-9a-f]+ +probe_return_go +"
                                             r"fallback +ret +single-stepped +(?:\d+\.\d \u00b5s|\?) +"
                                             r"pclntab$", l)]
        writes = [l for l in rows if re.search(r"Write sites .* emulated +(?:\S+ \u00b5s|\?) +pclntab: call of "
                                               r"writeRecordLocked", l)]
        self.assertEqual((len(entries), len(writes)), (1, 2), r.stdout)
        self.assertGreaterEqual(len(rets), 2, r.stdout)
        self.assertEqual(len(rows), len(entries) + len(rets) + len(writes), r.stdout)
        ports, port, sev, cev, _, _ = self.run_pair("noinline", "noinline", 6, 30, 5000, "-deep")
        self.assert_exact(ports, port, sev, cev, 30, 5000)

    def test_entry_and_returns_catch_what_the_call_sites_catch(self):
        """The same programs with specs holding no `sites` lines (a user's copy): the
        fallback lines stand in for every Go program, and the bytes are the same, 1 MiB
        messages and moving stacks included."""
        specs = os.path.join(self.tmp, "specs")
        os.mkdir(specs)
        src = os.path.join(harness.HERE, "../../probe_specs")
        for name in os.listdir(src):
            with open(os.path.join(src, name)) as f:
                lines = [l for l in f if not re.match(r"@go\s+\S+\s+sites\s", l)]
            with open(os.path.join(specs, name), "w") as f:
                f.writelines(lines)
        server, _ = self.gotls_server("static")
        r = self.list_probes(server.pid, "--probe-specs", specs)
        self.assertNotIn(" sites ", r.stdout)
        self.assertEqual(len(re.findall(r"(?m) entry +0x[0-9a-f]+ +probe_entry_go_\S+ +fallback +"
                                        r"jbe ", r.stdout)), 2, r.stdout)
        args = ("--probe-specs", specs, "--perf-pages", "4096")
        ports, port, sev, cev, _, _ = self.run_pair("pie", "static", 2, 2, 1 << 20,
                                                    tracer_args=args)
        self.assert_exact(ports, port, sev, cev, 2, 1 << 20)
        ports, port, sev, cev, _, _ = self.run_pair("sym", "static", 6, 30, 5000, "-deep",
                                                    tracer_args=args)
        self.assert_exact(ports, port, sev, cev, 30, 5000)

    def test_all_traces_every_go_program(self):
        """--all: every process that runs the program is traced; the first to run it exits at
        once (it may be gone before its probes are attached, which then go on the file by
        its own path for the processes that run it later)."""
        run = self.tracer(None, "--all", "-c", "gotls_static", "--json")
        run.wait_ready()
        self.assertEqual(subprocess.run([GOTLS["static"]], capture_output=True).returncode, 2)
        wait_for(lambda: "loaded TLS code: '%s'" % os.path.realpath(GOTLS["static"])
                 in run.stderr(), 20, "gotls_static's probes")
        server, port = self.gotls_server("static")
        client, go = self.gotls_client("static", port, "-conns", "2", "-msgs", "3", "-size",
                                       "700")
        open(go, "w").close()
        out, err = client.communicate(timeout=60)
        self.assertEqual(client.returncode, 0, err)
        wait_for(lambda: run.stdout().count('"type":"data"') >= 24, 20, "24 data events")
        self.interrupt(run)
        events = json_lines(run)
        pids = {e["pid"] for e in events if e["type"] == "data"}
        self.assertEqual(pids, {server.pid, client.pid})
        ports = {int(m.group(1)): int(m.group(2)) for m in re.finditer(r"CONN (\d+) PORT (\d+)", out)}
        cev = [e for e in events if e.get("pid") == client.pid or e["type"] == "summary"]
        sev = [e for e in events if e.get("pid") == server.pid or e["type"] == "summary"]
        self.assert_exact(ports, port, sev, cev, 3, 700)

    # --- Debian's caddy and hey (Go 1.19, stripped) -----------------------------------------

    def caddy(self, body="hello from caddy\n"):
        """Debian's caddy serving HTTPS (HTTP/1.1 and HTTP/2) with the test certificate on
        127.0.0.1; returns (process, port) once it accepts."""
        port = self.free_port()
        config = {
            "admin": {"disabled": True},
            "apps": {
                "http": {"servers": {"s": {
                    "listen": ["127.0.0.1:%d" % port],
                    "routes": [{"handle": [{"handler": "static_response", "body": body,
                                            "status_code": 200}]}],
                    "tls_connection_policies": [{"default_sni": "localhost"}],
                    "automatic_https": {"disable": True}}}},
                "tls": {"certificates": {"load_files": [{"certificate": self.cert,
                                                         "key": self.key}]}}}}
        path = os.path.join(self.tmp, "caddy.json")
        with open(path, "w") as f:
            json.dump(config, f)
        env = dict(os.environ, HOME=self.tmp, XDG_DATA_HOME=os.path.join(self.tmp, "data"),
                   XDG_CONFIG_HOME=os.path.join(self.tmp, "config"))
        p = self.spawn([CADDY, "run", "--config", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=env)
        self.wait_listening(port, p)
        return p, port

    def test_hey_and_caddy_every_request_and_response_on_its_connection(self):
        """caddy traced by its PID (with --http); hey, which starts sending within milliseconds of its
        exec (before a tracer following it could attach), traced with --all: a first hey
        run makes the tracer probe /usr/bin/hey for every process, so the second hey is
        traced from its first instruction."""
        caddy, port = self.caddy("pong from caddy\n")
        body = "request-body-0123456789"
        # hey names the server "localhost" (-host): it otherwise sends "127.0.0.1:PORT" as SNI
        hey_args = ["-m", "POST", "-d", body, "-host", "localhost", "https://127.0.0.1:%d/" % port]
        srun = self.tracer(caddy.pid, "--json", "--http")
        crun = self.tracer(None, "--all", "-c", "hey", "--json")
        srun.wait_ready()
        crun.wait_ready()
        subprocess.run([HEY, "-n", "1", "-c", "1", *hey_args], check=True, capture_output=True, timeout=30)
        wait_for(lambda: "loaded TLS code: '%s'" % HEY in crun.stderr(), 20, "hey's probes")
        hey = self.spawn([HEY, "-n", "200", "-c", "20", *hey_args], stdout=subprocess.PIPE)
        out = hey.communicate(timeout=60)[0].decode()
        self.assertEqual(hey.returncode, 0)
        self.assertIn("[200]\t200 responses", out)
        self.interrupt(crun)
        self.interrupt(srun)
        cev = [e for e in json_lines(crun) if e.get("pid") == hey.pid or e["type"] == "summary"]
        sev = json_lines(srun)  # (the first hey run's connections are not compared)
        hey_streams, caddy_streams = streams(cev, "lport"), streams(sev, "rport")
        lports = {e["lport"] for e in cev if e["type"] == "data"}
        # every connection caddy served, but the first hey run's one, is one of the second
        # hey's (up to 20: a connection Go dials while another comes free may go unused)
        served = {e["rport"] for e in sev if e["type"] == "data"}
        self.assertLessEqual(lports, served)
        self.assertEqual(len(served - lports), 1, (sorted(served), sorted(lports)))
        self.assertGreaterEqual(len(lports), 10)
        requests = responses = 0
        self.assertEqual([e for e in sev if e["type"] == "data" and "rport" not in e][:1], [],
                         sev[-1])
        for lport in lports:
            sent, got = hey_streams.get((lport, "write"), b""), hey_streams.get((lport, "read"), b"")
            self.assertEqual(sent, caddy_streams.get((lport, "read")), lport)
            self.assertEqual(got, caddy_streams.get((lport, "write")), lport)
            n = sent.count(b"POST / HTTP/1.1\r\n")
            self.assertEqual(n, sent.count(b"\r\n\r\n" + body.encode()), sent[:300])
            self.assertEqual(got.count(b"HTTP/1.1 200 OK\r\n"), n, got[:300])
            self.assertEqual(got.count(b"pong from caddy\n"), n)
            requests += n
            responses += got.count(b"HTTP/1.1 200 OK\r\n")
        self.assertEqual((requests, responses), (200, 200))
        # --http on caddy's side: each exchange decoded as HTTP/1.1, on hey's connections
        http = [e for e in sev if e["type"] == "http" and e["rport"] in lports]
        self.assertEqual(sorted((e["msg"], e["version"], e["method"], e["path"]) for e in http),
                         [("request", "1.1", "POST", "/")] * 200 +
                         [("response", "1.1", "POST", "/")] * 200)
        self.assertEqual({(e["status"], e["body_bytes"]) for e in http if e["msg"] == "response"},
                         {(200, len(b"pong from caddy\n"))})
        self.assertEqual({e["body_bytes"] for e in http if e["msg"] == "request"}, {len(body)})
        for events in (cev, sev):
            for e in (e for e in events if e["type"] == "data"):
                self.assertEqual((e["laddr"], e["raddr"]), ("127.0.0.1", "127.0.0.1"), e)
            # (a connection hey dials and closes unused may go unresolved: it has no data)
            summary = events[-1]
            self.assertEqual((summary["bytes_lost"], summary["calls_without_conn"]), (0, 0),
                             summary)
        for events, program in ((cev, HEY), (sev, CADDY)):
            calls = {l["path"]: l["calls"] for l in events[-1]["libraries"]}
            self.assertGreater(calls.get(program, 0), 0, calls)

    # --- esbuild from npm: Go 1.26 ----------------------------------------------------------

    def test_esbuild_go_1_26_every_request_and_response_on_its_connection(self):
        """esbuild from npm (Go 1.26, stripped, static) serving HTTPS. Go 1.26's function
        table no longer says where the code starts (the tracer reads it from the runtime's
        module data); its Write and Read are probed at their call sites. Each curl request
        and its response exact, on the connection that curl used."""
        self.assertFalse(has_symtab(ESBUILD))
        www = os.path.join(self.tmp, "www")
        os.mkdir(www)
        body = b"served by esbuild over TLS\n" * 40
        with open(os.path.join(www, "page.txt"), "wb") as f:
            f.write(body)
        port = self.free_port()
        # esbuild serves until its stdin closes
        esb = self.spawn([ESBUILD, "--serve=127.0.0.1:%d" % port, "--servedir=" + www,
                          "--certfile=" + self.cert, "--keyfile=" + self.key],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        self.wait_listening(port, esb)
        r = self.list_probes(esb.pid, "-v")
        self.assertIn("'%s' is a Go program" % os.path.realpath(ESBUILD), r.stderr)
        self.assert_sites(r.stdout, os.path.realpath(ESBUILD), 2)
        run = self.tracer(esb.pid, "--json")
        run.wait_ready()
        version = subprocess.run(["curl", "--version"], capture_output=True,
                                 text=True).stdout.split()[1]
        sent = {}
        for i in range(3):
            c = subprocess.run(["curl", "-sk", "--http1.1", "-o", "/dev/null", "-w",
                                "%{local_port} %{size_download}",
                                "https://127.0.0.1:%d/page.txt?i=%d" % (port, i)],
                               capture_output=True, text=True, timeout=30)
            lport, size = map(int, c.stdout.split())
            self.assertEqual(size, len(body))
            sent[lport] = ("GET /page.txt?i=%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: "
                           "curl/%s\r\nAccept: */*\r\n\r\n" % (i, port, version)).encode()
        wait_for(lambda: run.stdout().count('"type":"data"') >= 6, 20, "6 data events")
        self.interrupt(run)
        events = json_lines(run)
        got = streams(events, "rport")
        self.assertEqual({k for k in got}, {(p, d) for p in sent for d in ("read", "write")})
        for lport, request in sent.items():
            self.assertEqual(got[(lport, "read")], request)
            response = got[(lport, "write")]
            self.assertTrue(response.startswith(b"HTTP/1.1 200 OK\r\n"), response[:200])
            self.assertTrue(response.endswith(b"\r\n\r\n" + body), response[-200:])
        for e in (e for e in events if e["type"] == "data"):
            self.assertEqual((e["func"], e["lport"], e["laddr"], e["raddr"]),
                             (WRITE if e["dir"] == "write" else READ, port, "127.0.0.1",
                              "127.0.0.1"), e)
        summary = events[-1]
        self.assertEqual((summary["bytes_lost"], summary["calls_without_conn"],
                          summary["events_lost"]), (0, 0, 0), summary)

    def test_curl_http2_to_caddy_decoded_by_http(self):
        caddy, port = self.caddy()
        run = self.tracer(caddy.pid, "--json", "--http")
        run.wait_ready()
        r = subprocess.run(["curl", "-sk", "--http2", "-H", "x-test: go-h2",
                            "https://127.0.0.1:%d/hello?x=1" % port], capture_output=True,
                           timeout=30)
        self.assertEqual(r.stdout, b"hello from caddy\n")
        wait_for(lambda: '"msg":"response"' in run.stdout(), 20, "the HTTP/2 response record")
        self.interrupt(run)
        http = [e for e in json_lines(run) if e["type"] == "http"]
        req = [e for e in http if e["msg"] == "request"]
        resp = [e for e in http if e["msg"] == "response"]
        self.assertEqual(len(req), 1, http)
        self.assertEqual((req[0]["version"], req[0]["method"], req[0]["path"]),
                         ("2", "GET", "/hello?x=1"))
        self.assertIn(["x-test", "go-h2"], req[0]["headers"])
        self.assertEqual((resp[0]["version"], resp[0]["status"], resp[0]["body_bytes"]),
                         ("2", 200, len(b"hello from caddy\n")), (resp, run.stdout()[-3000:]))


if __name__ == "__main__":
    harness.main()
