/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Checked number parsing: the whole string must be a number in range. */
#ifndef TUXTAPE_PARSE_UTIL_H
#define TUXTAPE_PARSE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int safe_atoi(const char *s, int *ret);
int safe_atou64(const char *s, uint64_t *ret);
int safe_atod(const char *s, double *ret);
/* "yes/true/on/1" and "no/false/off/0". */
int parse_boolean(const char *s, bool *ret);
/* True when s is n lowercase-or-uppercase hex digits exactly. */
bool is_hex_string(const char *s, size_t n);
/* Parses "YYYY-MM-DD" or an RFC 3339 time into seconds since the epoch (UTC). */
int parse_timestamp(const char *s, int64_t *ret);
/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31). */
int64_t civil_days(int64_t year, unsigned month, unsigned day);
/*
 * For parsers that report what and where: formats the message into reterr
 * (when given) and returns -EBADMSG, so "return parse_error(...)" reads well.
 */
int parse_error(char *reterr, size_t errsize, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same with the negative errno r to return ("return error_message(err, n, -EPERM, ...)"). */
int error_message(char *reterr, size_t errsize, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void format_timestamp(int64_t t, char *buf, size_t size);

#endif
