#!/bin/sh
# Unpatched: fdinfo has pos/flags/mnt_id/ino and no tuxtape line.
exec 3< /proc/version || exit 1
f=/proc/$$/fdinfo/3
grep -q '^ino:' $f || exit 1
! grep -q '^tuxtape:' $f
