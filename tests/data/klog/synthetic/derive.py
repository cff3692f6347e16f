#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the kernel log of ../warn.console (a real capture) in the other forms
the parser reads: /dev/kmsg records, journalctl -k text and -o json, syslog
(with lines of other programs between), dmesg -T, -x and --time-format iso,
RFC 5424 syslog and journalctl -o short-monotonic.  Deterministic: run it
again after a recapture.  Usage: python3 derive.py (in this directory)."""
import datetime
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
BOOT = datetime.datetime(2025, 11, 28, 2, 40, 0, tzinfo=datetime.timezone.utc)
LEVELS = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"]


def records():
    text = open(os.path.join(HERE, "..", "warn.console"), encoding="utf-8",
                errors="surrogateescape").read()
    dump = text.split("TUXTAPE-DMESG-BEGIN\n", 1)[1].split("TUXTAPE-DMESG-END", 1)[0]
    for line in dump.splitlines():
        m = re.match(r"\[\s*(\d+)\.(\d{6})\] ?(.*)$", line)
        if m:
            us = int(m.group(1)) * 1000000 + int(m.group(2))
            msg = m.group(3)
            # the dump carries no levels: guess them the way the kernel prints
            level = 4 if msg.startswith(("WARNING", "------------[", "---[")) else 6
            yield us, level, msg


def wall(us):
    return BOOT + datetime.timedelta(microseconds=us)


def write(name, lines):
    with open(os.path.join(HERE, name), "w", encoding="utf-8",
              errors="surrogateescape") as f:
        for line in lines:
            f.write(line + "\n")


def main():
    recs = list(records())
    write("warn.kmsg", ["%d,%d,%d,-;%s" % (r[1], i, r[0], r[2]) +
                        ("\n SUBSYSTEM=virtual" if i == 3 else "")
                        for i, r in enumerate(recs)])
    write("warn.dmesg-T", ["[%s] %s" % (wall(us).strftime("%a %b %e %H:%M:%S %Y"), m)
                           for us, _, m in recs])
    write("warn.dmesg-x", ["%-6s:%-6s: [%5d.%06d] %s" % ("kern", LEVELS[lv], us // 1000000,
                                                         us % 1000000, m)
                           for us, lv, m in recs])
    write("warn.iso", ["%s,%06d+00:00 %s" % (wall(us).strftime("%Y-%m-%dT%H:%M:%S"),
                                             wall(us).microsecond, m) for us, _, m in recs])
    syslog = []
    for i, (us, _, m) in enumerate(recs):
        if i % 50 == 0:
            syslog.append("%s tuxhost sshd[812]: Accepted publickey for root from 10.0.2.2"
                          % wall(us).strftime("%b %e %H:%M:%S"))
        syslog.append("%s tuxhost kernel: [%5d.%06d] %s" % (wall(us).strftime("%b %e %H:%M:%S"),
                                                            us // 1000000, us % 1000000, m))
    write("warn.syslog", syslog)
    write("warn.journal", ["-- Boot 5b0f2f1c3c6e4b1d9a4e2f0f1a2b3c4d --"] +
          ["%s tuxhost kernel: %s" % (wall(us).strftime("%b %d %H:%M:%S"), m)
           for us, _, m in recs])
    write("warn.short-monotonic", ["[%5d.%06d] tuxhost kernel: %s" % (us // 1000000,
                                                                      us % 1000000, m)
                                   for us, _, m in recs])
    write("warn.rfc5424", ["<%d>1 %s tuxhost kernel - - - %s" % (lv, wall(us).isoformat(), m)
                           for us, lv, m in recs])
    journal = []
    for i, (us, lv, m) in enumerate(recs):
        e = {"_TRANSPORT": "kernel", "PRIORITY": str(lv), "SYSLOG_FACILITY": "0",
             "SYSLOG_IDENTIFIER": "kernel", "_BOOT_ID": "5b0f2f1c3c6e4b1d9a4e2f0f1a2b3c4d",
             "_HOSTNAME": "tuxhost", "__REALTIME_TIMESTAMP": str(int(wall(us).timestamp() * 1e6)),
             "_SOURCE_MONOTONIC_TIMESTAMP": str(us), "MESSAGE": m}
        if i == 7:
            # non-UTF-8 messages come as byte arrays
            e["MESSAGE"] = list(m.encode("utf-8")) + [0xff]
        journal.append(json.dumps(e, sort_keys=True))
        if i % 40 == 0:
            journal.append(json.dumps({"_TRANSPORT": "syslog", "SYSLOG_IDENTIFIER": "sshd",
                                       "MESSAGE": "WARNING: CPU: 9 PID: 1 at not/the/kernel.c:1 x+0x0/0x1",
                                       "PRIORITY": "4"}, sort_keys=True))
    write("warn.journal.json", journal)


main()
