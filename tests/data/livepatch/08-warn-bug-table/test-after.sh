#!/bin/sh
# Patched: readers named tt08-* get EINVAL, without a warning; others read.
( printf tt08-quiet > /proc/self/comm && read -r _ < /proc/uptime ) && exit 1
read -r _ i < /proc/uptime && [ -n "$i" ] || exit 1
! dmesg | grep -q 'tuxtape-08'
