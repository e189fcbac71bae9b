#!/usr/bin/python3
"""test_targets.py - which processes are traced: children (existing and later), programs
and libraries loaded after the tracer attached, several PIDs, every process by name."""
import os
import shutil
import signal
import subprocess
import sys

import harness
from harness import PYTHON, TracerTest, bpftool_uprobes, joined, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
TLS_CLIENT = os.path.join(HERE, "tls_client.py")
BODY = b"hello from the tracer test server\n"
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(BODY)) + BODY

NGINX_CONF = """worker_processes 1;
error_log {tmp}/nginx.err;
pid {tmp}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp};
    proxy_temp_path {tmp};
    fastcgi_temp_path {tmp};
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{ return 200 "hello from nginx\\n"; }}
    }}
}}
"""

# Waits for a go file, then imports ssl (Python maps libssl only now), sends one request.
LATE_SSL = """
import os, socket, sys, time
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
import ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2])))) as s:
    s.sendall(b"GET /late HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n")
    while s.recv(65536):
        pass
"""


def code_byte(pid, path, offset):
    """The byte at file offset `offset` of `path` as process pid's memory has it now (a uprobe
    is a breakpoint, 0xcc, written there)."""
    real = os.path.realpath(path)
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split()
            if len(fields) < 6 or os.path.realpath(fields[5]) != real:
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            at = int(fields[2], 16)
            if at <= offset < at + end - start:
                with open("/proc/%d/mem" % pid, "rb") as mem:
                    mem.seek(start + offset - at)
                    return mem.read(1)[0]
    raise AssertionError("PID %d does not map offset %d of %s" % (pid, offset, path))


def post(parts):
    body = b"".join(b"part-%03d|" % i for i in range(parts))
    return (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % len(body)
            + body)


def curl_request(port):
    return (b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: tracer-test\r\n"
            b"Accept: */*\r\n\r\n" % port)


