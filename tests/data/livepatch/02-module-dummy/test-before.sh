#!/bin/sh
# Unpatched: dummy0 (created by dummy.ko) drops nothing.
s=/sys/class/net/dummy0/statistics
read -r d < $s/tx_dropped || exit 1
[ "$d" = 0 ]
