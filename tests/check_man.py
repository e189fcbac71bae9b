#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_man.py - the manual page renders without a warning, and documents every option
`tracer --help` lists (and none it does not)."""
import re
import subprocess
import sys


def main() -> int:
    tracer, page = sys.argv[1], sys.argv[2]
    help_text = subprocess.run([tracer, "--help"], capture_output=True, text=True,
                               check=True).stdout
    in_help = set(re.findall(r"^ +(?:-\w, )?--([a-z][a-z-]*)", help_text, re.M))
    with open(page) as f:
        roff = f.read()
    in_page = set(re.findall(r"\\-\\-([a-z]+(?:\\-[a-z]+)*)", roff))
    in_page = {o.replace("\\-", "-") for o in in_page}
    bad = 0
    for opt in sorted(in_help - in_page):
        print("%s: option --%s of --help is not documented" % (page, opt))
        bad += 1
    for opt in sorted(in_page - in_help):
        print("%s: documents --%s, which --help does not list" % (page, opt))
        bad += 1
    r = subprocess.run(["groff", "-man", "-ww", "-z", page], capture_output=True, text=True)
    if r.returncode or r.stderr:
        print("%s: groff says:\n%s" % (page, r.stderr))
        bad += 1
    print("%d options of --help documented in %s; %d problems" % (len(in_help), page, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
