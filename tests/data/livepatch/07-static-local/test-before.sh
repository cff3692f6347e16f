#!/bin/sh
# Unpatched: writing 4 logs once and sets the static local stfu; later
# writes are silent.
echo 4 > /proc/sys/vm/drop_caches || exit 1
echo 1 > /proc/sys/vm/drop_caches || exit 1
[ "$(dmesg | grep -c ': drop_caches: ')" -eq 1 ] || exit 1
dmesg | grep -q ': drop_caches: 4$' || exit 1
! dmesg | grep -q 'tuxtape-07:'
