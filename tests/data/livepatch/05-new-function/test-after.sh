#!/bin/sh
# Patched: the banner, then the line of the new function.
[ "$(wc -l < /proc/version)" -eq 2 ] || exit 1
grep -q '^Linux version ' /proc/version || exit 1
[ "$(tail -n 1 /proc/version)" = "tuxtape-05: new function, release $(uname -r)" ]
