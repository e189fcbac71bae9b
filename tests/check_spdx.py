#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""check_spdx.py - every source file of the tree opens with an SPDX licence line (after a
shebang); the BPF programs are under GPL-2.0, alone or dual with BSD-2-Clause (the kernel loads
them as "GPL"); and every licence named has its text in LICENSES/.

Usage: check_spdx.py SOURCE_DIR. Exit 0 when all hold, 1 with one line per file that breaks
them."""
import os
import subprocess
import sys

# What a source file is: its extension, or its name, or an extensionless script's directory.
EXTENSIONS = {'.c', '.h', '.py', '.js', '.rs', '.go', '.mod', '.sh', '.spec', '.toml', '.supp',
              '.8'}
NAMES = {'CMakeLists.txt', '.clang-format'}
SCRIPT_DIRS = {'scripts', 'bench', '.ci'}
# Not sources: data the tests read, licence texts, and what a build or a run leaves behind.
SKIP_DIRS = {'.git', 'LICENSES', 'fixtures', 'corpus', 'target', 'node_modules', '__pycache__'}
BPF_LICENCES = {'GPL-2.0-only', 'GPL-2.0-only OR BSD-2-Clause'}
TAG = 'SPDX-License-Identifier: '


def is_source(root, rel):
    name = os.path.basename(rel)
    ext = os.path.splitext(name)[1]
    if ext in EXTENSIONS or name in NAMES:
        return True
    top = rel.split(os.sep)[0]
    return ext == '' and top in SCRIPT_DIRS and os.access(os.path.join(root, rel), os.X_OK)


def licence_of(path):
    """The identifier on the file's first line, or its second after a shebang; None if absent."""
    with open(path, encoding='utf-8', errors='replace') as f:
        head = [f.readline(), f.readline()]
    line = head[1] if head[0].startswith('#!') else head[0]
    if TAG not in line:
        return None
    ident = line.split(TAG, 1)[1].strip()
    return ident[:-2].strip() if ident.endswith('*/') else ident


def tree(root):
    """The files of the tree, relative to root: git's list where root is a checkout (a scratch
    file left in it is not the project's), else every file but SKIP_DIRS' and build dirs'."""
    try:
        out = subprocess.run(['git', '-C', root, 'ls-files', '-z'], capture_output=True,
                             check=True).stdout
        names = [n for n in out.decode().split('\0') if n]
        if names:
            return sorted(n for n in names if not set(n.split('/')[:-1]) & SKIP_DIRS)
    except (OSError, subprocess.CalledProcessError):
        pass
    names = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith('build')]
        names += [os.path.relpath(os.path.join(dirpath, f), root) for f in files]
    return sorted(names)


def main():
    root = os.path.abspath(sys.argv[1])
    bad = []
    used = set()
    count = 0
    for rel in tree(root):
        if os.path.isfile(os.path.join(root, rel)):
            if not is_source(root, rel):
                continue
            count += 1
            ident = licence_of(os.path.join(root, rel))
            if ident is None:
                bad.append('%s: no SPDX-License-Identifier line first' % rel)
                continue
            if rel.startswith('bpf_src' + os.sep) and ident not in BPF_LICENCES:
                bad.append("%s: '%s' is not one of the BPF programs' licences (%s): the kernel "
                           "loads them as GPL" % (rel, ident, '; '.join(sorted(BPF_LICENCES))))
            used.update(part.strip('() ') for part in ident.replace(' AND ', ' OR ').split(' OR '))
    for ident in sorted(used):
        if not os.path.isfile(os.path.join(root, 'LICENSES', ident + '.txt')):
            bad.append("LICENSES/%s.txt: missing, though files are under '%s'" % (ident, ident))
    for line in bad:
        print(line)
    if count < 100:
        print('only %d source files found under %s: wrong directory?' % (count, root))
        return 1
    print('%d source files, licences %s' % (count, ', '.join(sorted(used))))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
