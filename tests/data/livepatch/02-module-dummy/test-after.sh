#!/bin/sh
# Patched: tx_dropped is 7000 + numdummies (1 by default); the other
# counters still come from the unchanged code.
s=/sys/class/net/dummy0/statistics
read -r d < $s/tx_dropped || exit 1
read -r p < $s/tx_packets || exit 1
[ "$d" = 7001 ] && [ "$p" = 0 ]
