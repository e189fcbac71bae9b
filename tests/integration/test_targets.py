#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_targets.py - which processes are traced: children (existing and later), programs
and libraries loaded after the tracer attached, several PIDs, every process by name, the
processes of a cgroup (those that join it after the tracer started too), and the cgroup and
container every record names."""
import base64
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys

import harness
from harness import PYTHON, TracerTest, bpftool_uprobes, joined, json_lines, wait_for

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


# A container's id, as docker names its cgroup with systemd's driver (docker-ID.scope)
CONTAINER = "0123456789abcdef" * 4

# Waits for go file $0, moves itself into cgroup directory $1, then runs the rest: a process
# that joins the cgroup after the tracer started.
JOIN_THEN_RUN = 'while [ ! -e "$0" ]; do sleep 0.02; done; echo $$ > "$1/cgroup.procs" && exec "${@:2}"'


def cgroup_root():
    """Where cgroup v2 is mounted (the tests make their cgroups there)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            if " - cgroup2 " in line:
                return line.split()[4]
    raise AssertionError("no cgroup v2 hierarchy mounted")


class CgroupTest(TracerTest):

    def make_cgroups(self):
        """/tracer-test-PID-N with docker-CONTAINER.scope and other below it: (root, the
        base's path in the hierarchy, {name: directory})."""
        root = cgroup_root()
        base = "/tracer-test-%d-%d" % (os.getpid(), len(self.procs))
        dirs = {"base": root + base, "docker": "%s%s/docker-%s.scope" % (root, base, CONTAINER),
                "other": root + base + "/other"}
        os.mkdir(dirs["base"])
        self.addCleanup(os.rmdir, dirs["base"])
        for name in ("docker", "other"):
            os.mkdir(dirs[name])
            self.addCleanup(os.rmdir, dirs[name])
        return root, base, dirs

    def two_joining_clients(self, dirs, *tracer_args):
        """A client (3 parts) that joins the docker cgroup and one (5 parts) that joins
        other, both after the tracer started with tracer_args: (run, {name: client pid})."""
        go = os.path.join(self.tmp, "go.clients.%d" % len(self.procs))
        clients = {}
        for name, parts in (("docker", 3), ("other", 5)):
            server, port, _ = self.tls_server()
            clients[name] = (self.spawn(["bash", "-c", JOIN_THEN_RUN, go, dirs[name], PYTHON,
                                         TLS_CLIENT, "--port", str(port), "--go-file", go,
                                         "--parts", str(parts)]), server)
        run = self.tracer(None, *tracer_args)
        run.wait_ready(timeout=60)
        open(go, "w").close()
        for client, server in clients.values():
            self.assertEqual(client.wait(timeout=20), 0)
            self.assertEqual(server.wait(timeout=20), 0)
        self.assertEqual(self.interrupt(run), 0, run.stderr())
        return run, {name: c.pid for name, (c, _) in clients.items()}

    def test_cgroup_keeps_its_processes_and_every_record_names_it(self):
        root, base, dirs = self.make_cgroups()
        run, pids = self.two_joining_clients(dirs, "--cgroup", dirs["docker"], "--json")
        self.assertIn("Tracing every process, in cgroup %s (and below)" % dirs["docker"],
                      run.stderr())
        records = [r for r in json_lines(run) if r["type"] not in ("summary", "unprobed")]
        data = [r for r in records if r["type"] == "data"]
        self.assertEqual({r["pid"] for r in records}, {pids["docker"]}, records)
        self.assertEqual(b"".join(base64.b64decode(r["data"]) for r in data
                                  if r["dir"] == "write"), post(3))
        self.assertEqual(b"".join(base64.b64decode(r["data"]) for r in data
                                  if r["dir"] == "read"), RESPONSE)
        self.assertIn("conn", {r["type"] for r in records})
        for r in records:
            self.assertEqual((r["cgroup_id"], r["cgroup"], r["runtime"], r["container"]),
                             (os.stat(dirs["docker"]).st_ino,
                              "%s/docker-%s.scope" % (base, CONTAINER), "docker", CONTAINER), r)
            self.assertNotIn("pod", r)
        summary = json_lines(run)[-1]
        self.assertEqual(summary["bytes_captured"], len(post(3)) + len(RESPONSE), summary)

    def test_a_cgroup_as_proc_shows_it_takes_those_below_and_text_names_them(self):
        root, base, dirs = self.make_cgroups()
        run, pids = self.two_joining_clients(dirs, "--cgroup", base)
        self.assertIn("in cgroup %s (and below)" % dirs["base"], run.stderr())
        out = run.stdout()
        events = run.events()
        for name, parts, said in (("docker", 3, "container docker %s" % CONTAINER[:12]),
                                  ("other", 5, "cgroup %s/other" % base)):
            mine = [e for e in events if e["pid"] == pids[name]]
            self.assertEqual(joined(mine, "SSL_write_ex") or joined(mine, "SSL_write"),
                             post(parts))
            self.assertEqual(joined(mine, "SSL_read_ex") or joined(mine, "SSL_read"), RESPONSE)
            self.assertRegex(out, r"--- conn \d+, fd \d+: local 127.0.0.1:\d+, remote "
                                  r"127.0.0.1:\d+(; [^;\n]*)*; %s ---\n" % re.escape(said))
        self.assertEqual({e["pid"] for e in events}, set(pids.values()))

    def test_a_cgroup_removed_before_the_tracer_looked_keeps_its_name(self):
        """The tracer is stopped (SIGSTOP) while a cgroup is made, a client runs in it and
        exits, and the cgroup is removed: when the tracer goes on, the cgroup is gone from
        the hierarchy, yet the client's records name it (BPF told of its making)."""
        root, base, dirs = self.make_cgroups()
        short = dirs["base"] + "/short-lived"
        server, port, _ = self.tls_server()
        run = self.tracer(None, "--cgroup", dirs["base"], "--json")
        run.wait_ready(timeout=60)
        run.proc.send_signal(signal.SIGSTOP)
        try:
            os.mkdir(short)
            go = os.path.join(self.tmp, "go.short")
            open(go, "w").close()
            client = self.spawn(["bash", "-c", JOIN_THEN_RUN, go, short, PYTHON, TLS_CLIENT,
                                 "--port", str(port), "--go-file", go, "--parts", "2"])
            self.assertEqual(client.wait(timeout=20), 0)
            self.assertEqual(server.wait(timeout=20), 0)
            os.rmdir(short)
        finally:
            run.proc.send_signal(signal.SIGCONT)
        harness.wait_for(lambda: sum(r["type"] == "data" for r in json_lines(run)) >= 3, 20,
                         "the client's calls")
        self.assertEqual(self.interrupt(run), 0, run.stderr())
        data = [r for r in json_lines(run) if r["type"] == "data"]
        self.assertEqual({(r["pid"], r["cgroup"]) for r in data},
                         {(client.pid, base + "/short-lived")}, data)
        self.assertEqual(b"".join(base64.b64decode(r["data"]) for r in data
                                  if r["dir"] == "write"), post(2))

    def test_a_pid_outside_the_cgroup_is_not_traced(self):
        root, base, dirs = self.make_cgroups()
        server, port, _ = self.tls_server()
        go = os.path.join(self.tmp, "go.outside")
        client = self.spawn([PYTHON, TLS_CLIENT, "--port", str(port), "--go-file", go])
        run = self.trace_then_go(client, go, "--cgroup", dirs["other"], "--json")
        self.assertIn("PID %d (python3) and its children, in cgroup %s" % (client.pid,
                                                                        dirs["other"]),
                      run.stderr())
        self.assertEqual([r for r in json_lines(run) if r["type"] == "data"], [])

    def runc_bundle(self, cgroup, argv):
        """An OCI bundle for runc: argv run as root in a read-only root made of the host's
        /usr and /etc, this directory and /tmp bound in, its own PID, IPC, UTS and mount
        namespaces, the host's network (the server is on 127.0.0.1), cgroup `cgroup`."""
        bundle = os.path.join(self.tmp, "bundle")
        rootfs = os.path.join(bundle, "rootfs")
        for d in ("usr", "etc", "tmp", "proc", "dev", HERE.lstrip("/")):
            os.makedirs(os.path.join(rootfs, d), exist_ok=True)
        for link in ("bin", "lib", "lib64", "sbin"):
            os.symlink("usr/" + link, os.path.join(rootfs, link))
        binds = [{"destination": d, "type": "bind", "source": d,
                  "options": ["rbind", "rw" if d == "/tmp" else "ro"]}
                 for d in ("/usr", "/etc", "/tmp", HERE)]
        config = {
            "ociVersion": "1.0.2",
            "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": argv,
                        "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "cwd": "/",
                        "noNewPrivileges": True},
            "root": {"path": "rootfs", "readonly": True},
            "hostname": "tracer-test",
            "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                       {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                        "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}]
                      + binds,
            "linux": {"namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")],
                      "cgroupsPath": cgroup},
        }
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(config, f)
        return bundle

    def remove_cgroup_tree(self, path):
        """Removes cgroup `path` and those below it from every hierarchy (runc makes its
        cgroup in the v1 ones too on a hybrid layout), deepest first."""
        for top in glob.glob("/sys/fs/cgroup/*") + ["/sys/fs/cgroup"]:
            where = top + path
            if not os.path.isdir(where):
                continue
            for d, _, _ in sorted(os.walk(where), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(d)
                except OSError:
                    pass

    def test_a_container_runc_starts_is_traced_and_named(self):
        self.assertIsNotNone(shutil.which("runc"), "runc is missing: scripts/deps installs it")
        root = cgroup_root()
        base = "/tracer-test-%d-runc" % os.getpid()
        cid = os.urandom(32).hex()
        name = "tracer-test-%d" % os.getpid()
        os.mkdir(root + base)
        self.addCleanup(self.remove_cgroup_tree, base)
        server, port, _ = self.tls_server()
        go = os.path.join(self.tmp, "go.runc")
        bundle = self.runc_bundle("%s/docker/%s" % (base, cid),
                                  [PYTHON, TLS_CLIENT, "--port", str(port), "--go-file", go,
                                   "--parts", "4"])
        run = self.tracer(None, "--cgroup", base, "--json")
        run.wait_ready(timeout=60)
        open(go, "w").close()
        self.addCleanup(subprocess.run, ["runc", "delete", "--force", name],
                        capture_output=True)
        ran = subprocess.run(["runc", "run", "--bundle", bundle, name], capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(ran.returncode, 0, ran.stderr)
        self.assertEqual(server.wait(timeout=20), 0)
        self.assertEqual(self.interrupt(run), 0, run.stderr())
        records = [r for r in json_lines(run) if r["type"] not in ("summary", "unprobed")]
        data = [r for r in records if r["type"] == "data"]
        self.assertEqual(b"".join(base64.b64decode(r["data"]) for r in data
                                  if r["dir"] == "write"), post(4))
        self.assertEqual(b"".join(base64.b64decode(r["data"]) for r in data
                                  if r["dir"] == "read"), RESPONSE)
        for r in records:
            self.assertEqual((r["cgroup"], r.get("runtime"), r.get("container")),
                             ("%s/docker/%s" % (base, cid), "docker", cid), r)


if __name__ == "__main__":
    harness.main()
