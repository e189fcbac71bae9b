# SPDX-License-Identifier: Apache-2.0
"""harness.py - start real TLS endpoints and the built tracer, parse what the tracer printed.

Every process a test starts is recorded and ended by PID in cleanup; nothing else is
touched. Traffic goes to 127.0.0.1 only.
"""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

TRACER = os.environ.get("TRACER_BIN", os.path.join(os.path.dirname(__file__), "../../build/tracer"))
HERE = os.path.dirname(os.path.abspath(__file__))
# ctest runs every integration test twice: probes placed as by default, and with
# TRACER_PLACEMENT=exported (--placement=exported) on every tracer run.
PLACEMENT = (["--placement=" + os.environ["TRACER_PLACEMENT"]]
             if os.environ.get("TRACER_PLACEMENT") else [])
NSS_WRITEV_CLIENT = os.environ.get("NSS_WRITEV_CLIENT",
                                   os.path.join(HERE, "../../build/tests/nss_writev_client"))
TLS_SERVER = os.path.join(HERE, "tls_server.py")
PYTHON = "/usr/bin/python3"  # Debian's, linked to the system libssl
# What AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer print (a sanitized build).
SANITIZER_REPORT = re.compile(r"ERROR: (?:Address|Leak)Sanitizer|runtime error: ")

# nginx serving HTTP/2 over TLS on one 127.0.0.1 port, everything under the test's temp dir.
NGINX_TLS_CONF = """daemon off; master_process off; worker_processes 1;
pid {tmp}/nginx.pid; error_log {tmp}/nginx.err;
events {{ worker_connections 256; }}
http {{
  access_log off; client_body_temp_path {tmp}; proxy_temp_path {tmp};
  fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{
    listen 127.0.0.1:{port} ssl{http2};
    ssl_certificate {cert}; ssl_certificate_key {key};
    location / {{ {location} }}
  }}
}}
"""

ROW = re.compile(r"^(\S+) +(\d+\.\d{9}) +(.*?) +(\d+) +(\d+) +(\d+)(?: +(\d+\.\d{3}))?$")
# The line before the rows of another connection (after "; ": what its hellos said).
CONN = re.compile(r"^--- (?:conn (\d+), fd (\d+): (?:local (\S+), remote ([^\s;]+)|addresses "
                  r"unknown \((.*?)\))(?:; .*)?|connection unknown: .*) ---$")
END = re.compile(r"^----- END DATA(?: \((?:TRUNCATED, (\d+) bytes not shown)?(?:; )?"
                 r"(?:LOST, (\d+) bytes(?: not captured)?)?\))? -----$")
# A payload's first line: escaped text, or base64 lines where text would take more room.
DATA, DATA_BASE64 = "----- DATA -----", "----- DATA (base64) -----"


def unescape(text: str) -> bytes:
    """Reverses the tracer's terminal escaping: '\\\\' and '\\xHH'."""
    out = bytearray()
    raw = text.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(raw):
        if raw[i:i + 2] == b"\\\\":
            out += b"\\"
            i += 2
        elif raw[i:i + 2] == b"\\x":
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def parse_events(text: str):
    """The tracer's text output as a list of events with exact payload bytes, each with the
    connection line it came under ("conn": id, "local"/"remote": "addr:port", or None) and,
    with -l, its latency in ms ("lat")."""
    lines = text.split("\n")
    events, i = [], 0
    conn = {"conn": None, "fd": None, "local": None, "remote": None}
    while i < len(lines):
        c = CONN.match(lines[i])
        if c:
            conn = {"conn": int(c.group(1)) if c.group(1) else None,
                    "fd": int(c.group(2)) if c.group(2) else None,
                    "local": c.group(3), "remote": c.group(4)}
        m = ROW.match(lines[i])
        if not m or i + 1 >= len(lines) or lines[i + 1] not in (DATA, DATA_BASE64):
            i += 1
            continue
        j = i + 2
        while j < len(lines) and not END.match(lines[j]):
            j += 1
        if j == len(lines):
            raise AssertionError("unterminated DATA block after: %r" % lines[i])
        end = END.match(lines[j])
        truncated, lost = int(end.group(1) or 0), int(end.group(2) or 0)
        length = int(m.group(6))
        captured = length - truncated - lost
        if lines[i + 1] == DATA_BASE64:  # exact bytes: no newline added
            payload = base64.b64decode("".join(lines[i + 2:j]), validate=True)
        else:
            payload = unescape("\n".join(lines[i + 2:j]) + "\n") if j > i + 2 else b""
            if len(payload) == captured + 1 and payload.endswith(b"\n"):
                payload = payload[:-1]  # the newline the tracer adds before END DATA
        events.append({"func": m.group(1), "comm": m.group(3), "pid": int(m.group(4)),
                       "tid": int(m.group(5)), "len": length, "truncated": truncated,
                       "lost": lost, "data": payload,
                       "lat": float(m.group(7)) if m.group(7) else None, **conn})
        i = j + 1
    return events


