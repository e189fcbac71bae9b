#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_connections.py - who talked to whom: every event's connection (fd, id, both ends,
checked against ss), call latency, handshakes, certificate verification results and
verification turned off, with curl (OpenSSL), wget over IPv6 (GnuTLS), h2load's 40
connections to nginx, and reads served from OpenSSL's buffer on a connection opened before
the tracer started."""
import base64
import calendar
import os
import re
import shutil
import signal
import subprocess
import time

import harness
from harness import PYTHON, TracerTest, json_lines

BODY = b"hello from the tracer test server\n"
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(BODY)) + BODY
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


# A client that connects and finishes its handshake before it waits for the go file (so
# the tracer starts on an open connection), then reads the answer 100 bytes a call: most
# reads are served from OpenSSL's buffer, with no syscall.
EARLY_CLIENT = """
import os, socket, ssl, sys, time
port, go, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile)
tls = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
print("CONNECTED %d" % tls.getsockname()[1], flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
tls.sendall(b"GET /big HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n")
got = b""
while True:
    chunk = tls.recv(100)
    if not chunk:
        break
    got += chunk
sys.stdout.write("GOT %d\\n" % len(got))
"""

# A client whose TLS message callback writes a line to a log file for every record, inside
# SSL_write and SSL_read (as curl -v writes to stderr): the log file is not the connection.
LOGGING_CLIENT = """
import os, socket, ssl, sys, time
port, go, cafile, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
while not os.path.exists(go):
    time.sleep(0.02)
ctx = ssl.create_default_context(cafile=cafile)
logf = open(log, "w", buffering=1)
ctx._msg_callback = lambda conn, direction, version, ctype, mtype, data: logf.write(
    "%s %s %d\\n" % (direction, ctype, len(data)))
tls = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
tls.sendall(b"GET /logged HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n")
got = b""
while True:
    chunk = tls.recv(65536)
    if not chunk:
        break
    got += chunk
sys.stdout.write("GOT %d\\n" % len(got))
"""

# An asyncio client (ssl.MemoryBIO under asyncio's streams: OpenSSL encrypts into memory,
# the event loop moves the records): once the go file exists, fetches each path of argv[4:]
# from https://127.0.0.1:argv[1], all at once on its one thread, each on its own connection,
# and prints the answers' lengths.
ASYNCIO_CLIENT = """
import asyncio, os, ssl, sys
port, go, cafile, paths = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
async def get(path):
    ctx = ssl.create_default_context(cafile=cafile)
    r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="localhost")
    w.write(b"GET %s HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n" % path.encode())
    got = await r.read()
    w.close()
    return got
async def main():
    while not os.path.exists(go):
        await asyncio.sleep(0.01)
    for got in await asyncio.gather(*(get(p) for p in paths)):
        print(len(got))
asyncio.run(main())
"""

# node's HTTPS server on 127.0.0.1 (its TLS on memory BIOs, in TLSWrap): prints "PORT n",
# answers each request with "node saw <path>".
NODE_SERVER = """
const https = require("https"), fs = require("fs");
const [cert, key] = process.argv.slice(1);
const s = https.createServer({cert: fs.readFileSync(cert), key: fs.readFileSync(key)},
                             (req, res) => res.end("node saw " + req.url + "\\n"));
s.listen(0, "127.0.0.1", () => console.log("PORT " + s.address().port));
"""

# node's client: once the file argv[2] exists, asks https://127.0.0.1:argv[1] for each path
# of argv[3:], all at once, each on a connection of its own; prints "<local port> <path>
# <body>" for each.
NODE_CLIENT = """
const https = require("https"), fs = require("fs");
const [port, go, ...paths] = process.argv.slice(1);
const get = p => new Promise((done, fail) => https.get(
  {host: "127.0.0.1", servername: "node.test", port, path: p, rejectUnauthorized: false,
   agent: false}, r => {
    let body = "";
    r.on("data", d => body += d);
    r.on("end", () => { console.log(r.socket.localPort, p, body.trim()); done(); });
  }).on("error", fail));
(async () => {
  while (!fs.existsSync(go)) await new Promise(r => setTimeout(r, 10));
  await Promise.all(paths.map(get));
})();
"""

# Three connections made and used before the tracer starts, kept open; then the fd of the
# first is closed and taken by a new connection, the fd of the second is replaced (dup2) by
# another, and the third is closed with close_range(2) and its fd taken by a new one: the
# new connections must not be taken for the old ones.
REUSING_CLIENT = """
import ctypes, os, socket, ssl, sys, time
port, go, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile)
def connect(sock=None):
    return ctx.wrap_socket(sock or socket.create_connection(("127.0.0.1", port)),
                           server_hostname="localhost")
def get(tls, path):
    tls.sendall(b"GET /%s HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n" % path)
    while tls.recv(65536):
        pass
old = []
for path in (b"a1", b"a2", b"a3"):  # one at a time: the server serves its connections in turn
    old.append(connect())
    get(old[-1], path)
print("OLD " + " ".join("%d %d" % (a.fileno(), a.getsockname()[1]) for a in old), flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
fds = [old[0].fileno(), old[1].detach(), old[2].detach()]
old[0].close()
b1 = connect()
get(b1, b"b1")
raw = socket.create_connection(("127.0.0.1", port))
os.dup2(raw.fileno(), fds[1])
raw.close()
b2 = connect(socket.socket(fileno=fds[1]))
get(b2, b"b2")
assert ctypes.CDLL(None, use_errno=True).close_range(fds[2], fds[2], 0) == 0
b3 = connect()
get(b3, b"b3")
new = [b1, b2, b3]
assert [b.fileno() for b in new] == fds, ([b.fileno() for b in new], fds)
print("NEW " + " ".join("%d" % b.getsockname()[1] for b in new), flush=True)
time.sleep(1)  # open long enough to be looked up: only the old sockets were looked up early
"""

# Connections at once from one process, one thread each: once the go file argv[1] exists,
# for each HOST:PORT:NAME of argv[2:], a GET of /NAME from HOST:PORT asking for server
# name NAME.test; prints "LPORT NAME PORT" as each connects.
NAMED_CLIENTS = """
import os, socket, ssl, sys, threading, time
go = sys.argv[1]
while not os.path.exists(go):
    time.sleep(0.02)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
said = threading.Lock()  # print() writes the line and its newline apart: one at a time
def get(host, port, path):
    tls = ctx.wrap_socket(socket.create_connection((host, port)),
                          server_hostname=path + ".test")
    with said:
        print("LPORT %s %d" % (path, tls.getsockname()[1]), flush=True)
    tls.sendall(b"GET /%s HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n" % path.encode())
    while tls.recv(65536):
        pass
    tls.close()
t = [threading.Thread(target=get, args=(h, int(p), n)) for h, p, n in
     (a.rsplit(":", 2) for a in sys.argv[2:])]
for x in t:
    x.start()
for x in t:
    x.join()
"""


# Once the go file exists, GETs twice from 127.0.0.1:argv[1], the second time resuming the
# first connection's session; prints whether each was resumed.
RESUMING_CLIENT = """
import socket, ssl, sys
port = int(sys.argv[1])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
session = None
for _ in range(2):
    tls = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                          server_hostname="resume.test", session=session)
    tls.sendall(b"GET /again HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n")
    while tls.recv(65536):
        pass
    print(tls.session_reused, flush=True)
    session = tls.session
    tls.close()
