#!/bin/sh
# Patched: three reads, one message (the new once flag works), same format.
read -r l < /proc/loadavg || exit 1
read -r l < /proc/loadavg || exit 1
cat /proc/loadavg > /dev/null || exit 1
[ "$(dmesg | grep -c 'tuxtape-06: loadavg first read by ')" -eq 1 ] || exit 1
echo "$l" | grep -Eq '^[0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2} [0-9]+/[0-9]+ [0-9]+$'
