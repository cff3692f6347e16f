#!/bin/sh
# Patched: '/' becomes '_'; the event follows enable and disable from the
# patched call site and reports the new name.
t=/sys/kernel/tracing
[ -e $t/trace ] || mount -t tracefs tracefs $t || exit 1
e=$t/events/task/task_rename/enable
echo 0 > $e && : > $t/trace || exit 1
( printf 'tt/11b' > /proc/self/comm && read -r c < /proc/self/comm && [ "$c" = tt_11b ] ) || exit 1
grep -q 'newcomm=tt' $t/trace && exit 1
echo 1 > $e || exit 1
( printf 'tt/11c' > /proc/self/comm && read -r c < /proc/self/comm && [ "$c" = tt_11c ] ) || exit 1
grep -q 'newcomm=tt_11c ' $t/trace || exit 1
echo 0 > $e
