#!/bin/sh
# Patched: every line show_val_kb() writes says KiB (MemTotal to Mlocked at least).
for k in MemTotal MemFree MemAvailable Buffers Cached Active Inactive Unevictable Mlocked; do
	grep -q "^$k: *[0-9][0-9]* KiB\$" /proc/meminfo || exit 1
done
! grep -q '^MemTotal:.* kB$' /proc/meminfo