def json_lines(run):
    """A run's --json output, one record per line: the lines written whole so far (a
    running tracer may be amid one)."""
    return [json.loads(l) for l in run.stdout().split("\n")[:-1] if l.strip()]


def joined(events, func):
    return b"".join(e["data"] for e in events if e["func"] == func)


def served(log):
    """What record_server.py saw, by its log: {path: (peer port, request, response)}."""
    seen = {}
    if os.path.exists(log):
        with open(log) as f:
            for line in f:
                r = json.loads(line)
                req = base64.b64decode(r["request"])
                seen[req.split(b" ")[1].decode()] = (r["peer_port"], req,
                                                     base64.b64decode(r["response"]))
    return seen


class Flows:
    """The captured bytes of each connection a run showed, by the process and connection id
    of its records: for each, pid, comm, rport and what was written and read. A connection
    is found by its two ports (the server saw the client's); the same pair may come again in
    a run (the server's end kept in TIME_WAIT, the client's port free at once), so what is
    expected picks among them."""

    def __init__(self, records):
        self.by_ports = {}
        conns = {}
        for r in records:
            if r["type"] != "data" or r["lport"] is None:
                continue
            f = conns.get((r["pid"], r["conn"]))
            if f is None:
                f = conns[(r["pid"], r["conn"])] = {
                    "pid": r["pid"], "comm": r["comm"], "rport": r["rport"], "write": b"",
                    "read": b""}
                self.by_ports.setdefault((r["lport"], r["rport"]), []).append(f)
            f[r["dir"]] += base64.b64decode(r["data"])

    def __len__(self):
        return sum(len(v) for v in self.by_ports.values())

    def get(self, lport, rport, write=None, read=None):
        """The connection of those ports that wrote `write` or read `read` when several
        did; None when none was captured."""
        found = self.by_ports.get((lport, rport), [])
        for f in found:
            if (write is not None and f["write"] == write) or \
               (read is not None and f["read"] == read):
                return f
        return found[0] if found else None


def assert_on_connections(test, records, pid, served, paths, port):
    """Every data record of process pid names its connection, 127.0.0.1 at both ends, and
    each path's request and response (served: as served() gives them) are exact on the
    connection of its own ports: the one the server saw it from, and port."""
    mine = [r for r in records if r["type"] == "data" and r["pid"] == pid]
    test.assertEqual([r for r in mine if r.get("conn") is None], [], "calls without one")
    test.assertEqual({(r["laddr"], r["raddr"]) for r in mine}, {("127.0.0.1", "127.0.0.1")})
    flows = Flows(mine)
    for p in paths:
        peer, request, response = served[p]
        f = flows.get(peer, port, write=request, read=response)
        test.assertIsNotNone(f, "%s: nothing on local port %d" % (p, peer))
        test.assertEqual((f["write"], f["read"]), (request, response), p)


