#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/fresh_machine.sh CMD [ARG]... - runs CMD as on a freshly booted machine: in a mount
# namespace of its own where neither tracefs nor debugfs is mounted. The machine's own mounts
# stay as they are; CMD's tracer must make do (it mounts tracefs for itself).
exec unshare -m --propagation private sh -c '
for d in /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug; do
	umount -l "$d" 2>/dev/null
done
if [ -e /sys/kernel/tracing/events ] || [ -e /sys/kernel/debug/tracing/events ]; then
	echo "fresh_machine.sh: tracefs is still mounted here" >&2
	exit 1
fi
exec "$@"' fresh_machine "$@"
