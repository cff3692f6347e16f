#!/bin/sh
# Patched, WARN fired: a reader named tt08-warn gets EINVAL and a WARNING
# with the patched file and line (the module's __bug_table entry), and the
# kernel goes on (no "invalid opcode" oops).
( printf tt08-warn > /proc/self/comm && read -r _ < /proc/uptime ) && exit 1
dmesg | grep -q 'tuxtape-08: warning for tt08-warn' || exit 1
dmesg | grep -q 'WARNING: CPU: .* at fs/proc/uptime.c:21 uptime_proc_show' || exit 1
! dmesg | grep -q 'invalid opcode'
