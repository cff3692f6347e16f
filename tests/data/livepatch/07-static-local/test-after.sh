#!/bin/sh
# Patched: the handler sees the stfu the running kernel set before the
# patch (4, not a fresh 0), so it stays silent and says so.
echo 1 > /proc/sys/vm/drop_caches || exit 1
dmesg | grep -q 'tuxtape-07: drop_caches 1, stfu 4$' || exit 1
[ "$(dmesg | grep -c ': drop_caches: ')" -eq 1 ]
