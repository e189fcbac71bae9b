#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""test_tutorial.py - performs docs/TUTORIAL.md's steps exactly as written, and checks that
the tracer prints what the tutorial shows.

The tutorial's blocks carry markers the test reads (<!-- step: KIND [FILE] --> and <!--
expect: STREAM -->); its paths, port and `tracer` are replaced by a private directory, a free
port and the built binary. What the blocks show as output is matched with every number and
every "..." left open. Processes the steps start are ended by PID.
"""
import os
import re
import signal
import subprocess

from harness import PYTHON, TracerTest, joined, main, parse_events, wait_for, TRACER

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
TUTORIAL = os.path.join(ROOT, "docs/TUTORIAL.md")
BLOCK = re.compile(r"<!-- (step|expect): (\S+)(?: (\S+))? -->\n```\w*\n(.*?)```", re.S)


def tutorial_blocks():
    with open(TUTORIAL) as f:
        return [(m.group(1), m.group(2), m.group(3), m.group(4)) for m in BLOCK.finditer(f.read())]


def pattern(text):
    """A regex of shown output: numbers and runs of blanks open, "..." anything."""
    out = []
    for tok in re.split(r"(\.\.\.|\d+| +)", text):
        if tok == "...":
            out.append(".*")
        elif tok.isdigit():
            out.append(r"\d+")
        elif tok and not tok.strip(" "):
            out.append(" +")
        else:
            out.append(re.escape(tok))
    return "".join(out)


class TutorialTest(TracerTest):
    def substitute(self, text):
        text = text.replace("/tmp/tut", self.tut).replace("4433", str(self.port))
        text = re.sub(r"(?m)^tracer ", TRACER + " ", text)
        return re.sub(r"(?m)^python3 ", PYTHON + " ", text)

    def kill_later(self, pid):
        def end():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.addCleanup(end)

    def test_the_tutorial_as_written(self):
        self.tut = os.path.join(self.tmp, "tut")
        self.port = self.free_port()
        blocks = tutorial_blocks()
        self.assertEqual([b[:2] for b in blocks], [
            ("step", "sh"), ("step", "start"), ("step", "sh"), ("step", "trace"),
            ("step", "append"), ("expect", "stderr"), ("step", "append"), ("expect", "stderr"),
            ("expect", "stdout"), ("step", "sh"), ("expect", "stderr"), ("step", "sh-fails"),
            ("step", "sh")])
        run, client, err_at, out_at, last_error = None, None, 0, 0, None
        for kind, what, arg, text in blocks:
            text = self.substitute(text)
            if kind == "step" and what in ("sh", "sh-fails"):
                r = subprocess.run(["bash", "-c", text], cwd=ROOT, capture_output=True,
                                   text=True, timeout=120)
                if what == "sh":
                    self.assertEqual(r.returncode, 0, (text, r.stdout, r.stderr))
                else:  # --check finds the mistake the running tracer named
                    self.assertEqual(r.returncode, 1, (text, r.stdout, r.stderr))
                    self.assertIn(last_error, r.stderr)
            elif what == "start":  # the server and the client, in the background
                starter = self.spawn(["bash", "-c", text + '\necho "CLIENT $CLIENT"\nwait\n'],
                                     cwd=ROOT, stdout=subprocess.PIPE, text=True)
                line = starter.stdout.readline()
                self.assertTrue(line.startswith("CLIENT "), line)
                client = int(line.split()[1])
                self.kill_later(client)
                for pid in subprocess.run(["pgrep", "-P", str(starter.pid)], capture_output=True,
                                          text=True).stdout.split():
                    self.kill_later(int(pid))
                log = os.path.join(self.tut, "client.log")
                wait_for(lambda: os.path.exists(log) and "read:" in self.read(log), 30,
                         "the peek client's first answer")
            elif what == "trace":
                out, err = os.path.join(self.tmp, "tracer.out"), os.path.join(self.tmp, "tracer.err")
                with open(out, "wb") as o, open(err, "wb") as e:
                    proc = self.spawn(["bash", "-c", "exec " + text.strip()], cwd=ROOT,
                                      stdout=o, stderr=e, env=dict(os.environ, CLIENT=str(client)))
                run = (proc, out, err)
                wait_for(lambda: "Tracing" in self.read(err), 60, "the tracer to be ready")
                wait_for(lambda: b"olleh\n" in joined(parse_events(self.read(out)), "SSL_read"),
                         30, "a traced answer")
                self.assertNotIn("SSL_peek", self.read(out))
            elif what == "append":
                with open(os.path.join(self.tut, "probes", arg), "a") as f:
                    f.write(text)
            elif what == "stderr":
                for line in text.strip("\n").split("\n"):
                    rx = re.compile(pattern(line))
                    wait_for(lambda: rx.search(self.read(run[2]), err_at), 90,
                             "%r on stderr:\n%s" % (line, self.read(run[2])))
                    err_at = rx.search(self.read(run[2]), err_at).end()
                    if "not defined" in line:
                        last_error = rx.search(self.read(run[2])).group(0)
                        self.assertEqual(last_error, line)  # the line number shown is real
            elif what == "stdout":
                rx = re.compile(pattern(text.strip("\n")))
                wait_for(lambda: rx.search(self.read(run[1]), out_at), 30,
                         "the shown rows on stdout")
                out_at = rx.search(self.read(run[1]), out_at).end()

        # The last fix reloaded too; peeks are still captured, each as the read that follows.
        proc, out, err = run
        wait_for(lambda: self.read(err).count("Reloaded") == 3, 90, "the third reload")
        seen = self.read(out).count("SSL_peek")
        wait_for(lambda: self.read(out).count("SSL_peek") > seen + 1, 30, "more SSL_peek rows")
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(timeout=30), 0, self.read(err))
        self.assertIn("reloads: 3 done, 1 failed", self.read(err))
        events = parse_events(self.read(out))
        peeked = [e["data"] for e in events if e["func"] == "SSL_peek"]
        read = [e["data"] for e in events if e["func"] == "SSL_read"]
        self.assertGreater(len(peeked), 2)
        for data in peeked:
            self.assertRegex(data, rb"^\d+ olleh\n$")
            self.assertIn(data, read)

    def read(self, path):
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")


if __name__ == "__main__":
    main()
