#!/bin/sh
# Patched: the same command line (read from saved_command_line through the
# klp relocation) followed by the marker.
IFS= read -r line < /proc/cmdline || exit 1
IFS= read -r before < /tmp/tt01.cmdline || exit 1
[ "$line" = "$before tuxtape.livepatched=01" ]
