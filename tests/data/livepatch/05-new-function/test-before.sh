#!/bin/sh
# Unpatched: /proc/version is one line.
[ "$(wc -l < /proc/version)" -eq 1 ] || exit 1
! grep -q tuxtape-05 /proc/version
