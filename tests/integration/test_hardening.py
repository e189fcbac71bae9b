#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_hardening.py - bad targets and files, faults mid-trace (SIGKILL, closed or failing
outputs, a full disk, Ctrl-C under full load, a target that runs another program or exits at
once) and privileges (other users' processes, the audit lines in syslog). Each case: a clear
message naming its subject, the documented exit status, nothing left attached."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import harness
from harness import (PLACEMENT, PYTHON, TRACER, TracerTest, bpftool_uprobes, joined,
                     tracefs_uprobe_events, wait_for)

TLSLOAD = os.path.join(os.path.dirname(TRACER), "tlsload")
UNCHECKED = """
int probe_entry_unchecked(struct pt_regs *ctx)
{
	u32 tid = 1;
	struct tls_call *call = tls_calls.lookup(&tid);

	return call->fd;
}
"""


def curl(port, out="/dev/null"):
    return ["curl", "-sS", "-k", "--http1.1", "-o", out, "https://127.0.0.1:%d/" % port]


class HardeningTest(TracerTest):

    def no_probe_left(self, tracer_pid):
        """Nothing of the tracer's is left: no uprobe, no trace event of its scope (a killed
        tracer's are removed by the process it left for that, at once)."""
        wait_for(lambda: not [l for l in tracefs_uprobe_events()
                              if "tracer_%d/" % tracer_pid in l], 5,
                 "the trace events of tracer %d removed" % tracer_pid)
        self.assertEqual(bpftool_uprobes(tracer_pid), [])
        self.assertEqual([l for l in tracefs_uprobe_events() if "bcc_" in l], [])

    # --- targets ---------------------------------------------------------------------------

    def test_zombie_is_refused(self):
        parent = self.spawn([PYTHON, "-c", "import os, sys, time\npid = os.fork()\n"
                             "if pid == 0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(60)"],
                            stdout=subprocess.PIPE, text=True)
        zombie = int(parent.stdout.readline())
        wait_for(lambda: open("/proc/%d/stat" % zombie).read().split(") ")[1][0] == "Z", 10,
                 "the child to be a zombie")
        code, out, err = self.run_tracer(str(zombie))
        self.assertEqual((code, out), (1, ""), err)
        self.assertEqual(err, "PID %d (python3) has exited (a zombie its parent has not "
                         "reaped): nothing to trace\n" % zombie)

    def test_tracer_itself_is_a_usage_error(self):
        # The shell's PID becomes the tracer's by exec.
        r = subprocess.run(["sh", "-c", 'exec "$0" "$$"', TRACER], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertRegex(r.stderr, r"^PID \d+ is the tracer itself: give the PID of another "
                         r"process\n$")

    def test_target_exiting_at_once_is_handled(self):
        """A target that exits while the tracer resolves or attaches: told, exit 0 or 1 with a
        message, never a crash, nothing left attached."""
        for delay in ("0", "0.05", "0.2", "0.5", "1.0"):
            target = self.spawn([PYTHON, "-c", "import ssl, time; time.sleep(%s)" % delay])
            r = subprocess.run([TRACER, *PLACEMENT, str(target.pid)], capture_output=True,
                               text=True, timeout=60)
            self.assertNotRegex(r.stderr, harness.SANITIZER_REPORT)
            target.wait(timeout=10)
            if r.returncode == 0:
                self.assertIn("target exited", r.stderr)
            else:
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertRegex(r.stderr, r"no process with PID %d|PID %d .*has exited"
                                 % (target.pid, target.pid))
        self.assertEqual([l for l in tracefs_uprobe_events() if "bcc_" in l], [])

    def test_exec_of_another_program_is_reported(self):
        server, port, _ = self.tls_server("--count", "1")
        go = os.path.join(self.tmp, "go")
        shell = self.spawn(["sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.05; done; exec curl '
                            '-sS -k --http1.1 -o /dev/null https://127.0.0.1:%d/' % port, go])
        run = self.tracer(shell.pid)
        run.wait_ready()
        open(go, "w").close()
        self.assertEqual(shell.wait(timeout=20), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        self.assertIn("PID %d (curl) ran another program: '/usr/bin/curl'; its TLS code is "
                      "looked up again\n" % shell.pid, run.stderr())
        self.assertTrue(joined(run.events(), "SSL_write").startswith(b"GET / HTTP/1.1\r\n"))

    def test_unmapped_library_is_reported(self):
        """A process that loads GnuTLS with dlopen and unloads it with dlclose: told."""
        go = [os.path.join(self.tmp, "go%d" % i) for i in range(3)]
        script = ("import ctypes, _ctypes, os, sys, time\n"
                  "def wait(p):\n    while not os.path.exists(p): time.sleep(0.02)\n"
                  "wait(sys.argv[1]); h = ctypes.CDLL('libgnutls.so.30'); print('loaded', "
                  "flush=True)\n"
                  "wait(sys.argv[2]); _ctypes.dlclose(h._handle); print('closed', flush=True)\n"
                  "wait(sys.argv[3])\n")
        proc = self.spawn([PYTHON, "-c", script, *go], stdout=subprocess.PIPE, text=True)
        run = self.tracer(proc.pid)
        run.wait_ready()
        open(go[0], "w").close()
        self.assertEqual(proc.stdout.readline(), "loaded\n")
        time.sleep(1)  # the tracer looks at the new mapping after its next poll (100 ms)
        open(go[1], "w").close()
        self.assertEqual(proc.stdout.readline(), "closed\n")
        wait_for(lambda: "unmapped" in run.stderr(), 10, "the unmap to be told")
        self.assertRegex(run.stderr(), r"PID %d \(python3\) unmapped '[^']*libgnutls\.so\.30[^']*"
                         r"': its calls there are no longer seen \(the probes stay for other "
                         r"processes\)\n" % proc.pid)
        open(go[2], "w").close()
        self.assertEqual(proc.wait(timeout=10), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())

    def test_a_target_exiting_is_not_said_to_unmap_its_library(self):
        """The exit notice comes before the kernel takes an exiting process's memory: its
        empty maps are not an unmapped library."""
        for _ in range(5):
            target = self.spawn([PYTHON, "-c", "import ssl, sys; sys.stdin.read()"],
                                stdin=subprocess.PIPE)
            self.wait_mapped(target.pid)
            run = self.tracer(target.pid, "-v")
            run.wait_ready()
            target.stdin.close()  # it exits now
            self.assertEqual(run.wait_exit(), 0, run.stderr())
            self.assertIn("target exited", run.stderr())
            self.assertNotIn("unmapped", run.stderr())

    def test_a_pid_reused_is_not_taken_for_the_process_before(self):
        """A traced child that mapped GnuTLS exits; a new child given the same PID (through
        ns_last_pid) unmaps memory: it never mapped GnuTLS, so nothing is said unmapped."""
        go = [os.path.join(self.tmp, "go%d" % i) for i in range(2)]
        script = (
            "import ctypes, mmap, os, sys, time\n"
            "def wait(p):\n    while not os.path.exists(p): time.sleep(0.02)\n"
            "wait(sys.argv[1]); a = os.fork()\n"
            "if a == 0:\n"
            "    ctypes.CDLL('libgnutls.so.30'); print('A', os.getpid(), flush=True)\n"
            "    wait(sys.argv[2]); os._exit(0)\n"  # no munmap on the way out
            "os.waitpid(a, 0)\n"
            "for attempt in range(50):\n"
            "    with open('/proc/sys/kernel/ns_last_pid', 'w') as f: f.write(str(a - 1))\n"
            "    b = os.fork()\n"
            "    if b == 0:\n"
            "        if os.getpid() != a: os._exit(3)\n"
            "        mmap.mmap(-1, 1 << 20).close(); print('B', os.getpid(), flush=True)\n"
            "        time.sleep(1); os.execv('/bin/true', ['true'])\n"
            "    if os.waitpid(b, 0)[1] == 0: break\n"
            "print('done', flush=True)\n")
        proc = self.spawn([PYTHON, "-c", script, *go], stdout=subprocess.PIPE, text=True)
        run = self.tracer(proc.pid, "-v")
        run.wait_ready()
        open(go[0], "w").close()
        line = proc.stdout.readline().split()
        self.assertEqual(line[0], "A")
        pid = int(line[1])
        time.sleep(1)  # the tracer looks at the new mapping after its next poll (100 ms)
        open(go[1], "w").close()
        self.assertEqual(proc.stdout.readline(), "B %d\n" % pid, "the PID was not reused")
        self.assertEqual(proc.stdout.readline(), "done\n")
        self.assertEqual(proc.wait(timeout=10), 0)
        # The exec came a second after the unmap: once it is told, the unmap was looked at.
        wait_for(lambda: re.search(r"PID %d( \(\S+\))? ran another program" % pid,
                                   run.stderr()), 10, "B's exec to be told")
        self.assertNotIn("unmapped", run.stderr())
        self.assertEqual(run.wait_exit(), 0, run.stderr())

    def test_library_deleted_on_disk_is_traced_through_map_files(self):
        """A library replaced or deleted after it was mapped (an upgrade): said, and traced
        through /proc/PID/map_files, which still reaches the file the process maps."""
        libdir = os.path.join(self.tmp, "lib")
        os.mkdir(libdir)
        shutil.copy("/usr/lib/x86_64-linux-gnu/libssl.so.3", libdir)
        server, port, _ = self.tls_server("--count", "1")
        client = ("import socket, ssl, sys\n"
                  "ctx = ssl.create_default_context(); ctx.check_hostname = False\n"
                  "ctx.verify_mode = ssl.CERT_NONE\n"
                  "print('up', flush=True); sys.stdin.readline()\n"
                  "with ctx.wrap_socket(socket.create_connection(('127.0.0.1', %d))) as s:\n"
                  "    s.sendall(b'GET /deleted HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n"
                  "    while s.recv(65536): pass\n" % port)
        proc = self.spawn([PYTHON, "-c", client], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True, env=dict(os.environ, LD_LIBRARY_PATH=libdir))
        self.assertEqual(proc.stdout.readline(), "up\n")
        lib = os.path.join(libdir, "libssl.so.3")
        with open("/proc/%d/maps" % proc.pid) as f:
            self.assertIn(lib, f.read())
        os.unlink(lib)
        run = self.tracer(proc.pid)
        run.wait_ready()
        self.assertRegex(run.stderr(), r"'%s \(deleted\)' was deleted or replaced on disk after it "
                         r"was mapped; probing the mapped file through '/proc/%d/map_files/"
                         r"[0-9a-f]+-[0-9a-f]+'\n" % (re.escape(lib), proc.pid))
        proc.stdin.write("go\n")
        proc.stdin.flush()
        self.assertEqual(proc.wait(timeout=20), 0)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        self.assertIn("target exited", run.stderr())
        # Python's ssl calls SSL_write_ex and SSL_read_ex (named so, or by the internal
        # function that stands in for them).
        sent = b"".join(e["data"] for e in run.events() if "write" in e["func"])
        got = b"".join(e["data"] for e in run.events() if "read" in e["func"])
        self.assertEqual(sent, b"GET /deleted HTTP/1.1\r\nHost: x\r\n\r\n", run.stdout())
        self.assertTrue(got.startswith(b"HTTP/1.1 200 OK\r\n"), run.stdout())

    def test_required_symbol_missing(self):
        specs = self.copy_dir("probe_specs")
        with open(os.path.join(specs, "zz_extra.spec"), "w") as f:
            f.write("ssl SSL_no_such_function entry probe_entry_SSL_write required\n")
        server, _, _ = self.tls_server()
        code, out, err = self.run_tracer("--probe-specs", specs, str(server.pid))
        self.assertEqual((code, out), (1, ""), err)
        self.assertRegex(err, r"zz_extra.spec:1: required symbol 'SSL_no_such_function' not "
                         r"found in '/[^']*libssl.so.3'")

    # --- files -----------------------------------------------------------------------------

    def test_duplicate_spec_names_both_lines(self):
        specs = self.copy_dir("probe_specs")
        path = os.path.join(specs, "openssl.spec")
        with open(path) as f:
            lines = f.read().splitlines()
        first = next(i for i, l in enumerate(lines) if l.split()[:3] == ["ssl", "SSL_write", "entry"])
        with open(path, "a") as f:
            f.write(lines[first] + "\n")
        code, _, err = self.run_tracer("--probe-specs", specs, "1")
        self.assertEqual(code, 2, err)
        real = os.path.realpath(path)
        self.assertIn("%s:%d: duplicate of %s:%d" % (real, len(lines) + 1, real, first + 1), err)

    def test_bad_directories_and_files(self):
        code, _, err = self.run_tracer("--bpf-src", "/etc/passwd", "1")
        self.assertEqual(code, 1, err)
        self.assertIn("cannot use bpf_src directory '/etc/passwd': not a directory", err)
        empty = os.path.join(self.tmp, "empty")
        os.mkdir(empty)
        code, _, err = self.run_tracer("--probe-specs", empty, "1")
        self.assertEqual(code, 1, err)
        self.assertIn("no probe specs in '%s'" % os.path.realpath(empty), err)
        # A FIFO named like a spec or a source would block a reader: refused, not waited on.
        specs = self.copy_dir("probe_specs")
        os.mkfifo(os.path.join(specs, "fifo.spec"))
        code, _, err = self.run_tracer("--probe-specs", specs, "1", timeout=30)
        self.assertEqual(code, 1, err)
        self.assertIn("failed to read probe spec file '%s/fifo.spec': not a regular file"
                      % os.path.realpath(specs), err)
        src = self.copy_dir("bpf_src")
        os.mkfifo(os.path.join(src, "fifo.c"))
        server, _, _ = self.tls_server()
        code, _, err = self.run_tracer("--bpf-src", src, str(server.pid), timeout=30)
        self.assertEqual(code, 1, err)
        self.assertIn("failed to read BPF source '%s/fifo.c': not a regular file"
                      % os.path.realpath(src), err)

    def test_verifier_rejection_at_start_names_function_and_line(self):
        src = self.copy_dir("bpf_src")
        specs = self.copy_dir("probe_specs")
        path = os.path.join(src, "openssl.c")
        with open(path) as f:
            start = f.read().count("\n")
        with open(path, "a") as f:
            f.write(UNCHECKED)
        with open(os.path.join(specs, "openssl.spec"), "a") as f:
            f.write("ssl SSL_peek entry probe_entry_unchecked optional\n")
        server, _, _ = self.tls_server()
        code, out, err = self.run_tracer("--bpf-src", src, "--probe-specs", specs,
                                         str(server.pid))
        self.assertEqual((code, out), (1, ""), err)
        m = re.search(r"(?m)^%s:(\d+): the verifier rejected BPF function "
                      r"'probe_entry_unchecked': R0 invalid mem access "
                      r"'map_value_or_null' \(loaded for %s:\d+\)$"
                      % (os.path.realpath(path), os.path.realpath(specs) + "/openssl.spec"), err)
        self.assertIsNotNone(m, err)
        self.assertGreater(int(m.group(1)), start)
        # The verifier's log is trimmed to its end, not the whole program.
        self.assertIn("verifier log, last", err)
        self.assertLess(len(err.splitlines()), 60, err)

    # --- faults ----------------------------------------------------------------------------

    def test_sigkill_leaves_no_probe_and_target_completes(self):
        requests = 30
        server, port, _ = self.tls_server("--count", str(requests), "--body-size", "100000")
        run = self.tracer(server.pid)
        run.wait_ready()
        outs = [os.path.join(self.tmp, "body.%d" % i) for i in range(requests)]
        client = self.spawn(["sh", "-c", " && ".join(" ".join(curl(port, o)) for o in outs)])
        wait_for(lambda: "SSL_write" in run.stdout(), 20, "the first captured call")
        run.proc.kill()
        self.assertEqual(run.proc.wait(timeout=10), -signal.SIGKILL)
        self.no_probe_left(run.proc.pid)
        self.assertEqual(client.wait(timeout=60), 0)  # the traced program is unharmed
        self.assertEqual(server.wait(timeout=20), 0)
        for o in outs:
            self.assertEqual(os.path.getsize(o), 100000, o)

    def test_socket_syscall_hooks_are_named_and_tracepoints_can_be_forced(self):
        """-v says how the socket system calls are watched: fentry/fexit programs where the
        kernel runs them, else syscall tracepoints and why (these VMs refuse BPF trampolines);
        TRACER_SYSCALL_TRACEPOINTS=1 asks for the tracepoints. What is attached is what it
        says, and either way the calls get their connection."""
        for force in (False, True):
            server, port, _ = self.tls_server()
            env = dict(os.environ, TRACER_SYSCALL_TRACEPOINTS="1") if force else None
            run = self.tracer(server.pid, "-v", env=env)
            run.wait_ready()
            how = re.search(r"^system calls: (.*)$", run.stderr(), re.M).group(1)
            if force:
                self.assertEqual(how, "syscall tracepoints (TRACER_SYSCALL_TRACEPOINTS)")
            else:
                self.assertRegex(how, r"^(fentry/fexit programs on the kernel's functions|"
                                 r"syscall tracepoints \(the kernel (refuses fentry programs: "
                                 r".+|has no BTF)\))$")
            attached = re.findall(r"^attached (\S+)$", run.stderr(), re.M)
            kfuncs = [a for a in attached if a.startswith(("kfunc__", "kretfunc__"))]
            syscalls = [a for a in attached if a.startswith("tracepoint__syscalls__")]
            if how.startswith("fentry"):
                self.assertIn("kfunc____x64_sys_read", kfuncs)
                self.assertEqual(syscalls, [])
            else:
                self.assertIn("tracepoint__syscalls__sys_enter_read", syscalls)
                self.assertEqual(kfuncs, [])
            self.assertIn("tracepoint__sched__sched_process_fork", attached)
            subprocess.run(curl(port, os.path.join(self.tmp, "body")), check=True, timeout=20)
            self.assertEqual(server.wait(timeout=20), 0)
            self.assertEqual(run.wait_exit(), 0, run.stderr())
            self.assertRegex(run.stderr(), r"connections: 1 \(0 without addresses\); 0 calls "
                             r"without a known connection")

    def test_closed_stdout_ends_tracing_promptly_and_quietly(self):
        """`tracer PID | head`: once the reader is gone the tracer ends with status 0, at
        once, even while no event comes."""
        server, _, _ = self.tls_server()
        with subprocess.Popen([TRACER, *PLACEMENT, str(server.pid)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) as tracer:
            self.procs.append(tracer)
            self.assertTrue(tracer.stderr.readline().startswith("Tracing"))
            tracer.stdout.close()
            self.assertEqual(tracer.wait(timeout=20), 0)
            err = tracer.stderr.read()
        self.assertIn("stopped (stdout's reader went away): 0 calls", err)
        self.assertNotIn("failed", err)
        self.no_probe_left(tracer.pid)
        self.assertIsNone(server.poll())

    def test_stdout_write_error_is_exit_1(self):
        server, port, _ = self.tls_server("--count", "1", "--body-size", "20000")
        with open("/dev/full", "w") as full:
            run = self.spawn([TRACER, *PLACEMENT, str(server.pid)], stdout=full,
                             stderr=subprocess.PIPE, text=True)
        self.assertTrue(run.stderr.readline().startswith("Tracing"))
        subprocess.run(curl(port), check=True, timeout=20)
        self.assertEqual(run.wait(timeout=20), 1)
        err = run.stderr.read()
        self.assertIn("failed to write events to stdout: No space left on device; stopping", err)
        self.assertIn("stopped (writing to stdout failed)", err)
        self.assertNotRegex(err, harness.SANITIZER_REPORT)

    def test_full_disk_on_capture_is_exit_1_with_the_file_flushed(self):
        mnt = os.path.join(self.tmp, "small")
        os.mkdir(mnt)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tracer-test", mnt], check=True)
        try:
            server, port, _ = self.tls_server("--count", "1", "--body-size", "300000")
            cap = os.path.join(mnt, "cap.pcapng")
            run = self.tracer(server.pid, "-w", cap)
            run.wait_ready()
            subprocess.run(curl(port), check=True, timeout=20)
            self.assertEqual(run.wait_exit(timeout=20), 1, run.stderr())
            self.assertIn("failed to write %s: No space left on device" % cap, run.stderr())
            with open(cap, "rb") as f:
                head = f.read(12)
            self.assertEqual(head[:4], b"\x0a\x0d\x0d\x0a")  # a section header block
            self.assertGreater(os.path.getsize(cap), 32 * 1024)  # written up to the error
            self.assertEqual(os.stat(cap).st_mode & 0o777, 0o600)
            self.assertEqual(server.wait(timeout=20), 0)
        finally:
            subprocess.run(["umount", mnt], check=False)

    def test_ctrl_c_under_full_load(self):
        """A client and server in one process writing 16 KiB records as fast as they can:
        the perf buffer overflows (counted), and SIGINT still ends tracing with status 0."""
        go = os.path.join(self.tmp, "go")
        load = self.spawn([TLSLOAD, "--cert", self.cert, "--key", self.key, "--size", "16384",
                           "--seconds", "60", "--go", go], stdout=subprocess.PIPE, text=True)
        self.assertTrue(load.stdout.readline().startswith("pid "))
        run = self.tracer(load.pid, "--perf-pages", "8")
        run.wait_ready()
        open(go, "w").close()
        wait_for(lambda: "lost " in run.stderr(), 30, "a perf buffer loss under load")
        run.proc.send_signal(signal.SIGINT)
        self.assertEqual(run.wait_exit(timeout=60), 0, run.stderr())
        self.assertRegex(run.stderr(), r"stopped: \d+ calls.*; [1-9]\d* events lost")
        self.assertIsNone(load.poll())  # still running, unharmed
        self.no_probe_left(run.proc.pid)

    # --- privileges ------------------------------------------------------------------------

    def test_another_users_process_needs_ptrace_capabilities(self):
        server, _, _ = self.tls_server()  # root's
        caps = "+bpf,+perfmon"
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "--inh-caps=" + caps, "--ambient-caps=" + caps, TRACER,
                            str(server.pid)], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stderr, "PID %d (python3) belongs to uid 0: tracing another user's "
                         "process needs root, or the capabilities CAP_SYS_PTRACE and "
                         "CAP_DAC_READ_SEARCH (missing: CAP_SYS_PTRACE CAP_DAC_READ_SEARCH)\n"
                         % server.pid)

    def test_unmounted_tracefs_without_cap_sys_admin_is_one_sentence(self):
        """As on a freshly booted machine (tracefs and debugfs not mounted), a tracer with
        CAP_BPF and CAP_PERFMON but not CAP_SYS_ADMIN cannot mount tracefs for itself: one
        sentence says what to mount, exit 1; with root it mounts it and says so with -v."""
        fresh = os.path.join(harness.HERE, "..", "fresh_machine.sh")
        caps = "+bpf,+perfmon"
        r = subprocess.run([fresh, "setpriv", "--reuid=65534", "--regid=65534",
                            "--clear-groups", "--inh-caps=" + caps, "--ambient-caps=" + caps,
                            TRACER, "--check"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stderr.splitlines()[0],
                         "tracefs is not mounted (neither /sys/kernel/tracing nor "
                         "/sys/kernel/debug/tracing has events/), and the tracer could not "
                         "enter a mount namespace of its own: Operation not permitted; libbcc "
                         "reads the tracepoint formats there: mount it with 'mount -t tracefs "
                         "nodev /sys/kernel/tracing' (needs CAP_SYS_ADMIN)")
        r = subprocess.run([fresh, TRACER, "-v", "--check"], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("tracefs was not mounted: mounted it at /sys/kernel/tracing for the "
                      "tracer alone", r.stderr)

    def test_audit_lines_go_to_syslog(self):
        """Where /dev/log is free, the test listens there; where a syslog daemon has it, the
        tracer runs in a mount namespace with the test's socket bound over /dev/log."""
        sock_path = os.path.join(self.tmp, "log")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(sock_path)
        listener.settimeout(20)
        server, port, _ = self.tls_server("--count", "1")
        cap = os.path.join(self.tmp, "cap.pcapng")
        argv = [TRACER, *PLACEMENT, "-w", cap, str(server.pid)]
        if os.path.exists("/dev/log"):
            argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                    'mount --bind "$0" /dev/log && exec "$@"', sock_path, *argv]
            owned = False
        else:
            os.symlink(sock_path, "/dev/log")
            owned = True
        try:
            out = os.path.join(self.tmp, "out")
            with open(out, "w") as o:
                tracer = self.spawn(argv, stdout=o, stderr=subprocess.PIPE, text=True)
            self.assertTrue(tracer.stderr.readline().startswith("Tracing"))
            subprocess.run(curl(port), check=True, timeout=20)
            self.assertEqual(tracer.wait(timeout=20), 0)
            lines = [listener.recv(4096).decode(), listener.recv(4096).decode()]
        finally:
            if owned:
                os.unlink("/dev/log")
            listener.close()
        # <85>: facility authpriv (10 * 8), severity notice (5)
        self.assertRegex(lines[0], r"^<85>.* tracer\[\d+\]: tracing started by uid 0"
                         r"(?: \(login uid \d+\))?: PID %d \(python3\) and its children; "
                         r"outputs: stdout \(%s\), pcapng file '%s'$" % (server.pid, out, cap))
        self.assertRegex(lines[1], r"^<85>.* tracer\[\d+\]: tracing stopped by uid 0"
                         r"(?: \(login uid \d+\))?: PID %d \(python3\) and its children; "
                         r"target exited; exit status 0$" % server.pid)


if __name__ == "__main__":
    harness.main()