def assert_one_connection(test, records, pid, lport=None, rport=None):
    """All data records of process pid on one connection, 127.0.0.1 at both ends, with local
    port lport and remote port rport where given."""
    mine = [r for r in records if r["type"] == "data" and r["pid"] == pid]
    test.assertTrue(mine, "no calls of PID %d" % pid)
    test.assertEqual(len({r.get("conn") for r in mine}), 1, mine)
    test.assertIsNotNone(mine[0].get("conn"), mine[0])
    test.assertEqual({(r["laddr"], r["raddr"]) for r in mine}, {("127.0.0.1", "127.0.0.1")})
    for name, port in (("lport", lport), ("rport", rport)):
        if port is not None:
            test.assertEqual({r[name] for r in mine}, {port}, name)


def bpftool_uprobes(pid):
    """The uprobes tracer pid holds, a line each ("u[ret]probe PATH offset N", for the points
    of its scope's trace events, group tracer_<pid>, but the placeholder in its own executable
    that makes them exist; "u[ret]probe_multi PATH offset N pid P" for its uprobe_multi links,
    as their fdinfo shows them, one line an offset), and its uprobe perf events, as bpftool
    lists them (the fallback of kernels before 6.6), but the perf events its scope's programs
    hang on (bpftool names those by the placeholder)."""
    found = []
    for line in tracefs_uprobe_events():
        m = re.match(r"([pr]):tracer_%d/\S+ (\S+):0x([0-9a-f]+)" % pid, line)
        if m and not os.path.realpath(m.group(2)) == os.path.realpath(TRACER):
            found.append("%s %s offset %d" % ("uprobe" if m.group(1) == "p" else "uretprobe",
                                              m.group(2), int(m.group(3), 16)))
    try:
        fds = os.listdir("/proc/%d/fdinfo" % pid)
    except FileNotFoundError:
        fds = []
    for fd in fds:
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = f.read()
        except OSError:
            continue
        kind = re.search(r"^link_type:\s*(u(?:ret)?probe_multi)$", info, re.M)
        if not kind:
            continue
        path = re.search(r"^path:\s*(\S+)", info, re.M).group(1)
        target = re.search(r"^pid:\s*(\d+)", info, re.M).group(1)
        for m in re.finditer(r"^\d+\s+0x([0-9a-f]+)\s+0x[0-9a-f]+$", info, re.M):
            found.append("%s %s offset %d pid %s" % (kind.group(1), path, int(m.group(1), 16),
                                                     target))
    out = subprocess.run(["bpftool", "perf", "list"], capture_output=True, text=True,
                         check=True).stdout
    return found + [l for l in out.splitlines()
                    if l.startswith("pid %d " % pid) and re.search(r"\bu(ret)?probe\b", l)
                    and os.path.realpath(TRACER) not in l]


def tracefs_uprobe_events():
    """Lines of uprobe_events, read in a mount namespace of its own where tracefs is not
    mounted (so no test mounts it for the tracer: a fresh machine has it unmounted)."""
    path = "/sys/kernel/tracing/uprobe_events"
    out = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         "[ -e %s ] || mount -t tracefs nodev /sys/kernel/tracing; cat %s" % (path, path)],
        capture_output=True, text=True, check=True).stdout
    return [l for l in out.splitlines() if l.strip()]


