/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The agent's configuration file: defaults, every key, and each kind of bad input. */
#include <stdio.h>
#include <string.h>

#include "agent-config.h"
#include "channel.h"
#include "fileio.h"
#include "strbuf.h"
#include "test-lib.h"

struct fixture {
	char *dir;
	char *path;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = test_tmpdir_new();
	f->path = path_join(f->dir, "agent.conf");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_tmpdir_remove(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static int load_text(struct fixture *f, const char *text, struct agent_config **ret, char *err,
		     size_t errsize)
{
	assert_int_equal(write_file_atomic(f->path, text, strlen(text), 0644), 0);
	return agent_config_load(f->path, false, ret, err, errsize);
}

static void test_defaults_when_missing(void **state)
{
	struct fixture *f = *state;
	struct agent_config *c = NULL;
	char err[512] = "";

	assert_int_equal(agent_config_load(f->path, true, &c, err, sizeof(err)), 0);
	assert_null(c->mirrors);
	assert_null(c->root_file);
	assert_int_equal(c->interval, 3600);
	assert_int_equal(c->grace_period, 60);
	assert_int_equal(c->transition_timeout, 60);
	assert_true(c->auto_apply);
	assert_string_equal(c->channel, "stable");
	assert_string_equal(c->state_dir, "/var/lib/tuxtape-agent");
	assert_null(c->report_url);
	agent_config_free(c);

	/* Named explicitly (--config), a missing file is an error naming it. */
	assert_int_equal(agent_config_load(f->path, false, &c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, f->path));
}

static void test_every_key(void **state)
{
	struct fixture *f = *state;
	struct agent_config *c = NULL;
	char err[512] = "";

	assert_int_equal(
		load_text(f,
			  "# comment\n"
			  "[archive]\n"
			  "url = https://a.example/repo  file:///srv/mirror/repository/\n"
			  "root = /etc/tuxtape/root.json\n"
			  "ca_file = /etc/ssl/ca.pem\n"
			  "[agent]\n"
			  "interval = 2h\n"
			  "channel = beta-1\n"
			  "auto_apply = no\n"
			  "grace_period = 90s\n"
			  "transition_timeout = 2m\n"
			  "report_url = http://fleet.example/report\n"
			  "state_dir = /srv/agent\n",
			  &c, err, sizeof(err)),
		0);
	assert_int_equal(strv_length(c->mirrors), 2);
	/* Each mirror ends in '/': the TUF client appends file names. */
	assert_string_equal(c->mirrors[0], "https://a.example/repo/");
	assert_string_equal(c->mirrors[1], "file:///srv/mirror/repository/");
	assert_string_equal(c->root_file, "/etc/tuxtape/root.json");
	assert_string_equal(c->ca_file, "/etc/ssl/ca.pem");
	assert_int_equal(c->interval, 7200);
	assert_string_equal(c->channel, "beta-1");
	assert_false(c->auto_apply);
	assert_int_equal(c->grace_period, 90);
	assert_int_equal(c->transition_timeout, 120);
	assert_string_equal(c->report_url, "http://fleet.example/report");
	assert_string_equal(c->state_dir, "/srv/agent");
	agent_config_free(c);
}

static void expect_bad(struct fixture *f, const char *text, const char *needle)
{
	struct agent_config *c = NULL;
	char err[512] = "";

	assert_int_equal(load_text(f, text, &c, err, sizeof(err)), -EBADMSG);
	assert_null(c);
	if (!strstr(err, needle) || !strstr(err, f->path))
		fail_msg("error '%s' does not name '%s' and the file", err, needle);
}

static void test_bad_input(void **state)
{
	struct fixture *f = *state;

	expect_bad(f, "[agent\ninterval = 1\n", "line 1");
	expect_bad(f, "interval = 1\n", "line 1");
	expect_bad(f, "[agent]\n\njunk\n", "line 3");
	expect_bad(f, "[agent]\nintervall = 60\n", "unknown key 'agent.intervall'");
	expect_bad(f, "[archiv]\nurl = http://x/\n", "unknown key 'archiv.url'");
	expect_bad(f, "[archive]\nurl = ftp://x/repo\n", "'ftp://x/repo/' is not an http");
	expect_bad(f, "[agent]\ninterval = soon\n", "agent.interval = 'soon'");
	expect_bad(f, "[agent]\ninterval = 0\n", "agent.interval = '0'");
	expect_bad(f, "[agent]\ninterval = 9999d\n", "agent.interval = '9999d'");
	expect_bad(f, "[agent]\ngrace_period = -1\n", "agent.grace_period");
	expect_bad(f, "[agent]\ntransition_timeout = 2h\n", "agent.transition_timeout");
	expect_bad(f, "[agent]\nauto_apply = maybe\n", "agent.auto_apply = 'maybe'");
	expect_bad(f, "[agent]\nchannel = Stable!\n", "agent.channel = 'Stable!'");
	expect_bad(f, "[agent]\nchannel = -beta\n", "agent.channel = '-beta': not a channel name");
	expect_bad(f, "[agent]\nchannel = a23456789012345678901234567890123\n",
		   "agent.channel = 'a23456789012345678901234567890123'");
	expect_bad(f, "[agent]\nstate_dir = var/lib\n", "not an absolute path");
	expect_bad(f, "[agent]\nreport_url = file:///tmp/r\n", "agent.report_url");
}

/* The rule agent.channel and the archive's --channel share (src/common/channel.h). */
static void test_channel_names(void **state)
{
	struct fixture *f = *state;
	struct agent_config *c = NULL;
	char err[512] = "";

	assert_true(channel_name_valid("stable"));
	assert_true(channel_name_valid("edge"));
	assert_true(channel_name_valid("beta_2-eu"));
	assert_true(channel_name_valid("0day"));
	assert_true(channel_name_valid("a2345678901234567890123456789012")); /* 32 */
	assert_false(channel_name_valid("a23456789012345678901234567890123"));
	assert_false(channel_name_valid(""));
	assert_false(channel_name_valid(NULL));
	assert_false(channel_name_valid("-beta"));
	assert_false(channel_name_valid("_beta"));
	assert_false(channel_name_valid("Beta"));
	assert_false(channel_name_valid("be ta"));
	assert_false(channel_name_valid("beta/x"));
	assert_false(channel_name_valid("b\xc3\xa9ta"));

	assert_int_equal(load_text(f, "[agent]\nchannel = a2345678901234567890123456789012\n", &c,
				   err, sizeof(err)),
			 0);
	assert_string_equal(c->channel, "a2345678901234567890123456789012");
	agent_config_free(c);
}

static void test_durations(void **state)
{
	unsigned d;

	assert_int_equal(agent_parse_duration("45", 100, &d), 0);
	assert_int_equal(d, 45);
	assert_int_equal(agent_parse_duration("3m", 1000, &d), 0);
	assert_int_equal(d, 180);
	assert_int_equal(agent_parse_duration("1d", 86400, &d), 0);
	assert_int_equal(d, 86400);
	assert_int_equal(agent_parse_duration("2d", 86400, &d), -ERANGE);
	assert_int_equal(agent_parse_duration("", 10, &d), -EINVAL);
	assert_int_equal(agent_parse_duration("h", 10, &d), -EINVAL);
	assert_int_equal(agent_parse_duration("1.5h", 86400, &d), -EINVAL);
	assert_int_equal(agent_parse_duration("-1", 10, &d), -EINVAL);
	assert_int_equal(agent_parse_duration("99999999999999999999999", 10, &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults_when_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channel_names, setup, teardown),
		cmocka_unit_test(test_durations),
	};

	return TEST_MAIN(tests);
}
