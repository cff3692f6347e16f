#!/bin/sh
# Unpatched: /proc/meminfo values are in kB.
grep -q '^MemTotal: *[0-9][0-9]* kB$' /proc/meminfo || exit 1
! grep -q 'KiB$' /proc/meminfo
