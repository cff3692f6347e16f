#!/bin/sh
# Patched: the module's site is listed (file, line, module, function), off
# by default; once enabled, a read logs the message; disabled again, not.
c=/sys/kernel/debug/dynamic_debug/control
[ -r $c ] || mount -t debugfs debugfs /sys/kernel/debug || exit 1
grep -q '^fs/proc/softirqs.c:15 \[tt_09\]show_softirqs =_ "tuxtape-09' $c || exit 1
read -r _ < /proc/softirqs || exit 1
dmesg | grep -q 'tuxtape-09' && exit 1
echo 'module tt_09 +p' > $c || exit 1
read -r _ < /proc/softirqs || exit 1
[ "$(dmesg | grep -c 'tuxtape-09: softirqs read by sh')" -eq 1 ] || exit 1
echo 'module tt_09 -p' > $c || exit 1
read -r _ < /proc/softirqs || exit 1
[ "$(dmesg | grep -c 'tuxtape-09: softirqs read by sh')" -eq 1 ]
