#!/bin/sh
# Patched: getdents64 skips tt10-hidden (a lookup still finds it); other
# directories list as before.
# shellcheck disable=SC2012 # ls (getdents64) is what is tested
mkdir -p /tmp/tt10 && : > /tmp/tt10/tt10-hidden && : > /tmp/tt10/tt10-shown || exit 1
[ "$(ls /tmp/tt10 | tr '\n' ' ')" = "tt10-shown " ] || exit 1
[ -e /tmp/tt10/tt10-hidden ] || exit 1
[ "$(ls /bin | wc -l)" -gt 20 ]
