#!/bin/sh
# Unpatched: a reader named tt08-quiet reads /proc/uptime like anyone.
( printf tt08-quiet > /proc/self/comm && read -r _ i < /proc/uptime && [ -n "$i" ] )
