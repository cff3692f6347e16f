/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging for commands and daemons.  Library code does not log except at
 * LOG_DEBUG; the caller that knows the context logs once with what and where.
 * Messages start lowercase, name the subject in single quotes and carry no
 * trailing full stop.  log_*_errno() return the negative errno they were given
 * so "return log_error_errno(r, ...)" reads naturally.
 */
#ifndef TUXTAPE_LOG_H
#define TUXTAPE_LOG_H

#include "macro.h"

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_set_max_level(enum log_level level);
enum log_level log_get_max_level(void);
void log_set_program(const char *name);

/* Redirects all output (tests capture it); NULL restores stderr. */
typedef void (*log_sink_fn)(enum log_level level, const char *msg, void *userdata);
void log_set_sink(log_sink_fn fn, void *userdata);

int log_full_errno(enum log_level level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_error(...) log_full_errno(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_LEVEL_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_LEVEL_ERROR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_LEVEL_DEBUG, (e), __VA_ARGS__)

/* "%s" of a negative errno, including the project's own domain codes. */
const char *errno_to_string(int error);

#endif
