/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reader for the kernel CNA's linux-cve-announce mails: single messages,
 * mbox files (mboxrd quoting), maildirs and directories of *.mbox files as
 * found in vulns.git (cve/published/YYYY/CVE-*.mbox).
 *
 * A message becomes a struct cve_record (record.h) with source "mbox":
 *   Subject "CVE-Y-N: title"            -> id, title
 *   Subject "REJECTED: CVE-Y-N: title"  -> id, title, rejected = true
 *   Date header                         -> published (0 when absent)
 *   "Description" section               -> description (without the closing
 *                                          "The Linux kernel CVE team has
 *                                          assigned ..." line, as in the JSON)
 *   "Severity" section "Vector:" line   -> cvss_vector, cvss_score, cvss_severity
 *   "Affected and fixed versions"       -> pairs; "Fixed in Y with commit B" has
 *                                          no introduction (NULL), "Issue
 *                                          introduced in X with commit A" alone
 *                                          is not fixed (NULL)
 *   "Affected files"                    -> program_files
 *   "Mitigation" URLs                   -> references; the hex last path
 *                                          component of each -> fix_commits
 *
 * Headers may use CRLF line ends, folding and RFC 2047 encoded words (Q and B,
 * UTF-8, US-ASCII and ISO-8859-1; other charsets are kept undecoded).  Bodies
 * may be quoted-printable or base64; multipart messages are not supported.
 *
 * Functions keep no global state of their own and may run in several threads.
 */
#ifndef TUXTAPE_CVE_MBOX_H
#define TUXTAPE_CVE_MBOX_H

#include <stddef.h>

#include "record.h"

/* Largest message accepted; bigger ones are refused (-EFBIG) or skipped. */
#define MBOX_MESSAGE_MAX (16u * 1024 * 1024)

/*
 * Parses one message of len bytes (need not be NUL-terminated).  A leading
 * mbox "From " envelope line is skipped and then ">From " lines are unquoted
 * (mboxrd: one '>' removed from ">>*From ").
 *
 * Returns 0 and a new record in *ret (caller frees with cve_record_free()), or
 *   -EBADMSG  not a CVE announcement or malformed: NUL bytes, broken headers,
 *             subject without a CVE id, no Description or no version lines in
 *             a non-rejected announcement, an unparsable version line or CVSS
 *             vector, more than 10000 entries in one list section.  reterr
 *             (when not NULL) receives the reason and, where it applies,
 *             "line N:" counted from the first line of buf.
 *   -EFBIG    len > MBOX_MESSAGE_MAX
 *   -ENOMEM
 * *ret is written only on success.
 */
int mbox_parse_message(const char *buf, size_t len, struct cve_record **ret, char *reterr,
		       size_t errsize);

/*
 * Called once per well-formed message.  origin names where it came from:
 * "path:N" (N = line of the "From " line) for mbox files, the file path for
 * maildir messages.  Return a negative errno to stop the walk (mbox_foreach()
 * returns it), 0 to go on (rec is freed afterwards), or > 0 when the callback
 * has taken ownership of rec and will free it itself.
 */
typedef int (*mbox_message_fn)(struct cve_record *rec, const char *origin, void *userdata);

/*
 * Calls fn for every announcement under path, which is
 *   - an mbox file: split at "From " lines at the start of the file or after a
 *     blank line,
 *   - a maildir: a directory with cur/ and/or new/, one message per file
 *     (names starting with '.' skipped),
 *   - any other directory: its *.mbox files (not recursive), each an mbox.
 * Files are visited in name order.  Messages that mbox_parse_message() refuses
 * with -EBADMSG or -EFBIG (messages over MBOX_MESSAGE_MAX are not kept in
 * memory) are skipped, logged at debug level and counted in *ret_bad.
 *
 * Returns the number of records handed to fn, or a negative errno: from fn,
 * from opening/reading path (e.g. -ENOENT), or -ENOMEM.  *ret_bad (may be
 * NULL) is written only on success.
 */
int mbox_foreach(const char *path, mbox_message_fn fn, void *userdata, unsigned *ret_bad);

#endif