def wait_for(predicate, timeout, what):
    """Polls predicate() until true; fails with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class TracerRun:
    """The built tracer running against a PID, its stdout and stderr in files."""

    def __init__(self, test, pid, *args, binary=TRACER, cwd=None, env=None):
        self.test = test
        self.out_path = os.path.join(test.tmp, "tracer.%d.out" % len(test.procs))
        self.err_path = self.out_path[:-4] + ".err"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            pids = [] if pid is None else [str(p) for p in (pid if isinstance(pid, list) else [pid])]
            self.proc = test.spawn([binary, *PLACEMENT, *args, *pids], stdout=out, stderr=err,
                                   cwd=cwd, env=env)

    def wait_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(l.startswith("Tracing") for l in self.stderr().splitlines()):
                return
            if self.proc.poll() is not None:
                raise AssertionError("tracer exited %d before ready:\n%s"
                                     % (self.proc.returncode, self.stderr()))
            time.sleep(0.05)
        raise AssertionError("tracer not ready after %ds:\n%s" % (timeout, self.stderr()))

    def wait_exit(self, timeout=60):
        return self.proc.wait(timeout=timeout)

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "surrogateescape")

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def events(self):
        return parse_events(self.stdout())


class TracerTest(unittest.TestCase):
    """Base class: a private temp dir, a certificate, and by-PID cleanup."""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("integration tests need root (BPF, uprobes)")
        cls.certdir = tempfile.mkdtemp(prefix="tracer-cert-")
        cls.cert = os.path.join(cls.certdir, "cert.pem")
        cls.key = os.path.join(cls.certdir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        cls.key, "-out", cls.cert, "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"],
                       check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certdir, ignore_errors=True)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tracer-test-")
        self.procs = []
        self.runs = []

    def tearDown(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.kill()
                p.wait()
            if p.stdout:
                p.stdout.close()
        reports = [r.stderr() for r in self.runs if SANITIZER_REPORT.search(r.stderr())]
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(reports, [], "a sanitizer reported on the tracer's stderr")

    def copy_dir(self, name):
        """A copy of the project's directory `name` (bpf_src, probe_specs) in the temp dir."""
        dst = os.path.join(self.tmp, name)
        shutil.copytree(os.path.join(HERE, "../..", name), dst)
        return dst

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def tracer(self, pid, *args, **kw):
        run = TracerRun(self, pid, *args, **kw)
        self.runs.append(run)
        return run

    def trace_then_go(self, proc, go, *tracer_args, env=None):
        """Traces proc (waiting for `go`), lets it go once the tracer is ready, and checks
        that both exit 0: the tracer by itself, when its targets are gone."""
        run = self.tracer(proc.pid, *tracer_args, env=env)
        run.wait_ready()
        open(go, "w").close()
        self.assertEqual(proc.wait(timeout=20), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        return run

    def run_tracer(self, *args, timeout=60):
        """Runs the tracer to completion; returns (exit status, stdout, stderr)."""
        r = subprocess.run([TRACER, *PLACEMENT, *args], capture_output=True, text=True,
                           timeout=timeout)
        self.assertNotRegex(r.stderr, SANITIZER_REPORT, "a sanitizer reported")
        return r.returncode, r.stdout, r.stderr

    def tls_server(self, *args, go=True):
        """Starts tls_server.py; returns (process, port, go_file)."""
        go_file = os.path.join(self.tmp, "go.%d" % len(self.procs))
        p = self.spawn([PYTHON, TLS_SERVER, "--cert", self.cert, "--key", self.key,
                        "--go-file", go_file, *args], stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        self.assertTrue(line.startswith("PORT "), "tls_server said %r" % line)
        if go:
            open(go_file, "w").close()
        return p, int(line.split()[1]), go_file

    def record_server(self):
        """Starts record_server.py; returns (port, log): the file served() reads."""
        log = os.path.join(self.tmp, "server.log")
        p = self.spawn([PYTHON, os.path.join(HERE, "record_server.py"), "--cert", self.cert,
                        "--key", self.key, "--log", log], stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        self.assertTrue(line.startswith("PORT "), "record_server said %r" % line)
        return int(line.split()[1]), log

    def free_port(self):
        """A TCP port on 127.0.0.1 that nothing listens on (for servers that need one)."""
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def wait_listening(self, port, proc, timeout=20):
        """Waits until something accepts on 127.0.0.1:port (proc must stay alive)."""
        import socket
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError("server exited %d before listening" % proc.returncode)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nothing listens on port %d" % port)

    def nginx_h2(self, location='return 200 "hello from nginx\\n";', http2=True):
        """Starts nginx serving HTTP/2 (or with http2=False HTTP/1.1) over TLS on a free
        port, `location` the directives of its one location; returns the port once it
        accepts."""
        port = self.free_port()
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_TLS_CONF.format(tmp=self.tmp, port=port, cert=self.cert, key=self.key,
                                          location=location, http2=" http2" if http2 else ""))
        nginx = self.spawn(["nginx", "-c", conf, "-p", self.tmp], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        self.wait_listening(port, nginx)
        return port

    def wait_mapped(self, pid, lib="libssl.so", timeout=10):
        """Waits until process pid maps lib (it finished dynamic loading)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open("/proc/%d/maps" % pid) as f:
                if lib in f.read():
                    return
            time.sleep(0.02)
        raise AssertionError("PID %d never mapped %s" % (pid, lib))

    def make_chain(self):
        """A CA (EC P-256) and, signed by it, a server certificate for api.test (RSA 2048,
        serial 0x1234ABCD, three SANs, valid 10 days: expiring) and a client certificate
        for client.test: {name: path}, the server's chain file holding it and the CA."""
        d = os.path.join(self.tmp, "pki")
        os.mkdir(d)
        f = {n: os.path.join(d, n) for n in ("ca.pem", "ca.key", "srv.pem", "srv.key",
                                             "chain.pem", "cli.pem", "cli.key", "san.ext")}
        with open(f["san.ext"], "w") as out:
            out.write("subjectAltName=DNS:api.test,DNS:*.api.test,IP:127.0.0.1\n")

        def ossl(*args):
            subprocess.run(["openssl", *args], check=True, capture_output=True)
        ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f["ca.key"], "-out", f["ca.pem"], "-days", "365", "-subj",
             "/CN=Tracer Test CA")
        for name, subj, serial, days, ext in (("srv", "/C=DE/O=Tracer Test/CN=api.test",
                                               "0x1234ABCD", "10", ["-extfile", f["san.ext"]]),
                                              ("cli", "/CN=client.test", "0x77", "200", [])):
            csr = os.path.join(d, name + ".csr")
            ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f[name + ".key"], "-out",
                 csr, "-subj", subj)
            ossl("x509", "-req", "-in", csr, "-CA", f["ca.pem"], "-CAkey", f["ca.key"],
                 "-set_serial", serial, "-days", days, "-out", f[name + ".pem"], *ext)
        with open(f["chain.pem"], "w") as out:
            for n in ("srv.pem", "ca.pem"):
                with open(f[n]) as part:
                    out.write(part.read())
        return f

    def assert_cert_is(self, record, pem):
        """A certificate record says what openssl x509 says of the certificate in pem."""
        said = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-subject", "-issuer",
                               "-serial", "-dates", "-fingerprint", "-sha256", "-nameopt",
                               "RFC2253", "-ext", "subjectAltName"],
                              capture_output=True, text=True, check=True).stdout
        fields = dict(l.split("=", 1) for l in said.splitlines() if "=" in l and
                      not l.startswith(" "))
        san = [l.strip() for l in said.splitlines() if l.startswith("    ")]
        iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                      time.strptime(t, "%b %d %H:%M:%S %Y GMT"))
        self.assertEqual((record["subject"], record["issuer"], record["serial"],
                          record["not_before"], record["not_after"], record["sha256"]),
                         (fields["subject"], fields["issuer"], fields["serial"],
                          iso(fields["notBefore"]), iso(fields["notAfter"]),
                          fields["sha256 Fingerprint"]), record)
        self.assertEqual(record["san"], san[0].split(", ") if san else [], record)

    def interrupt(self, run, sig=signal.SIGINT):
        run.proc.send_signal(sig)
        return run.wait_exit()


def main():
    """Runs the module's tests. Exit 1 on a failure, 77 (ctest's SKIP_RETURN_CODE) when any
    test was skipped, so a skipped test never shows as passed; else 0."""
    import sys
    prog = unittest.main(verbosity=2, exit=False)
    result = prog.result
    if result.failures or result.errors or result.unexpectedSuccesses:
        sys.exit(1)
    sys.exit(77 if result.skipped else 0)
