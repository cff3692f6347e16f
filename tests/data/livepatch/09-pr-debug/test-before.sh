#!/bin/sh
# Unpatched: show_softirqs has no dynamic debug site; reading logs nothing.
c=/sys/kernel/debug/dynamic_debug/control
[ -r $c ] || mount -t debugfs debugfs /sys/kernel/debug || exit 1
[ -r $c ] || exit 1
! grep -q 'tuxtape-09' $c || exit 1
read -r _ < /proc/softirqs || exit 1
! dmesg | grep -q 'tuxtape-09'
