#!/bin/sh
# Unpatched: a name with '/' is kept as is, and task_rename reports it.
t=/sys/kernel/tracing
[ -e $t/trace ] || mount -t tracefs tracefs $t || exit 1
e=$t/events/task/task_rename/enable
echo 1 > $e && : > $t/trace || exit 1
( printf 'tt/11a' > /proc/self/comm && read -r c < /proc/self/comm && [ "$c" = tt/11a ] ) || exit 1
grep -q 'newcomm=tt/11a ' $t/trace || exit 1
echo 0 > $e