"""


def payload(events, direction):
    return b"".join(base64.b64decode(e["data"]) for e in events
                    if e["type"] == "data" and e["dir"] == direction)


class ConnectionTest(TracerTest):

    def waiting(self, argv):
        """Starts argv once a go file exists (bash waits for it, then execs argv): the tracer
        attaches to the PID first. Returns (process, go file)."""
        go = os.path.join(self.tmp, "go.%d" % len(self.procs))
        script = 'while [ ! -e "$0" ]; do sleep 0.02; done; exec "$@"'
        return self.spawn(["bash", "-c", script, go, *argv], stdout=subprocess.PIPE), go

    def ss_local_port(self, pid, port):
        """The local port of process pid's established connection to port (from ss)."""
        out = subprocess.run(["ss", "-Htnp", "state", "established", "( dport = :%d )" % port],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if "pid=%d," % pid in line:
                return int(line.split()[2].rsplit(":", 1)[1])
        return None

    def assert_connection(self, e, conn, family, laddr, lport, raddr, rport, events=()):
        """e is of connection `conn` with these ends; the failure shows the run's
        connection events (they say why addresses are missing)."""
        self.assertEqual((e["conn"], e["family"], e["laddr"], e["lport"], e["raddr"],
                          e["rport"]), (conn, family, laddr, lport, raddr, rport),
                         [e] + [c for c in events if c["type"] == "conn"])
        self.assertIsInstance(e["fd"], int, e)
        self.assertGreater(e["fd"], 2, e)

    def test_curl_events_carry_the_connection_ss_shows(self):
        server, port, _ = self.tls_server("--reply-file", os.path.join(self.tmp, "reply"))
        url = "https://127.0.0.1:%d/who" % port
        curl, go = self.waiting(["curl", "-sS", "--cacert", self.cert, "-A", "tracer-test",
                                 "-o", "/dev/null", url])
        run = self.tracer(curl.pid, "--json")
        run.wait_ready()
        open(go, "w").close()
        # The server holds its answer: curl's connection is open for ss to show.
        harness.wait_for(lambda: self.ss_local_port(curl.pid, port) is not None, 20,
                         "curl's connection in ss")
        lport = self.ss_local_port(curl.pid, port)
        open(os.path.join(self.tmp, "reply"), "w").close()
        self.assertEqual(curl.wait(timeout=20), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        events = json_lines(run)

        data = [e for e in events if e["type"] == "data"]
        self.assertTrue(data)
        conn = data[0]["conn"]
        self.assertIsInstance(conn, int)
        for e in data:
            self.assert_connection(e, conn, "ipv4", "127.0.0.1", lport, "127.0.0.1", port,
                                   events)
            self.assertGreater(e["latency_ns"], 0)
        self.assertEqual(payload(events, "write"),
                         b"GET /who HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: tracer-test"
                         b"\r\nAccept: */*\r\n\r\n" % port)
        self.assertEqual(payload(events, "read"), RESPONSE)

        handshakes = [e for e in events if e["type"] == "handshake"]
        self.assertEqual(len(handshakes), 1, handshakes)
        hs = handshakes[0]
        self.assertEqual((hs["func"], hs["ok"], hs["result"]), ("SSL_connect", True, 1))
        self.assertGreater(hs["latency_ns"], 0)
        self.assert_connection(hs, conn, "ipv4", "127.0.0.1", lport, "127.0.0.1", port)

        verify = [e for e in events if e["type"] == "verify"]
        self.assertEqual([(v["func"], v["result"], v["ok"], v["error"], v["conn"])
                          for v in verify],
                         [("SSL_get_verify_result", 0, True, "X509_V_OK", conn)])
        self.assertEqual([e for e in events if e["type"] == "verify_disabled"], [])

        # The connection opens before its first event and closes after its last.
        kinds = [(e["type"], e.get("event")) for e in events if e.get("conn") == conn]
        self.assertEqual(kinds[0], ("conn", "open"))
        self.assertEqual(kinds[-1], ("conn", "close"))
        self.assertEqual(events[-1]["type"], "summary")
        self.assertEqual((events[-1]["connections"], events[-1]["calls_without_conn"]), (1, 0))
        server.wait(timeout=10)

    def assert_every_data_event_on(self, events, port):
        """Every data event is on the one connection to 127.0.0.1:port, by a socket fd."""
        data = [e for e in events if e["type"] == "data"]
        self.assertTrue(data)
        conns = {e["conn"] for e in data}
        self.assertEqual(len(conns), 1, data)
        for e in data:
            self.assertEqual((e["family"], e["raddr"], e["rport"]), ("ipv4", "127.0.0.1", port),
                             [e] + [c for c in events if c["type"] == "conn"])
            self.assertGreater(e["fd"], 2, e)
        return data

    def test_curl_verbose_writes_to_stderr_are_not_its_connection(self):
        """curl -v writes to stderr inside SSL_write and SSL_read (its TLS message
        callback): each data event still has nginx's 4-tuple, in HTTP/1.1 and HTTP/2, and
        the HTTP/2 capture lets tshark decode the request's headers."""
        port = self.nginx_h2()
        for version in ("--http1.1", "--http2"):
            with self.subTest(version=version):
                cap = os.path.join(self.tmp, "verbose%s.pcapng" % version)
                go = os.path.join(self.tmp, "go%s" % version)
                with open(os.path.join(self.tmp, "curl%s.err" % version), "w") as err:
                    curl = self.spawn(
                        ["bash", "-c", 'while [ ! -e "$0" ]; do sleep 0.02; done; exec "$@"',
                         go, "curl", "-v", version, "--cacert", self.cert, "-A",
                         "verbose-test", "-o", "/dev/null",
                         "https://127.0.0.1:%d/verbose" % port], stderr=err)
                run = self.tracer(curl.pid, "--json", "-w", cap)
                run.wait_ready()
                open(go, "w").close()
                self.assertEqual(curl.wait(timeout=20), 0)
                self.assertEqual(run.wait_exit(), 0, run.stderr())
                events = json_lines(run)
                self.assert_every_data_event_on(events, port)
                self.assertEqual(events[-1]["calls_without_conn"], 0)
                sent = payload(events, "write")
                if version == "--http1.1":
                    self.assertTrue(sent.startswith(b"GET /verbose HTTP/1.1\r\n"), sent)
                    self.assertIn(b"User-Agent: verbose-test\r\n", sent)
                    continue
                self.assertTrue(sent.startswith(H2_PREFACE), sent[:40])
                fields = subprocess.run(
                    ["tshark", "-r", cap, "-d", "tcp.port==%d,http2" % port, "-Y",
                     "http2.type == 1 && tcp.dstport == %d" % port, "-T", "fields", "-e",
                     "http2.header.name", "-e", "http2.header.value"],
                    capture_output=True, text=True, timeout=120, check=True).stdout
                self.assertIn(":path", fields)
                self.assertIn("/verbose", fields)
                self.assertIn("verbose-test", fields)

    def test_a_callback_writing_a_file_inside_ssl_calls_is_not_the_connection(self):
        """A TLS message callback that writes a log file for every record, inside SSL_write
        and SSL_read: the calls are on the socket, with its 4-tuple."""
        server, port, _ = self.tls_server()
        log = os.path.join(self.tmp, "records.log")
        go = os.path.join(self.tmp, "go.logging")
        client = self.spawn([PYTHON, "-c", LOGGING_CLIENT, str(port), go, self.cert, log],
                            stdout=subprocess.PIPE)
        self.wait_mapped(client.pid)
        run = self.tracer(client.pid, "--json")
        run.wait_ready()
        open(go, "w").close()
        self.assertEqual(client.wait(timeout=20), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        with open(log) as f:
            self.assertGreater(len(f.read().splitlines()), 4)  # the callback did write
        events = json_lines(run)
        self.assert_every_data_event_on(events, port)
        self.assertEqual(payload(events, "write"),
                         b"GET /logged HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertEqual(payload(events, "read"), RESPONSE)
        server.wait(timeout=10)

    def test_curl_insecure_warns_in_text(self):
        reply = os.path.join(self.tmp, "reply")
        _, port, _ = self.tls_server("--reply-file", reply)
        curl, go = self.waiting(["curl", "-sS", "-k", "-A", "tracer-test", "-o", "/dev/null",
                                 "https://127.0.0.1:%d/k" % port])
        run = self.tracer(curl.pid, "-l", "--handshake")
        run.wait_ready()
        open(go, "w").close()
        # The server holds its answer until curl's connection is up (ss shows it), so a
        # busy machine cannot end it before the tracer has looked its addresses up.
        harness.wait_for(lambda: self.ss_local_port(curl.pid, port) is not None, 20,
                         "curl's connection in ss")
        open(reply, "w").close()
        self.assertEqual(curl.wait(timeout=20), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        out = run.stdout()
        self.assertRegex(out, r"(?m)^FUNC +TIME\(s\) +COMM +PID +TID +LEN +LAT\(ms\)$")
        self.assertRegex(out, r"(?m)^SSL_CTX_set_verify +\d+\.\d{9} +curl +%d +%d +WARNING: "
                         r"certificate verification disabled \(mode 0, no SSL_VERIFY_PEER\)"
                         % (curl.pid, curl.pid))
        self.assertRegex(out, r"(?m)^SSL_connect +\d+\.\d{9} +curl +%d +%d +handshake ok in "
                         r"\d+\.\d{3} ms \(conn \d+\)$" % (curl.pid, curl.pid))
        # -k does not stop the check, only its verdict: the self-signed certificate fails it.
        self.assertRegex(out, r"(?m)^SSL_get_verify_result +.* verify FAILED: 18 "
                         r"X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT \(conn \d+\)$")
        events = run.events()
        self.assertEqual([e["func"] for e in events], ["SSL_write", "SSL_read"])
        self.assertEqual(events[1]["data"], RESPONSE)
        conn_lines = re.findall(r"(?m)^--- .* ---$", out)
        for e in events:
            self.assertRegex(e["local"] or "", r"^127\.0\.0\.1:\d+$", conn_lines)
            self.assertEqual(e["remote"], "127.0.0.1:%d" % port)
            self.assertIsNotNone(e["lat"])
        # One connection line, before the first row of that connection.
        self.assertEqual(len(re.findall(r"(?m)^--- conn ", out)), 1)

    def test_wget_over_ipv6_gnutls(self):
        _, port, _ = self.tls_server("--ipv6")
        wget, go = self.waiting(["wget", "-q", "--ca-certificate=" + self.cert, "-O",
                                 "/dev/null", "https://[::1]:%d/six" % port])
        run = self.trace_then_go(wget, go, "--json")
        events = json_lines(run)
        data = [e for e in events if e["type"] == "data"]
        self.assertTrue(data)
        conn, lport = data[0]["conn"], data[0]["lport"]
        self.assertIsInstance(lport, int)
        self.assertNotEqual(lport, port)
        for e in data:
            self.assertEqual(e["lib"].rsplit("/", 1)[1], "libgnutls.so.30")
            self.assert_connection(e, conn, "ipv6", "::1", lport, "::1", port, events)
        request = payload(events, "write")
        self.assertTrue(request.startswith(b"GET /six HTTP/1.1\r\n"), request)
        self.assertIn(b"\r\nHost: [::1]:%d\r\n" % port, request)
        self.assertEqual(payload(events, "read"), RESPONSE)
        hs = [e for e in events if e["type"] == "handshake"]
        self.assertEqual([(e["func"], e["ok"], e["result"], e["conn"]) for e in hs],
                         [("gnutls_handshake", True, 0, conn)])

    def test_h2load_40_connections_to_nginx(self):
        port = self.nginx_h2()
        h2load, go = self.waiting(["h2load", "-n", "400", "-c", "40",
                                   "https://127.0.0.1:%d/" % port])
        run = self.trace_then_go(h2load, go, "--json")
        self.assertIn(b"400 succeeded", h2load.stdout.read())
        events = json_lines(run)
        data = [e for e in events if e["type"] == "data"]
        by_conn = {}
        for e in data:
            self.assertIsInstance(e["conn"], int, e)
            self.assertEqual((e["family"], e["laddr"], e["raddr"], e["rport"]),
                             ("ipv4", "127.0.0.1", "127.0.0.1", port), e)
            by_conn.setdefault(e["conn"], []).append(e)
        self.assertEqual(len(by_conn), 40)
        self.assertEqual(len({es[0]["lport"] for es in by_conn.values()}), 40)
        for conn, es in by_conn.items():
            self.assertEqual(len({(e["fd"], e["lport"]) for e in es}), 1, conn)
            sent = payload(es, "write")
            self.assertTrue(sent.startswith(H2_PREFACE), sent[:40])
        hs = [e for e in events if e["type"] == "handshake"]
        self.assertEqual(sorted(e["conn"] for e in hs if e["ok"]), sorted(by_conn))
        opened = [e["conn"] for e in events if e["type"] == "conn" and e["event"] == "open"]
        closed = [e["conn"] for e in events if e["type"] == "conn" and e["event"] == "close"]
        self.assertEqual(sorted(opened), sorted(by_conn))
        self.assertEqual(sorted(closed), sorted(by_conn))
        summary = events[-1]
        self.assertEqual((summary["connections"], summary["connections_unresolved"],
                          summary["calls_without_conn"]), (40, 0, 0))

    def test_buffered_reads_on_a_connection_older_than_the_tracer(self):
        """A client connected before the tracer started uses its connection and exits while
        the tracer is stopped (SIGSTOP): no lookup can be made then, yet the connection has
        its addresses, as the tracer looked the client's sockets up when it attached."""
        size = 20000
        _, port, _ = self.tls_server("--body-size", str(size))
        go = os.path.join(self.tmp, "go.client")
        client = self.spawn([PYTHON, "-c", EARLY_CLIENT, str(port), go, self.cert],
                            stdout=subprocess.PIPE, text=True)
        line = client.stdout.readline()
        self.assertTrue(line.startswith("CONNECTED "), line)
        lport = int(line.split()[1])
        run = self.tracer(client.pid, "--json")
        run.wait_ready()
        os.kill(run.proc.pid, signal.SIGSTOP)
        try:
            open(go, "w").close()
            self.assertEqual(client.wait(timeout=20), 0)
        finally:
            os.kill(run.proc.pid, signal.SIGCONT)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        events = json_lines(run)
        reads = [e for e in events if e["type"] == "data" and e["dir"] == "read"]
        # 100 bytes a call: far more calls than the records (at most 16 KiB) that carried them.
        self.assertGreater(len(reads), size // 100)
        conn = reads[0]["conn"]
        self.assertIsInstance(conn, int)
        for e in events:
            if e["type"] == "data":
                self.assert_connection(e, conn, "ipv4", "127.0.0.1", lport, "127.0.0.1", port,
                                       events)
        body = payload(events, "read").partition(b"\r\n\r\n")[2]
        pattern = b"0123456789abcdefghijklmnopqrstuvwxyz\n"
        self.assertEqual(body, (pattern * (size // len(pattern) + 1))[:size])
        summary = events[-1]
        self.assertEqual((summary["connections"], summary["connections_unresolved"],
                          summary["calls_without_conn"]), (1, 0, 0))

    def test_asyncio_memory_bios_on_one_thread(self):
        """Python's asyncio runs TLS on memory BIOs: no socket syscall inside a call. Four
        connections at once on one thread: each session tied to its own socket by what its
        thread read before its handshake and read calls, each request and response exact
        on its 4-tuple, none on another's."""
        port, log = self.record_server()
        paths = ["/asyncio/%d" % i for i in range(4)]
        go = os.path.join(self.tmp, "go.asyncio")
        client = self.spawn([PYTHON, "-c", ASYNCIO_CLIENT, str(port), go, self.cert, *paths],
                            stdout=subprocess.PIPE, text=True)
        run = self.trace_then_go(client, go, "--json")
        records = json_lines(run)
        served = harness.served(log)
        harness.assert_on_connections(self, records, client.pid, served, paths, port)
        self.assertEqual(records[-1]["calls_without_conn"], 0)
        self.assertEqual(records[-1]["connections"], 4)

    def test_node_to_node_both_ends(self):
        """node (TLSWrap: memory BIOs) talks to node, both traced: six requests at once, each
        on its own connection. Each request and answer exact on its 4-tuple at both ends
        (the client's write and the server's read of it on the same two ports), none on
        another's: node's handshakes and writes interleave on one thread."""
        node = shutil.which("node")
        self.assertIsNotNone(node, "node is not installed")
        server = self.spawn([node, "-e", NODE_SERVER, self.cert, self.key],
                            stdout=subprocess.PIPE, text=True)
        port = int(server.stdout.readline().split()[1])
        paths = ["/both-ends/%d" % i for i in range(6)]
        go = os.path.join(self.tmp, "go.node")
        client = self.spawn([node, "-e", NODE_CLIENT, str(port), go, *paths],
                            stdout=subprocess.PIPE, text=True)
        run = self.tracer([server.pid, client.pid], "--json")
        run.wait_ready()
        open(go, "w").close()
        self.assertEqual(client.wait(timeout=30), 0)
        lports = {}
        for line in client.stdout.read().splitlines():
            lport, path, body = line.split(" ", 2)
            self.assertEqual(body, "node saw %s" % path)
            lports[path] = int(lport)
        self.assertEqual(sorted(lports), paths)
        harness.wait_for(lambda: len([r for r in json_lines(run) if r["type"] == "data"])
                         >= 4 * len(paths), 20, "both ends' calls")
        self.interrupt(run)
        records = json_lines(run)
        flows = harness.Flows(records)
        for path, lport in lports.items():
            client_end, server_end = flows.get(lport, port), flows.get(port, lport)
            self.assertTrue(client_end and server_end, path)
            asked, answered = client_end["write"], client_end["read"]
            self.assertTrue(asked.startswith(b"GET %s HTTP/1.1\r\n" % path.encode()),
                            (path, asked))
            self.assertTrue(answered.startswith(b"HTTP/1.1 200 OK\r\n") and
                            answered.endswith(b"\r\n\r\nnode saw %s\n" % path.encode()),
                            (path, answered))
            # each end's bytes, whole, are what the other end saw on the same two ports
            self.assertEqual((client_end["pid"], server_end["pid"]), (client.pid, server.pid))
            self.assertEqual((server_end["read"], server_end["write"]), (asked, answered), path)
        self.assertEqual(records[-1]["calls_without_conn"], 0)
        # node writes its hellos after its calls, as its data, and reads the peer's before
        # them: each connection has its own, sent and received
        hellos = [r for r in records if r["type"] == "hello"]
        conns = {(r["pid"], r["conn"]): (r["lport"], r["rport"]) for r in records
                 if r["type"] == "data"}
        at_client = (client.pid, {(l, port) for l in lports.values()})
        at_server = (server.pid, {(port, l) for l in lports.values()})
        for side, direction, (pid, ports) in (("client", "write", at_client),
                                              ("client", "read", at_server),
                                              ("server", "write", at_server),
                                              ("server", "read", at_client)):
            mine = [h for h in hellos if h["side"] == side and h["dir"] == direction]
            self.assertEqual(sorted(conns.get((h["pid"], h["conn"])) for h in mine),
                             sorted(ports), (side, direction))
            self.assertEqual({h["pid"] for h in mine}, {pid}, (side, direction))
            self.assertEqual({h["version"] for h in mine}, {"TLSv1.3"}, (side, direction))
        self.assertEqual({h["server_name"] for h in hellos if h["side"] == "client"},
                         {"node.test"})
        self.assertEqual(len({h["cipher"] for h in hellos if h["side"] == "server"}), 1)

    def test_hellos_name_the_server_the_protocols_and_the_suite(self):
        """curl (OpenSSL) against Python's server, both traced: curl's ClientHello gives the
        server name it asked for and the protocols it offered, the server's ServerHello the
        version and suite chosen (TLS 1.3, then TLS 1.2 with its ALPN answer), each on the
        connection its data is on, at both ends: sent by one, received (in two reads, the
        record's header then its body) by the other, saying the same; both ends' records
        carry the server name."""
        server, port, _ = self.tls_server("--count", "2", "--alpn", "http/1.1")
        for tls_max, version, cipher in (("1.3", "TLSv1.3", "TLS_AES_256_GCM_SHA384"),
                                         ("1.2", "TLSv1.2",
                                          "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")):
            with self.subTest(tls_max=tls_max):
                url = "https://api.test:%d/hello" % port
                curl, go = self.waiting(["curl", "-sk", "--http1.1", "--tls-max", tls_max,
                                         "--resolve", "api.test:%d:127.0.0.1" % port, url])
                run = self.tracer([server.pid, curl.pid], "--json")
                run.wait_ready()
                open(go, "w").close()
                self.assertEqual(curl.wait(timeout=20), 0)
                harness.wait_for(lambda: sum(r["type"] == "data" for r in json_lines(run)) >= 4,
                                 20, "both ends' calls")
                self.interrupt(run)
                records = json_lines(run)
                sent = {r["side"]: r for r in records if r["type"] == "hello"
                        and r["dir"] == "write"}
                got = {r["side"]: r for r in records if r["type"] == "hello"
                       and r["dir"] == "read"}
                self.assertEqual((sorted(sent), sorted(got)),
                                 (["client", "server"], ["client", "server"]), records)
                client, srv = sent["client"], sent["server"]
                self.assertEqual((client["pid"], srv["pid"]), (curl.pid, server.pid))
                self.assertEqual((got["client"]["pid"], got["server"]["pid"]),
                                 (server.pid, curl.pid))
                # what each end received is what the other sent, on its own connection
                what = ("side", "version", "server_name", "alpn", "ech", "cipher", "resumed",
                        "retry", "complete")
                for side in ("client", "server"):
                    self.assertEqual({k: got[side].get(k) for k in what},
                                     {k: sent[side].get(k) for k in what}, side)
                self.assertEqual(got["client"]["conn"], srv["conn"])
                self.assertEqual(got["server"]["conn"], client["conn"])
                self.assertEqual((client["server_name"], client["alpn"], client["version"],
                                  client["complete"], client["ech"]),
                                 ("api.test", ["http/1.1"], version, True, False))
                self.assertEqual((srv["version"], srv["cipher"], srv["resumed"], srv["complete"]),
                                 (version, cipher, False, True))
                # TLS 1.3 sends the server's ALPN answer encrypted; TLS 1.2 in its hello
                self.assertEqual(srv["alpn"], "http/1.1" if version == "TLSv1.2" else None)
                data = [r for r in records if r["type"] == "data"]
                mine = [r for r in data if r["pid"] == curl.pid]
                self.assertEqual({r["conn"] for r in mine}, {client["conn"]})
                self.assertEqual({r.get("sni") for r in mine}, {"api.test"})
                self.assertEqual({(r["conn"], r["rport"]) for r in data if r["pid"] == server.pid},
                                 {(srv["conn"], client["lport"])})
                # the server's records carry the name its client asked for
                self.assertEqual({r.get("sni") for r in data if r["pid"] == server.pid},
                                 {"api.test"})

    def test_curl_http2_and_nginx_hellos_at_both_ends(self):
        """curl asking nginx for HTTP/2, both traced: curl's ClientHello offers h2 and
        http/1.1 for h2.test, and nginx receives it (OpenSSL reads the record's
        header, then its body, inside SSL_do_handshake); nginx's ServerHello, sent and
        received, says the same at both ends (TLS 1.2: the ALPN answer h2 in clear);
        nginx's records carry the name."""
        port = self.nginx_h2()
        nginx = self.procs[-1]
        curl, go = self.waiting(["curl", "-sk", "--http2", "--resolve",
                                 "h2.test:%d:127.0.0.1" % port, "https://h2.test:%d/" % port])
        run = self.tracer([nginx.pid, curl.pid], "--json")
        run.wait_ready()
        open(go, "w").close()
        self.assertEqual(curl.wait(timeout=20), 0)
        self.assertEqual(curl.stdout.read(), b"hello from nginx\n")
        harness.wait_for(lambda: sum(r["type"] == "data" and r["pid"] != curl.pid
                                     for r in json_lines(run)) >= 2, 20, "nginx's calls")
        self.interrupt(run)
        records = json_lines(run)
        hellos = {}
        for h in (r for r in records if r["type"] == "hello"):
            key = ("curl" if h["pid"] == curl.pid else "nginx", h["side"], h["dir"])
            self.assertNotIn(key, hellos, records)
            hellos[key] = h
        self.assertEqual(sorted(hellos), [("curl", "client", "write"), ("curl", "server", "read"),
                                          ("nginx", "client", "read"),
                                          ("nginx", "server", "write")], records)
        for where in ("curl", "nginx"):
            client = hellos[(where, "client", "write" if where == "curl" else "read")]
            self.assertEqual((client["server_name"], client["alpn"], client["version"]),
                             ("h2.test", ["h2", "http/1.1"], "TLSv1.3"), client)
            # Debian's nginx 1.22 speaks up to TLS 1.2, whose ServerHello answers ALPN
            server = hellos[(where, "server", "read" if where == "curl" else "write")]
            self.assertEqual((server["version"], server["alpn"], server["resumed"],
                              server["complete"]), ("TLSv1.2", "h2", False, True), server)
        self.assertEqual(hellos[("curl", "server", "read")]["cipher"],
                         hellos[("nginx", "server", "write")]["cipher"])
        worker = hellos[("nginx", "client", "read")]
        data = [r for r in records if r["type"] == "data" and r["pid"] == worker["pid"]]
        self.assertTrue(data)
        self.assertEqual({(r["conn"], r.get("sni")) for r in data},
                         {(worker["conn"], "h2.test")})

    def test_a_resumed_session_is_marked(self):
        """A Python client connects twice, the second time with the first session's ticket:
        the ServerHello it receives says resumed (TLS 1.3: a pre-shared key accepted) the
        second time only, when the server presents no certificate."""
        server, port, _ = self.tls_server("--count", "2")
        client, go = self.waiting([PYTHON, "-c", RESUMING_CLIENT, str(port)])
        run = self.tracer(client.pid, "--json")
        run.wait_ready()
        open(go, "w").close()
        self.assertEqual(client.wait(timeout=20), 0)
        self.assertEqual(client.stdout.read().split(), [b"False", b"True"])
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        records = json_lines(run)
        got = [h for h in records if h["type"] == "hello" and h["dir"] == "read"]
        self.assertEqual([(h["side"], h["version"], h["resumed"]) for h in got],
                         [("server", "TLSv1.3", False), ("server", "TLSv1.3", True)], records)
        self.assertEqual(len({h["conn"] for h in got}), 2)
        sent = [h for h in records if h["type"] == "hello" and h["dir"] == "write"]
        self.assertEqual([h["conn"] for h in sent], [h["conn"] for h in got])
        # the resumed session presented no certificate: the first connection's only
        certs = [r for r in records if r["type"] == "certificate"]
        self.assertEqual([(c["conn"], c["depth"], c["side"]) for c in certs],
                         [(got[0]["conn"], 0, "server")], records)

    def days_left(self, pem, since, until):
        """The whole days left until pem's notAfter (as the tracer rounds them) seen at any
        moment from since to until (Unix times): one value, or two across a day's turn."""
        said = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-enddate"],
                              capture_output=True, text=True, check=True).stdout
        end = calendar.timegm(time.strptime(said.strip().split("=", 1)[1],
                                            "%b %d %H:%M:%S %Y GMT"))
        return {int((end - t) // 86400) for t in (int(since), int(until) + 1)}

    def test_certificates_the_server_presented(self):
        """curl (OpenSSL) against Python's server presenting a chain made here: a record per
        certificate, the server's own first, each field as openssl x509 prints it, the key
        and the days left; the one ending in 10 days is warned of in text."""
        f = self.make_chain()
        for json in (True, False):
            with self.subTest(json=json):
                _, port, _ = self.tls_server("--cert", f["chain.pem"], "--key", f["srv.key"])
                curl, go = self.waiting(["curl", "-sk", "--resolve",
                                         "api.test:%d:127.0.0.1" % port,
                                         "https://api.test:%d/cert" % port])
                since = time.time()
                run = self.trace_then_go(curl, go, "--json" if json else "--handshake")
                days = self.days_left(f["srv.pem"], since, time.time())
                if not json:
                    row = r"Certificate +[0-9.]+ +curl +%d +%d +" % (curl.pid, curl.pid)
                    self.assertRegex(run.stdout(), row +
                                     r"server certificate 0: CN=api.test,O=Tracer Test,C=DE; "
                                     r"issuer CN=Tracer Test CA; DNS:api.test, DNS:\*.api.test, "
                                     r"IP Address:127.0.0.1; serial 1234ABCD; RSA 2048; valid "
                                     r"[0-9T:-]+Z to [0-9T:-]+Z; sha256 [0-9A-F:]{95} \(conn 1\)\n")
                    self.assertRegex(run.stdout(), row +
                                     r"WARNING: server certificate 0 CN=api.test,O=Tracer "
                                     r"Test,C=DE expires in (%s) days, on [0-9T:-]+Z "
                                     r"\(conn 1\)\n" % "|".join(map(str, days)))
                    self.assertTrue(days <= {9, 10}, days)  # made for 10 days, just now
                    continue
                certs = [r for r in json_lines(run) if r["type"] == "certificate"]
                self.assertEqual([(c["side"], c["depth"], c["conn"]) for c in certs],
                                 [("server", 0, 1), ("server", 1, 1)], certs)
                self.assert_cert_is(certs[0], f["srv.pem"])
                self.assert_cert_is(certs[1], f["ca.pem"])
                self.assertEqual((certs[0]["key"], certs[0]["expiring"]), ("RSA 2048", True))
                self.assertIn(certs[0]["days_left"], days)
                self.assertEqual((certs[1]["key"], certs[1]["san"], certs[1]["expiring"]),
                                 ("EC 256 prime256v1", [], False))
                self.assertEqual({c["sni"] for c in certs}, {"api.test"})

    def test_mutual_tls_shows_the_clients_certificate(self):
        """openssl s_server -Verify, traced, asks curl for a certificate: the one curl
        presents (client.test, signed by the test's CA) is the server's one record, side
        client. The CA is found in a hashed directory (-CApath) while verifying, inside the
        handshake: libcrypto parses it with the same function, which is not the peer's."""
        f = self.make_chain()
        capath = os.path.join(self.tmp, "capath")
        os.mkdir(capath)
        shutil.copy(f["ca.pem"], capath)
        subprocess.run(["openssl", "rehash", capath], check=True, capture_output=True)
        port = self.free_port()
        server = self.spawn(["openssl", "s_server", "-accept", str(port), "-cert", f["srv.pem"],
                             "-key", f["srv.key"], "-CApath", capath, "-Verify", "1",
                             "-www", "-quiet"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
        self.wait_listening(port, server)
        self.wait_mapped(server.pid)
        run = self.tracer(server.pid, "--json")
        run.wait_ready()
        since = time.time()
        subprocess.run(["curl", "-sk", "-o", "/dev/null", "--cert", f["cli.pem"], "--key",
                        f["cli.key"], "https://127.0.0.1:%d/" % port], check=True, timeout=20)
        harness.wait_for(lambda: any(r["type"] == "data" for r in json_lines(run)), 20,
                         "the server's calls")
        self.interrupt(run)
        certs = [r for r in json_lines(run) if r["type"] == "certificate"]
        self.assertEqual([(c["side"], c["depth"], c["subject"]) for c in certs],
                         [("client", 0, "CN=client.test")], certs)
        self.assert_cert_is(certs[0], f["cli.pem"])
        self.assertIn(certs[0]["days_left"], self.days_left(f["cli.pem"], since, time.time()))
        self.assertFalse(certs[0]["expiring"])

    def test_certificates_each_library_parsed(self):
        """The chain the server presents as GnuTLS (gnutls-cli with TLS 1.2, where GnuTLS
        parses the first certificate a second time: shown once; wget with TLS 1.3, where
        GnuTLS parses only the first in the handshake), NSS (tstclnt: libssl3 hands libnss3
        the DER between libnspr4's call and it) and node (OpenSSL linked in: its memory BIOs
        tie the certificates to the connection later) each parsed it: the server's own
        first, each field as openssl x509 prints it, on the client's one connection. node
        verifying a certificate presented alone looks its CA up on disk inside the
        handshake, with the same function (OpenSSL is inside node): that one is not shown."""
        f = self.make_chain()
        db = os.path.join(self.tmp, "nssdb")
        os.mkdir(db)
        subprocess.run(["certutil", "-N", "-d", "sql:" + db, "--empty-password"], check=True)
        req = os.path.join(self.tmp, "cert.req")
        with open(req, "wb") as out:
            out.write(b"GET /cert HTTP/1.0\r\n\r\n")
        # node traced from its start, its request made once the go file exists: a program
        # run later would race the tracer's look at its 100 MB executable
        get = ('const [port, mode, go] = process.argv.slice(1); (function wait() { '
               'if (!require("fs").existsSync(go)) return setTimeout(wait, 20); '
               'require("https").get("https://127.0.0.1:" + port + "/cert", '
               '{rejectUnauthorized: mode === "verify"}, '
               'r => { r.resume(); r.on("end", () => 0); }); })();')
        capath = os.path.join(self.tmp, "capath")
        os.mkdir(capath)
        shutil.copy(f["ca.pem"], capath)
        subprocess.run(["openssl", "rehash", capath], check=True, capture_output=True)
        node = shutil.which("node") or "node"
        clients = {
            "wget": ["wget", "-q", "-O", "/dev/null", "--no-check-certificate",
                     "https://127.0.0.1:{port}/cert"],
            "gnutls-cli": ["sh", "-c", 'exec gnutls-cli --insecure --priority '
                           'NORMAL:-VERS-TLS1.3 -p "$0" 127.0.0.1 </dev/null >/dev/null',
                           "{port}"],
            "tstclnt": ["sh", "-c", 'exec tstclnt -h 127.0.0.1 -p "$0" -d "$1" -o <"$2" '
                        '>/dev/null 2>&1', "{port}", "sql:" + db, req],
            "node": [node, "-e", get, "{port}", "insecure"],
            # the server's certificate alone: node finds the CA on disk as it verifies
            "node-verify": [node, "--use-openssl-ca", "-e", get, "{port}", "verify"],
        }
        for name, argv in clients.items():
            with self.subTest(client=name):
                pem = f["srv.pem" if name == "node-verify" else "chain.pem"]
                _, port, _ = self.tls_server("--cert", pem, "--key", f["srv.key"])
                argv = [str(port) if a == "{port}" else a.replace("{port}", str(port))
                        for a in argv]
                if name.startswith("node"):
                    go = os.path.join(self.tmp, "go." + name)
                    env = dict(os.environ, SSL_CERT_DIR=capath) if "verify" in argv else None
                    proc = self.spawn(argv + [go], env=env)
                else:
                    proc, go = self.waiting(argv)
                records = json_lines(self.trace_then_go(proc, go, "--json"))
                certs = [r for r in records if r["type"] == "certificate"]
                conns = [r["conn"] for r in records if r["type"] == "conn" and
                         r["event"] == "open"]
                self.assertEqual(len(conns), 1, records)
                chain = ("srv.pem",) if name in ("wget", "node-verify") else ("srv.pem", "ca.pem")
                self.assertEqual([(c["side"], c["depth"], c["conn"]) for c in certs],
                                 [("server", d, conns[0]) for d in range(len(chain))],
                                 records)
                for cert, pem in zip(certs, chain):
                    self.assert_cert_is(cert, f[pem])

    def test_boringssl_server_shows_the_clients_certificate(self):
        """BoringSSL (bssl-tool server asking for a client certificate, traced) keeps the
        certificates it parses as buffers: curl's one is the record, side client; the other
        DER BoringSSL keeps that way (none here) is left out by its shape."""
        if not shutil.which("bssl-tool"):
            self.skipTest("android-boringssl is not installed (scripts/deps installs it)")
        f = self.make_chain()
        port = self.free_port()
        server = self.spawn(["bssl-tool", "server", "-accept", str(port), "-cert", f["srv.pem"],
                             "-key", f["srv.key"], "-require-any-client-cert", "-www",
                             "-loop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_listening(port, server)
        self.wait_mapped(server.pid, "android/libssl.so.0")
        run = self.tracer(server.pid, "--json")
        run.wait_ready()
        subprocess.run(["curl", "-sk", "-o", "/dev/null", "--cert", f["cli.pem"], "--key",
                        f["cli.key"], "https://127.0.0.1:%d/" % port], check=True, timeout=20)
        harness.wait_for(lambda: any(r["type"] == "data" for r in json_lines(run)), 20,
                         "the server's calls")
        self.interrupt(run)
        records = json_lines(run)
        certs = [r for r in records if r["type"] == "certificate"]
        self.assertEqual([(c["side"], c["depth"], c["subject"]) for c in certs],
                         [("client", 0, "CN=client.test")], records)
        self.assert_cert_is(certs[0], f["cli.pem"])
        self.assertEqual(certs[0]["conn"], [r for r in records if r["type"] == "data"][0]["conn"])

    def test_hello_rows_in_text(self):
        _, port, _ = self.tls_server("--alpn", "http/1.1")
        curl, go = self.waiting(["curl", "-sk", "--resolve", "api.test:%d:127.0.0.1" % port,
                                 "https://api.test:%d/text" % port])
        run = self.trace_then_go(curl, go, "--handshake")
        out = run.stdout()
        self.assertRegex(out, r"ClientHello +[0-9.]+ +curl +%d +%d +client hello: sni api.test, "
                              r"alpn h2,http/1.1 \(conn 1\)\n" % (curl.pid, curl.pid))
        self.assertRegex(out, r"ServerHello +[0-9.]+ +curl +%d +%d +server hello received: "
                              r"TLSv1.3, TLS_AES_256_GCM_SHA384 \(conn 1\)\n"
                              % (curl.pid, curl.pid))
        self.assertRegex(out, r"--- conn 1, fd \d+: local 127.0.0.1:\d+, remote 127.0.0.1:%d; "
                              r"sni api.test, alpn h2,http/1.1; TLSv1.3, TLS_AES_256_GCM_SHA384 "
                              r"---\n" % port)

    def two_connections(self, filters, json=True):
        """One client process GETs /four from a server on 127.0.0.1 and /six from one on
        ::1 at once, traced with filters ({four} and {six} in them: the servers' ports).
        Returns (run, {path: (server port, client port)})."""
        _, four, _ = self.tls_server()
        _, six, _ = self.tls_server("--ipv6")
        go = os.path.join(self.tmp, "go.two.%d" % len(self.procs))
        client = self.spawn([PYTHON, "-c", NAMED_CLIENTS, go, "127.0.0.1:%d:four" % four,
                             "::1:%d:six" % six], stdout=subprocess.PIPE, text=True)
        args = [f.format(four=four, six=six) for f in filters]
        run = self.trace_then_go(client, go, *args, *(["--json"] if json else []))
        lports = dict(l.split()[1:] for l in client.stdout.read().splitlines())
        return run, {"four": (four, int(lports["four"])), "six": (six, int(lports["six"]))}

    def test_host_port_and_sni_keep_only_the_matching_connections(self):
        def request(path):
            return b"GET /%s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path
        moved = {p: len(request(p)) + len(RESPONSE) for p in (b"four", b"six")}
        cases = (  # filters, the path kept (None: neither), the "Tracing" line's words
            (("--port", "{four}"), b"four", "port {four}"),
            (("--host", "::1"), b"six", "host ::1"),
            (("--host", "127.0.0.0/8", "--port", "{six}"), None, "host 127.0.0.0/8, port {six}"),
            (("--host", "10.0.0.1", "--host", "::/0", "--port", "1", "--port", "{six}"), b"six",
             "host 10.0.0.1, host ::/0, port 1, port {six}"),
            (("--sni", "six.*"), b"six", "sni six.*"),
            (("--sni", "*.TEST", "--port", "{four}"), b"four", "port {four}, sni *.TEST"),
            (("--sni", "four.test", "--host", "::1"), None, "host ::1, sni four.test"),
        )
        for filters, kept, said in cases:
            with self.subTest(filters=filters):
                run, ports = self.two_connections(filters)
                said = said.format(four=ports["four"][0], six=ports["six"][0])
                self.assertIn("; showing connections with %s." % said, run.stderr())
                events = json_lines(run)
                data = [e for e in events if e["type"] == "data"]
                summary = events[-1]
                shown = {(e["conn"], e["rport"]) for e in data}
                if kept is None:
                    self.assertEqual(data, [])
                else:
                    server, lport = ports[kept.decode()]
                    self.assertEqual(len(shown), 1, shown)
                    self.assertEqual({r for _, r in shown}, {server}, shown)
                    self.assertEqual({e["lport"] for e in data}, {lport})
                    self.assertEqual((payload(data, "write"), payload(data, "read")),
                                     (request(kept), RESPONSE))
                conns = {e["conn"] for e in events if e["type"] == "conn"}
                self.assertEqual(conns, {c for c, _ in shown}, "open/close of others")
                left = [p for p in (b"four", b"six") if p != kept]
                self.assertEqual(summary["connections_filtered"], len(left), summary)
                self.assertEqual(summary["bytes_filtered"], sum(moved[p] for p in left),
                                 summary)
                self.assertEqual(summary["bytes_captured"], moved[kept] if kept else 0,
                                 summary)
                self.assertGreaterEqual(summary["events_filtered"], 2 * len(left), summary)
                self.assertEqual(summary["bytes_lost"], 0, summary)
                self.assertNotIn("accounting mismatch", run.stderr())

    def test_sni_keeps_a_traced_servers_connections_by_the_name_its_clients_asked(self):
        """Python's server, traced with --sni, serves two clients at once, one asking for
        one.test, the other for two.test: the server's ClientHellos received decide, and
        only the one.test exchange is shown, the other counted as filtered."""
        server, port, server_go = self.tls_server("--count", "2", go=False)
        go = os.path.join(self.tmp, "go.sni")
        client = self.spawn([PYTHON, "-c", NAMED_CLIENTS, go, "127.0.0.1:%d:one" % port,
                             "127.0.0.1:%d:two" % port], stdout=subprocess.PIPE, text=True)
        run = self.tracer(server.pid, "--sni", "ONE.test", "--json")
        run.wait_ready()
        open(go, "w").close()
        open(server_go, "w").close()
        self.assertEqual(client.wait(timeout=20), 0)
        lports = dict(l.split()[1:] for l in client.stdout.read().splitlines())
        self.assertEqual(server.wait(timeout=20), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        records = json_lines(run)
        data = [r for r in records if r["type"] == "data"]
        self.assertEqual({(r["rport"], r["sni"]) for r in data},
                         {(int(lports["one"]), "one.test")}, records)
        self.assertEqual(payload(data, "read"),
                         b"GET /one HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertEqual(payload(data, "write"), RESPONSE)
        summary = records[-1]
        self.assertEqual((summary["connections_filtered"], summary["bytes_filtered"]),
                         (1, len(b"GET /two HTTP/1.1\r\nHost: localhost\r\n\r\n") +
                          len(RESPONSE)), summary)

    def test_port_filter_in_text(self):
        run, ports = self.two_connections(("--port", "{six}"), json=False)
        out = run.stdout()
        self.assertIn("GET /six HTTP/1.1", out)
        self.assertNotIn("/four", out)
        self.assertEqual(out.count(BODY.decode()), 1, out)
        self.assertIn("[::1]:%d" % ports["six"][0], out)
        self.assertRegex(run.stderr(), r"connections: 2 \(0 without addresses; 1 left out by "
                                       r"--host/--port/--sni, their calls counted as "
                                       r"filtered\)")
        self.assertRegex(run.stderr(), r"= %d captured \+ 0 truncated \+ 0 lost \+ %d filtered "
                         % (len(b"GET /six HTTP/1.1\r\nHost: localhost\r\n\r\n") + len(RESPONSE),
                            len(b"GET /four HTTP/1.1\r\nHost: localhost\r\n\r\n") + len(RESPONSE)))

    def test_an_fd_reused_after_the_tracer_attached_is_not_taken_for_the_old_socket(self):
        _, port, _ = self.tls_server("--count", "6")
        go = os.path.join(self.tmp, "go.client")
        client = self.spawn([PYTHON, "-c", REUSING_CLIENT, str(port), go, self.cert],
                            stdout=subprocess.PIPE, text=True)
        line = client.stdout.readline()
        self.assertTrue(line.startswith("OLD "), line)
        fds, old_ports = [int(w) for w in line.split()[1::2]], [int(w) for w in line.split()[2::2]]
        run = self.trace_then_go(client, go, "--json")
        line = client.stdout.readline()
        self.assertTrue(line.startswith("NEW "), line)
        new_ports = [int(w) for w in line.split()[1:]]
        events = json_lines(run)
        writes = [e for e in events if e["type"] == "data" and e["dir"] == "write"]
        requests = {base64.b64decode(e["data"]).split(b" ")[1]: e for e in writes}
        self.assertEqual(sorted(requests), [b"/b1", b"/b2", b"/b3"])
        for path, fd, lport in zip((b"/b1", b"/b2", b"/b3"), fds, new_ports):
            e = requests[path]
            self.assertEqual(e["fd"], fd, e)
            self.assert_connection(e, e["conn"], "ipv4", "127.0.0.1", lport, "127.0.0.1",
                                   port, events)
        self.assertFalse(set(old_ports) & {e["lport"] for e in events if "lport" in e})
        self.assertEqual(events[-1]["connections_unresolved"], 0)

if __name__ == "__main__":
    harness.main()
