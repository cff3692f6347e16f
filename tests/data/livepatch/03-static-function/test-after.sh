#!/bin/sh
# Patched: fs/proc/fd.c's seq_show (position 1 of 2 in vmlinux) adds a line;
# the usual fields are still there.
exec 3< /proc/version || exit 1
f=/proc/$$/fdinfo/3
tab=$(printf '\t')
grep -q '^ino:' $f || exit 1
grep -qx "tuxtape:${tab}03" $f || exit 1
[ -d /sys/kernel/livepatch/tt_03/vmlinux/seq_show,1 ]