class TargetTest(TracerTest):

    def test_nginx_master_pid_shows_its_workers_traffic(self):
        port = self.free_port()
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=self.tmp, port=port, cert=self.cert, key=self.key))
        # No pipe of ours reaches nginx's workers; the master ends them on SIGTERM.
        master = self.spawn(["nginx", "-c", conf, "-p", self.tmp, "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.check_nginx(master, port)
        finally:
            master.terminate()
            master.wait(timeout=20)

    def check_nginx(self, master, port):
        self.wait_listening(port, master)
        run = self.tracer(master.pid)
        run.wait_ready()
        self.assertRegex(run.stderr(), r"Tracing PID %d \(nginx\) and its children \(\d+ "
                         r"running\)" % master.pid)
        subprocess.run(["curl", "-sS", "-k", "--http1.1", "-A", "tracer-test", "-o",
                        "/dev/null", "https://127.0.0.1:%d/hello" % port], check=True,
                       timeout=20)
        self.assertEqual(self.interrupt(run), 0, run.stderr())
        events = run.events()
        self.assertEqual(joined(events, "SSL_read"), curl_request(port))
        self.assertTrue(joined(events, "SSL_write").endswith(b"\r\n\r\nhello from nginx\n"))
        workers = {e["pid"] for e in events}
        self.assertEqual(len(workers), 1)
        self.assertNotIn(master.pid, workers)  # the worker did the TLS

    def test_python_loads_ssl_after_attach(self):
        server, port, _ = self.tls_server()
        go = os.path.join(self.tmp, "late.go")
        client = self.spawn([PYTHON, "-c", LATE_SSL, go, str(port)])
        self.wait_mapped(client.pid, "libc.so")
        with open("/proc/%d/maps" % client.pid) as f:
            self.assertNotIn("libssl.so", f.read())  # not loaded yet
        events = self.trace_then_go(client, go).events()
        self.assertEqual(joined(events, "SSL_write_ex"),
                         b"GET /late HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        self.assertEqual(joined(events, "SSL_read_ex"), RESPONSE)

    def shell_starting_client(self, go, port, parts):
        """A shell that starts tls_client.py as its child once `go` exists."""
        return self.spawn(["sh", "-c", 'while [ ! -e "$1" ]; do sleep 0.02; done; '
                           '"$2" "$3" --port "$4" --go-file "$1" --parts "$5"; exit $?',
                           "sh", go, PYTHON, TLS_CLIENT, str(port), str(parts)])

    def test_child_started_after_attach(self):
        server, port, _ = self.tls_server()
        go = os.path.join(self.tmp, "child.go")
        shell = self.shell_starting_client(go, port, 3)
        events = self.trace_then_go(shell, go).events()
        self.assertEqual(joined(events, "SSL_write_ex"), post(3))
        self.assertEqual(joined(events, "SSL_read_ex"), RESPONSE)
        self.assertNotIn(shell.pid, {e["pid"] for e in events})

    def test_child_traced_without_a_scope(self):
        """Where the kernel cannot keep the probes to the traced processes (it does not arm a
        point added to a trace event in use; TRACER_NO_SCOPE asks for that way here), the
        tracer says so and attaches to every process, BPF leaving the others out: a child
        started later is traced all the same."""
        server, port, _ = self.tls_server()
        go = os.path.join(self.tmp, "child.go")
        shell = self.shell_starting_client(go, port, 3)
        run = self.trace_then_go(shell, go, env=dict(os.environ, TRACER_NO_SCOPE="1"))
        self.assertIn("note: TRACER_NO_SCOPE is set: every process that maps a TLS library "
                      "takes the probes, and BPF leaves the others out", run.stderr())
        events = run.events()
        self.assertEqual(joined(events, "SSL_write_ex"), post(3))
        self.assertEqual(joined(events, "SSL_read_ex"), RESPONSE)
        self.assertNotIn(shell.pid, {e["pid"] for e in events})

    def test_pid_mode_breakpoints_are_in_the_traced_processes_only(self):
        """PID mode: the probes are points of the tracer's scope (its trace events), and the
        kernel writes their breakpoints into the traced processes alone: none into another
        process that maps the same library. A child forked later has them from its fork on,
        copied by the kernel inside fork(): the breakpoint is in its memory the moment it
        has mapped the library, with no wait. It costs the tracer at most two fds (guard
        events, on kernels before 6.12), closed when it exits."""
        traced, _, _ = self.tls_server()
        other, _, _ = self.tls_server()
        shell = self.spawn(["sh", "-c", "read go; %s -c 'import ssl, os, sys, time\n"
                            "print(os.getpid(), flush=True); time.sleep(30)' & wait; read done"
                            % PYTHON],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        run = self.tracer([traced.pid, shell.pid])
        run.wait_ready()
        points = bpftool_uprobes(run.proc.pid)
        self.assertTrue(points)
        self.assertTrue(all(not l.endswith(" pid %d" % p) for l in points
                            for p in (traced.pid, shell.pid)), points)  # no link a process
        probe = next(l for l in points if "libssl.so" in l and l.startswith("uprobe "))
        path, offset = probe.split()[1], int(probe.split()[3])
        self.assertEqual(code_byte(traced.pid, path, offset), 0xcc, probe)
        self.assertNotEqual(code_byte(other.pid, path, offset), 0xcc, probe)
        fds = lambda: len(os.listdir("/proc/%d/fd" % run.proc.pid))
        before = fds()

        shell.stdin.write("go\n")
        shell.stdin.flush()
        child = int(shell.stdout.readline())  # it has imported ssl: libssl is mapped
        self.assertEqual(code_byte(child, path, offset), 0xcc, probe)  # at once, no wait
        self.assertLessEqual(fds(), before + 2)
        self.assertNotEqual(code_byte(other.pid, path, offset), 0xcc, probe)
        os.kill(child, signal.SIGTERM)  # the shell lives on, waiting for its next line
        wait_for(lambda: fds() == before, 10, "the child's guard events closed")
        shell.stdin.write("done\n")
        shell.stdin.flush()
        self.assertEqual(shell.wait(timeout=20), 0)
        self.assertEqual(self.interrupt(run), 0, run.stderr())
        self.assertEqual(bpftool_uprobes(run.proc.pid), [])
        self.assertNotEqual(code_byte(traced.pid, path, offset), 0xcc, probe)  # taken out

    def test_no_children_leaves_children_out(self):
        server, port, _ = self.tls_server()
        go = os.path.join(self.tmp, "nochild.go")
        shell = self.shell_starting_client(go, port, 3)
        run = self.trace_then_go(shell, go, "--no-children")
        self.assertRegex(run.stderr(), r"Tracing PID %d \(sh\): " % shell.pid)
        self.assertEqual(run.events(), [])
        self.assertIn("target exited: 0 calls", run.stderr())

    def test_program_started_later_with_static_openssl(self):
        """A child runs node, which has OpenSSL in its executable: seen when it starts."""
        node = shutil.which("node")
        if not node:
            self.skipTest("node is not installed")
        server, port, _ = self.tls_server()
        go, go2 = os.path.join(self.tmp, "node.go"), os.path.join(self.tmp, "node.go2")
        script = ("const fs=require('fs'),tls=require('tls');"
                  "const t=setInterval(()=>{if(!fs.existsSync(%r))return;clearInterval(t);"
                  "const s=tls.connect({host:'127.0.0.1',port:%d,rejectUnauthorized:false},"
                  "()=>s.write('GET /node HTTP/1.1\\r\\n\\r\\n'));s.on('data',()=>{});},20);"
                  % (go2, port))
        shell = self.spawn(["sh", "-c", 'while [ ! -e "$1" ]; do sleep 0.02; done; '
                            '"$2" -e "$3"; exit $?', "sh", go, node, script])
        run = self.tracer(shell.pid)
        run.wait_ready()
        open(go, "w").close()
        real = os.path.realpath(node)
        harness.wait_for(lambda: ("loaded TLS code: '%s'" % real) in run.stderr(), 30,
                         "node's code found:\n%s" % run.stderr())
        open(go2, "w").close()
        self.assertEqual(shell.wait(timeout=20), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        events = run.events()
        self.assertEqual(joined(events, "SSL_write"), b"GET /node HTTP/1.1\r\n\r\n")
        self.assertEqual(joined(events, "SSL_read"), RESPONSE)

    def test_several_pids(self):
        servers = [self.tls_server(go=False) for _ in range(2)]
        run = self.tracer([s[0].pid for s in servers])
        run.wait_ready()
        self.assertRegex(run.stderr(), r"Tracing PIDs %d \(python3\), %d \(python3\) and "
                         r"their children" % (servers[0][0].pid, servers[1][0].pid))
        for i, (server, port, go) in enumerate(servers):
            open(go, "w").close()
            subprocess.run([PYTHON, TLS_CLIENT, "--port", str(port), "--go-file", go,
                            "--parts", str(i + 2)], check=True, timeout=20)
            self.assertEqual(server.wait(timeout=20), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        events = run.events()
        for i, (server, _, _) in enumerate(servers):
            mine = [e for e in events if e["pid"] == server.pid]
            self.assertEqual(joined(mine, "SSL_read_ex"), post(i + 2))
            self.assertEqual(joined(mine, "SSL_write_ex"), RESPONSE)
        self.assertEqual({e["pid"] for e in events}, {s[0].pid for s in servers})

    def test_all_with_comm_sees_that_name_only(self):
        name = "tls-comm-test"
        link = os.path.join(self.tmp, name)
        os.symlink(os.path.realpath(PYTHON), link)
        run = self.tracer(None, "--all", "-c", name)
        run.wait_ready(timeout=60)
        self.assertRegex(run.stderr(), r"Tracing every process, threads named "
                         r"'tls-comm-test': \d+ probes on ")
        for exe, parts in ((link, 3), (PYTHON, 5)):
            server, port, go = self.tls_server()
            subprocess.run([exe, TLS_CLIENT, "--port", str(port), "--go-file", go,
                            "--parts", str(parts)], check=True, timeout=20)
            self.assertEqual(server.wait(timeout=20), 0)
        self.assertEqual(self.interrupt(run), 0, run.stderr())
        events = run.events()
        self.assertEqual(joined(events, "SSL_write_ex"), post(3))
        self.assertEqual(joined(events, "SSL_read_ex"), RESPONSE)
        self.assertEqual({e["comm"] for e in events}, {name})


if __name__ == "__main__":
    harness.main()
