#!/bin/sh
# Unpatched: reading /proc/loadavg logs nothing.
read -r _ < /proc/loadavg || exit 1
! dmesg | grep -q 'tuxtape-06:'
