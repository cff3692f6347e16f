#!/bin/sh
# Unpatched: /proc/cmdline is the boot command line, without the marker.
IFS= read -r line < /proc/cmdline || exit 1
[ -n "$line" ] || exit 1
case $line in *tuxtape.livepatched=01*) exit 1 ;; esac
printf '%s\n' "$line" > /tmp/tt01.cmdline
