# SPDX-License-Identifier: Apache-2.0
"""go_file.py - what the test programs share: waiting for the file that lets them go, so a
tracer can attach by PID before their TLS traffic starts."""
import os
import sys
import time


def wait_for_go(path, who, timeout=60):
    """True once `path` exists (at once when path is None); False, said on stderr as `who`,
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while path and not os.path.exists(path):
        if time.monotonic() > deadline:
            print("%s: no go file after %d s" % (who, timeout), file=sys.stderr)
            return False
        time.sleep(0.01)
    return True
