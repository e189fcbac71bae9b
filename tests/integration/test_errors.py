#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_errors.py - bad input gets a clear message naming the subject and the documented
exit status (0 ok, 1 runtime failure, 2 usage)."""
import os
import re
import subprocess
import unittest

import harness
from harness import TRACER, TracerTest


class ErrorTest(TracerTest):

    def test_malformed_pids_are_usage_errors(self):
        for arg, want in [("abc", "invalid PID 'abc'"), ("0", "invalid PID '0'"),
                          ("4294967297", "invalid PID '4294967297'"), ("12x", "invalid PID '12x'")]:
            code, out, err = self.run_tracer(arg)
            self.assertEqual(code, 2, (arg, err))
            self.assertIn(want, err)
        code, _, err = self.run_tracer("--", "-5")
        self.assertEqual((code, "invalid PID '-5'" in err), (2, True), err)
        code, _, err = self.run_tracer()
        self.assertEqual((code, "no PID given" in err), (2, True), err)
        code, _, err = self.run_tracer("--bogus", "1")
        self.assertEqual(code, 2, err)

    def test_bad_sizes_are_usage_errors(self):
        for opt, val in [("--max-data-size", "1000"), ("--max-data-size", "32768"),
                         ("--max-data-size", "8"), ("--perf-pages", "3"), ("--perf-pages", "0")]:
            code, _, err = self.run_tracer(opt, val, "1")
            self.assertEqual(code, 2, (opt, val, err))
            self.assertIn("invalid %s '%s'" % (opt, val), err)

    def test_bad_connection_filters_are_usage_errors(self):
        for opt, val, why in [
                ("--host", "example.com", "want an IPv4 or IPv6 address, with /PREFIX or not"),
                ("--host", "[::1/64]", "want an IPv4 or IPv6 address, with /PREFIX or not"),
                ("--host", "10.0.0.0/33", "prefix '33' is not 0 to 32"),
                ("--host", "::1/129", "prefix '129' is not 0 to 128"),
                ("--host", "1.2.3.4/", "prefix '' is not 0 to 32"),
                ("--port", "0", "want a port number from 1 to 65535"),
                ("--port", "65536", "want a port number from 1 to 65535"),
                ("--port", "https", "want a port number from 1 to 65535"),
                ("--sni", "", "want a server name pattern of 1 to 255 characters"),
                ("--sni", "[a.test", "'[' without its ']'"),
                ("--sni", "a b", "a server name has no blank or byte outside printable")]:
            code, _, err = self.run_tracer(opt, val, "1")
            self.assertEqual(code, 2, (opt, val, err))
            self.assertIn("invalid %s '%s': %s" % (opt, val, why), err)

    def test_bad_cgroups_are_usage_errors(self):
        with open("/proc/self/mountinfo") as f:
            root = [l.split()[4] for l in f if " - cgroup2 " in l][0]
        for args, why in [
                (("--cgroup", "/no-such-cgroup"), "invalid --cgroup '/no-such-cgroup': no such "
                 "cgroup (neither it nor %s/no-such-cgroup is a directory)" % root),
                (("--cgroup", "/tmp"), "invalid --cgroup '/tmp': not a cgroup v2 directory "
                 "(cgroup v2 is mounted on %s)" % root),
                (("--cgroup", "", "--all"), "invalid --cgroup '': empty path"),
                (("--cgroup", "/", "--cgroup", "/"), "invalid --cgroup '/': one --cgroup only "
                 "(%s given before)" % root),
                (("--cgroup", "/", "--selftest"), "no --all, -c, --cgroup or --no-children")]:
            code, out, err = self.run_tracer(*args)
            self.assertEqual((code, out), (2, ""), (args, err))
            self.assertIn(why, err)

    def test_missing_process(self):
        code, out, err = self.run_tracer("999999999")
        self.assertEqual(code, 1)
        self.assertEqual(err, "no process with PID 999999999\n")
        self.assertEqual(out, "")

    def test_process_without_tls_library_is_waited_for(self):
        """It may load one later: said, then traced until it exits."""
        sleeper = self.spawn(["sleep", "60"])
        run = self.tracer(sleeper.pid)
        run.wait_ready()
        self.assertIn("PID %d (sleep) maps no TLS library yet; waiting\n" % sleeper.pid,
                      run.stderr())
        self.assertIsNone(run.proc.poll())
        sleeper.kill()
        sleeper.wait()
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        self.assertIn("target exited: 0 calls", run.stderr())

    def test_kernel_thread_is_an_error(self):
        code, _, err = self.run_tracer("2")  # kthreadd
        self.assertEqual(code, 1)
        self.assertEqual(err, "PID 2 (kthreadd) is a kernel thread: it runs no TLS library\n")

    def test_malformed_spec_line_names_file_and_line(self):
        specs = self.copy_dir("probe_specs")
        with open(os.path.join(specs, "openssl.spec"), "a") as f:
            f.write("ssl SSL_peek middle probe_entry_SSL_read required\n")
        with open(os.path.join(specs, "openssl.spec")) as f:
            lineno = len(f.readlines())
        server, _, _ = self.tls_server()
        code, _, err = self.run_tracer("--probe-specs", specs, str(server.pid))
        self.assertEqual(code, 2, err)
        self.assertIn("%s/openssl.spec:%d: invalid kind 'middle': want 'entry', 'return', 'returns' or 'sites'"
                      % (os.path.realpath(specs), lineno), err)

    def test_spec_naming_unknown_bpf_function(self):
        specs = self.copy_dir("probe_specs")
        with open(os.path.join(specs, "extra.spec"), "w") as f:
            f.write("ssl SSL_peek entry probe_entry_SSL_peek optional\n")
        server, _, _ = self.tls_server()
        code, _, err = self.run_tracer("--probe-specs", specs, str(server.pid))
        self.assertEqual(code, 2, err)
        self.assertIn("extra.spec:1: BPF function 'probe_entry_SSL_peek' is not defined in "
                      "bpf_src", err)

    def test_bpf_syntax_error_shows_file_and_line(self):
        src = self.copy_dir("bpf_src")
        path = os.path.join(src, "openssl.c")
        with open(path) as f:
            lines = f.read().split("\n")
        at = next(i for i, l in enumerate(lines) if "TLS_DIR_WRITE);" in l)
        lines[at] += " this_is_not_c"
        with open(path, "w") as f:
            f.write("\n".join(lines))
        server, _, _ = self.tls_server()
        code, out, err = self.run_tracer("--bpf-src", src, str(server.pid))
        self.assertEqual(code, 1, err)
        self.assertIn("%s:%d:" % (os.path.realpath(path), at + 1), err)
        self.assertIn("use of undeclared identifier 'this_is_not_c'", err)
        self.assertIn("failed to compile the BPF sources", err)
        self.assertEqual(out, "")

    def test_compile_errors_name_the_exact_line_of_every_shipped_file(self):
        """An error appended to each shipped BPF file, and one inside the body of the last
        TRACEPOINT_PROBE (libbcc writes a struct of a dozen lines in front of each), is
        reported at its own FILE:LINE by --check."""
        src = self.copy_dir("bpf_src")
        want = []
        for name in sorted(os.listdir(src)):
            path = os.path.join(src, name)
            with open(path) as f:
                lines = f.read().split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            if name == "00_capture.c":
                probe = max(i for i, l in enumerate(lines) if l.startswith("TRACEPOINT_PROBE("))
                body = probe + 2  # after the line with its opening brace
                lines.insert(body, "\tint in_body = no_such_name_in_body;")
                want.append((path, body + 1, "no_such_name_in_body"))
            lines.append("static int bad_marker_%d(void) { return no_such_name_%d; }"
                         % (len(want), len(want)))
            want.append((path, len(lines), "no_such_name_%d" % (len(want))))
            with open(path, "w") as f:
                f.write("\n".join(lines) + "\n")
        self.assertGreaterEqual(len(want), 7)  # 00_capture.c twice, the libraries, the header
        code, _, err = self.run_tracer("--check", "--bpf-src", src)
        self.assertEqual(code, 1, err)
        for path, line, name in want:
            self.assertIn("%s:%d:" % (os.path.realpath(path), line), err)
            self.assertRegex(err, r"%s:%d:\d+: error: use of undeclared identifier '%s'"
                             % (re.escape(os.path.realpath(path)), line, name))

    def test_own_bpf_src_without_counters_says_totals_are_unknown(self):
        """A user's bpf_src that keeps no tls_stats or tls_settings map still traces; the
        summary claims no totals it cannot know instead of a bogus accounting mismatch, and
        filters, which need the settings map, are refused by name."""
        src = self.copy_dir("bpf_src")
        path = os.path.join(src, "00_capture.c")
        with open(path) as f:
            text = f.read()
        for name in ("tls_stats", "tls_settings"):
            self.assertIn("(%s," % name, text)
            text = text.replace("(%s," % name, "(my_%s," % name)
            text = text.replace("%s.lookup" % name, "my_%s.lookup" % name)
        with open(path, "w") as f:
            f.write(text)
        server, port, _ = self.tls_server()
        code, _, err = self.run_tracer("--bpf-src", src, "--no-read", str(server.pid))
        self.assertEqual(code, 1, err)
        self.assertIn("failed to write the settings to BPF map 'tls_settings': bpf_src defines "
                      "no such map", err)
        run = self.tracer(server.pid, "--bpf-src", src, "--json")
        run.wait_ready()
        subprocess.run(["curl", "-sS", "-k", "-o", "/dev/null", "https://127.0.0.1:%d/" % port],
                       check=True, timeout=20)
        server.wait(timeout=20)
        self.assertEqual(run.wait_exit(), 0, run.stderr())
        self.assertIn("failed to read the BPF counters in 'tls_stats'", run.stderr())
        self.assertRegex(run.stderr(), r"target exited: \d+ bytes captured; calls, bytes moved "
                         r"and losses unknown \(the BPF counters could not be read\)")
        self.assertNotIn("accounting mismatch", run.stderr())
        last = run.stdout().splitlines()[-1]
        self.assertIn('"type":"summary"', last)
        self.assertIn('"counters":"unavailable"', last)

    def test_missing_directories(self):
        code, _, err = self.run_tracer("--bpf-src", "/nonexistent/bpf", "1")
        self.assertEqual(code, 1)
        self.assertIn("cannot use bpf_src directory '/nonexistent/bpf'", err)

    def test_not_root_is_told_what_is_missing(self):
        server, _, _ = self.tls_server()
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "--inh-caps=-all", TRACER, str(server.pid)],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("tracer needs root, or the capabilities CAP_BPF and CAP_PERFMON "
                      "(missing: CAP_BPF CAP_PERFMON)", r.stderr)

    def test_installed_tree_finds_its_data_not_the_cwd(self):
        build = os.path.dirname(os.path.realpath(TRACER))
        prefix = os.path.join(self.tmp, "prefix")
        subprocess.run(["cmake", "--install", build, "--prefix", prefix], check=True,
                       capture_output=True)
        for d in ("bpf_src/openssl.c", "bpf_src/gnutls.c", "bpf_src/00_capture.c",
                  "bpf_src/tls_event.h", "probe_specs/openssl.spec", "probe_specs/gnutls.spec"):
            self.assertTrue(os.path.isfile(os.path.join(prefix, "share/tracer", d)), d)
        server, _, _ = self.tls_server()
        run = self.tracer(server.pid, "-v", binary=os.path.join(prefix, "bin/tracer"), cwd="/")
        run.wait_ready()
        self.assertEqual(self.interrupt(run), 0, run.stderr())
        self.assertIn("compiling %s/share/tracer/bpf_src" % os.path.realpath(prefix),
                      run.stderr())

    def test_help_and_version(self):
        code, out, _ = self.run_tracer("--help")
        self.assertEqual(code, 0)
        self.assertIn("USAGE: tracer [OPTION...] PID", out)
        # the first sentence names the TLS code traced, not the C libraries alone
        self.assertIn("TLS code: the libraries (OpenSSL, BoringSSL, GnuTLS, NSS, mbedTLS, "
                      "wolfSSL), Go's crypto/tls, rustls, and TLS linked into programs",
                      " ".join(out.split("\n\n", 1)[0].split()))
        # each example as written: argp wraps a line at 79 columns, mid-comment
        examples = out.split("EXAMPLES:\n", 1)[1].split("\n\n", 1)[0].split("\n")
        self.assertGreaterEqual(len(examples), 20)
        for line in examples:
            self.assertRegex(line, r"^  tracer |^ {33}# ", "a wrapped example: %r" % line)
        code, out, _ = self.run_tracer("--version")
        self.assertEqual((code, out.startswith("tracer ")), (0, True))


if __name__ == "__main__":
    harness.main()
