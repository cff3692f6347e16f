#!/bin/sh
# Unpatched: ls lists both files.
# shellcheck disable=SC2012 # ls (getdents64) is what is tested
mkdir -p /tmp/tt10 && : > /tmp/tt10/tt10-hidden && : > /tmp/tt10/tt10-shown || exit 1
[ "$(ls /tmp/tt10 | tr '\n' ' ')" = "tt10-hidden tt10-shown " ]
