/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static enum log_level max_level = LOG_LEVEL_NOTICE;
static const char *program = "tuxtape";
static log_sink_fn sink;
static void *sink_data;

void log_set_max_level(enum log_level level)
{
	max_level = level;
}

enum log_level log_get_max_level(void)
{
	return max_level;
}

void log_set_program(const char *name)
{
	program = name;
}

void log_set_sink(log_sink_fn fn, void *userdata)
{
	sink = fn;
	sink_data = userdata;
}

const char *errno_to_string(int error)
{
	if (error < 0)
		error = -error;
	return strerror(error);
}

int log_full_errno(enum log_level level, int error, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[LOG_LEVEL_ERROR] = "error: ",
		[LOG_LEVEL_WARNING] = "warning: ",
		[LOG_LEVEL_NOTICE] = "",
		[LOG_LEVEL_INFO] = "",
		[LOG_LEVEL_DEBUG] = "debug: ",
	};
	char msg[4096];
	int saved = errno;
	va_list ap;
	size_t n;

	if (level > max_level)
		goto out;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	if (error != 0 && n + 3 < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", errno_to_string(error));

	if (sink)
		sink(level, msg, sink_data);
	else
		fprintf(stderr, "%s%s\n", prefix[level], msg);
out:
	errno = saved;
	return error < 0 ? error : -error;
}
