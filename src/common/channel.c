/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "channel.h"
#include "macro.h"
#include "parse-util.h"

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_-"

bool channel_name_valid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	/* A leading '-' or '_' would read like an option or a hidden name in scripts. */
	return n >= 1 && n <= CHANNEL_NAME_MAX && s[0] != '-' && s[0] != '_' &&
	       strspn(s, NAME_CHARS) == n;
}

int channel_list_check(const json_t *list, char err[], size_t errsize)
{
	size_t n = json_array_size(list);
	const json_t *v;
	size_t i;

	if (!json_is_array(list))
		return parse_error(err, errsize, "not an array of channel names");
	if (n == 0 || n > CHANNELS_MAX)
		return parse_error(err, errsize, "%zu channel names, not 1 to %d", n,
				   CHANNELS_MAX);
	json_array_foreach (list, i, v) {
		const char *s = json_string_value(v);

		if (!s)
			return parse_error(err, errsize, "[%zu]: not a string", i);
		if (!channel_name_valid(s))
			return parse_error(err, errsize,
					   "[%zu]: '%.*s' is not a channel name (" CHANNEL_NAME_RULE
					   ")",
					   i, 40, s);
		for (size_t j = 0; j < i; j++)
			if (streq(json_string_value(json_array_get(list, j)), s))
				return parse_error(err, errsize, "[%zu]: '%s' is listed twice", i,
						   s);
	}
	return 0;
}

bool channel_list_has(const json_t *list, const char *name)
{
	const json_t *v;
	size_t i;

	if (!name)
		return false;
	json_array_foreach (list, i, v)
		if (json_is_string(v) && streq(json_string_value(v), name))
			return true;
	return false;
}
