#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""test_chromium.py - Debian's chromium (BoringSSL linked into a 290 MB stripped executable)
fetching pages over TLS from a local nginx, headless: its SSL_write and SSL_read found
without symbols (named by its callers), the request line in the NetworkService child's
writes and the page in its reads, by the browser's PID (the child followed) and with --all;
--list-probes naming the evidence."""
import base64
import os
import signal
import subprocess
import urllib.request

import harness
from harness import TracerTest, json_lines, wait_for

CHROMIUM = "/usr/lib/chromium/chromium"
FLAGS = ["--headless", "--no-sandbox", "--ignore-certificate-errors", "--disable-gpu",
         "--no-first-run", "--disable-extensions", "--disable-background-networking"]


def pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def pgid_of(pid):
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class ChromiumTest(TracerTest):

    def setUp(self):
        super().setUp()
        self.groups = []
        self.port = self.nginx_h2('return 200 "the page at $uri, served over TLS\\n";',
                                  http2=False)

    def tearDown(self):
        # chromium's processes end before the test's directory goes: they write into it
        for p in self.groups:
            self.end_group(p)
        super().tearDown()

    def chromium(self, *args):
        """chromium with its own profile, home and temporary directory (it leaves nothing
        outside the test's), in a process group of its own (ended with it)."""
        p = self.spawn([CHROMIUM, *FLAGS, "--user-data-dir=" + os.path.join(self.tmp, "profile"),
                        *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       start_new_session=True, env=dict(os.environ, HOME=self.tmp, TMPDIR=self.tmp))
        self.groups.append(p)
        return p

    def end_group(self, p):
        """Ends chromium's process group and waits until none of it is left."""
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        wait_for(lambda: not any(pgid_of(pid) == p.pid for pid in pids()), 20,
                 "chromium's processes to end")

    def network_service_streams(self, events):
        """{dir: bytes} of the data events of NetworkService processes, in call order; and
        those events."""
        ns = {}
        data = [e for e in events if e["type"] == "data"]
        for pid in {e["pid"] for e in data}:
            ns[pid] = "network.mojom.NetworkService" in cmdline(pid)
        mine = [e for e in data if ns[e["pid"]]]
        out = {}
        for e in sorted(mine, key=lambda e: (e["call"], e["offset"])):
            out[e["dir"]] = out.get(e["dir"], b"") + base64.b64decode(e["data"])
        return out, mine

    def check_fetch(self, events, path):
        streams, mine = self.network_service_streams(events)
        self.assertIn(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (path.encode(), self.port),
                      streams.get("write", b""), streams)
        self.assertIn(b"HTTP/1.1 200 OK\r\n", streams.get("read", b""))
        self.assertIn(b"the page at %s, served over TLS\n" % path.encode(),
                      streams.get("read", b""))
        self.assertEqual({e["lib"] for e in mine}, {CHROMIUM})
        self.assertEqual({e["func"] for e in mine}, {"SSL_write", "SSL_read"})
        for e in mine:
            if e["func"] == "SSL_write" and b"GET " + path.encode() in base64.b64decode(e["data"]):
                self.assertEqual((e["raddr"], e["rport"]), ("127.0.0.1", self.port), e)
                self.assertEqual(e["dir"], "write")

    def test_by_the_browsers_pid_the_network_service_is_traced(self):
        debug = self.free_port()
        browser = self.chromium("--remote-debugging-port=%d" % debug, "about:blank")
        wait_for(lambda: self.answers(debug), 60, "chromium's DevTools endpoint")
        run = self.tracer(browser.pid, "--json")
        run.wait_ready()
        self.assertIn(CHROMIUM, run.stderr().split("Ctrl-C")[0])
        self.open_tab(debug, "/by-pid")
        wait_for(lambda: b"served over TLS" in self.network_service_streams(
            json_lines(run))[0].get("read", b""), 30, "the page in the NetworkService's reads")
        self.interrupt(run)
        self.check_fetch(json_lines(run), "/by-pid")
        self.assertIn("0 lost", run.stderr())

        code, out, err = self.run_tracer("--list-probes", str(browser.pid))
        self.assertEqual(code, 0, err)
        rows = [l for l in out.splitlines() if l.startswith(CHROMIUM + " ")]
        self.assertEqual(sorted({(l.split()[1], l.split()[2]) for l in rows}),
                         [("SSL_read", "entry"), ("SSL_read", "return"),
                          ("SSL_write", "entry"), ("SSL_write", "return")], out)
        for l in rows:
            self.assertRegex(l, r'named by callers: "%s" loaded after a call of it x\d+, begins '
                             r'with an error check of \S*boringssl/src/ssl/ssl_lib\.cc'
                             % l.split()[1])

    def answers(self, port):
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/json/version" % port, timeout=2).read()
            return True
        except OSError:
            return False

    def open_tab(self, debug, path):
        """Opens https://127.0.0.1:PORT/path in a new tab of the browser at DevTools port
        `debug`."""
        req = urllib.request.Request("http://127.0.0.1:%d/json/new?https://127.0.0.1:%d%s"
                                     % (debug, self.port, path), method="PUT")
        urllib.request.urlopen(req, timeout=20).read()

    def test_all_traces_chromium_started_later(self):
        run = self.tracer(None, "--all", "--json")
        run.wait_ready()
        debug = self.free_port()
        self.chromium("--remote-debugging-port=%d" % debug, "about:blank")
        wait_for(lambda: "loaded TLS code: '%s'" % CHROMIUM in run.stderr(), 60,
                 "chromium's probes")
        wait_for(lambda: self.answers(debug), 60, "chromium's DevTools endpoint")
        self.open_tab(debug, "/with-all")
        wait_for(lambda: b"served over TLS" in self.network_service_streams(
            json_lines(run))[0].get("read", b""), 30, "the page in the NetworkService's reads")
        self.interrupt(run)
        self.check_fetch(json_lines(run), "/with-all")


if __name__ == "__main__":
    harness.main()
