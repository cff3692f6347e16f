/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "channel.h"
#include "cli.h"
#include "fileio.h"
#include "log.h"
#include "parse-util.h"
#include "serve.h"
#include "strbuf.h"

#define PASSPHRASE_MAX 4096
#define PEM_MAX (1024 * 1024)
#define PUBKEY_MAX (64 * 1024)
#define MAX_COMMANDS 32
#define MAX_MODULES 100000

enum {
	OPT_ARCHIVE = 300,
	OPT_JSON,
	OPT_PASSFILE,
	OPT_ONLINE_PASSFILE,
	OPT_OFFLINE_DIR,
	OPT_FIRST_VERB_OPTION, /* verbs number their own options from here */
};

#define COMMON_OPTIONS                                                                             \
	{ "archive", required_argument, NULL, OPT_ARCHIVE },                                       \
		{ "json", no_argument, NULL, OPT_JSON },                                           \
		{ "passphrase-file", required_argument, NULL, OPT_PASSFILE },                      \
		{ "online-passphrase-file", required_argument, NULL, OPT_ONLINE_PASSFILE },        \
		{ "offline-dir", required_argument, NULL, OPT_OFFLINE_DIR },                       \
		{ "help", no_argument, NULL, 'h' }

#define COMMON_HELP                                                                                \
	"      --archive DIR      the archive (default: [archive] dir, else DATA_DIR/archive)\n"  \
	"      --passphrase-file F  the offline keys' passphrase, first line of F (else\n"       \
	"                         $TUXTAPE_ARCHIVE_PASSPHRASE)\n"                                \
	"      --online-passphrase-file F  the online keys' passphrase when they are\n"          \
	"                         encrypted (else $TUXTAPE_ARCHIVE_ONLINE_PASSPHRASE)\n"         \
	"      --offline-dir DIR  where the offline keys are (default: as at init)\n"            \
	"      --json             machine-readable output\n"                                      \
	"  -h, --help             show this help\n"

struct aopts {
	const char *archive, *passphrase_file, *online_passphrase_file, *offline_dir;
};

/* The options every verb takes; true when c was one of them. */
static bool common_option(struct cli_ctx *ctx, struct aopts *o, int c)
{
	switch (c) {
	case OPT_ARCHIVE:
		o->archive = optarg;
		return true;
	case OPT_JSON:
		ctx->json = true;
		return true;
	case OPT_PASSFILE:
		o->passphrase_file = optarg;
		return true;
	case OPT_ONLINE_PASSFILE:
		o->online_passphrase_file = optarg;
		return true;
	case OPT_OFFLINE_DIR:
		o->offline_dir = optarg;
		return true;
	default:
		return false;
	}
}

static char *archive_path(struct cli_ctx *ctx, const struct aopts *o)
{
	const char *v = o->archive ?: config_get(ctx->config, "archive.dir", NULL);

	return v ? strdup(v) : path_join(ctx->data_dir, "archive");
}

/* The first line of file, or the environment variable; NULL when neither. Logs. */
static int read_passphrase(const char *file, const char *env, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	if (!file) {
		const char *v = getenv(env);

		*ret = NULL;
		if (!v)
			return 0;
		if (!*v)
			return log_error_errno(-EINVAL, "$%s is empty", env);
		*ret = strdup(v);
		return *ret ? 0 : log_error_errno(-ENOMEM, "cannot allocate the passphrase");
	}
	r = read_file_bounded(file, PASSPHRASE_MAX, &buf, &len);
	if (r < 0)
		return log_error_errno(r, "cannot read the passphrase file '%s'", file);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0]) {
		explicit_bzero(buf, len);
		return log_error_errno(-EINVAL, "the passphrase file '%s' has an empty first line",
				       file);
	}
	*ret = TAKE_PTR(buf);
	return 0;
}

static void free_secretp(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
	}
}

/* Maps a library failure to a logged error and the handler's result. */
static int fail(int r, const char *err, const char *what)
{
	if (r == -ENOMEM)
		return log_error_errno(r, "%s", what);
	log_error("%s", err[0] ? err : what);
	return r;
}

static int open_archive(struct cli_ctx *ctx, const struct aopts *o, bool lock,
			struct archive **ret)
{
	_cleanup_(archive_freep) struct archive *a = NULL;
	_cleanup_(free_secretp) char *pass = NULL, *online = NULL;
	_cleanup_free_ char *dir = archive_path(ctx, o);
	char err[1024] = "";
	int r;

	if (!dir)
		return log_error_errno(-ENOMEM, "cannot allocate the archive path");
	r = archive_open(dir, lock ? ARCHIVE_OPEN_LOCK : 0, &a, err, sizeof(err));
	if (r < 0)
		return fail(r, err, "cannot open the archive");
	r = read_passphrase(o->passphrase_file, "TUXTAPE_ARCHIVE_PASSPHRASE", &pass);
	if (r < 0)
		return r;
	r = read_passphrase(o->online_passphrase_file, "TUXTAPE_ARCHIVE_ONLINE_PASSPHRASE",
			    &online);
	if (r < 0)
		return r;
	r = archive_set_passphrases(a, pass, online);
	if (r >= 0 && o->offline_dir)
		r = archive_set_offline_dir(a, o->offline_dir);
	if (r < 0)
		return log_error_errno(r, "cannot set up the archive");
	*ret = TAKE_PTR(a);
	return 0;
}

/* ---- init ---- */

static void init_help(void)
{
	fputs("usage: tuxtape archive init [DIR] [OPTIONS]\n"
	      "\n"
	      "Create a TUF archive in DIR (new or empty; default --archive, [archive] dir,\n"
	      "else DATA_DIR/archive): keys, 1.root.json, empty targets, snapshot and\n"
	      "timestamp, consistent snapshots.  Root and targets keys are offline:\n"
	      "encrypted PKCS#8 with the passphrase, or an external signing command (HSM).\n"
	      "Snapshot, timestamp and the kernel roles' key are online (mode 0600,\n"
	      "encrypted only with an online passphrase).\n"
	      "\n"
	      "Options:\n"
	      "      --scheme S         ed25519 (default) or ecdsa-sha2-nistp256\n"
	      "      --root-keys N      number of root keys (default 1)\n"
	      "      --root-threshold M root signatures required (default 1)\n"
	      "      --targets-keys N   number of targets keys (default 1)\n"
	      "      --targets-threshold M  targets signatures required (default 1)\n"
	      "      --signer-command ROLE=CMD,PUBKEY.json  a key of ROLE held by an external\n"
	      "                         signer: CMD (run by /bin/sh) reads the bytes on stdin and\n"
	      "                         prints the hex signature; PUBKEY.json is its TUF public\n"
	      "                         key {keytype,scheme,keyval} (repeatable)\n"
	      "      --expiry ROLE=DURATION  metadata lifetime of root (365d), targets (90d),\n"
	      "                         kernels (30d), snapshot (7d), timestamp (1d); e.g. 12h\n"
	      "      --keep N           metadata versions kept for clients mid-update (default 4)\n"
	      COMMON_HELP
	      "\n"
	      "Exit codes: 0 ok, 1 failure (nothing is left behind but DIR), 2 usage.\n",
	      stdout);
}

static int parse_count(const char *s, unsigned *ret)
{
	uint64_t v;

	if (safe_atou64(s, &v) < 0 || v < 1 || v > 16)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

struct commands {
	struct archive_key_command v[MAX_COMMANDS];
	json_t *keys[MAX_COMMANDS];
	char *cmds[MAX_COMMANDS];
	size_t n;
};

static void commands_release(struct commands *c)
{
	for (size_t i = 0; i < c->n; i++) {
		json_decref(c->keys[i]);
		free(c->cmds[i]);
	}
}

/* ROLE=CMD,PUBKEY.json (the last comma separates: commands may hold commas). */
static int parse_signer_command(const char *arg, struct commands *c)
{
	const char *eq = strchr(arg, '='), *comma = strrchr(arg, ',');
	_cleanup_free_ char *role = NULL;
	json_error_t je;
	enum archive_role rl;

	if (c->n >= MAX_COMMANDS)
		return cli_usage_error("archive", "init", "at most %d --signer-command options",
				       MAX_COMMANDS);
	if (!eq || !comma || comma < eq || comma == eq + 1 || !comma[1])
		return cli_usage_error("archive", "init",
				       "invalid --signer-command '%s' (ROLE=CMD,PUBKEY.json)", arg);
	role = strndup(arg, (size_t)(eq - arg));
	if (!role)
		return log_error_errno(-ENOMEM, "cannot allocate");
	rl = archive_role_from_string(role);
	if (rl < 0)
		return cli_usage_error(
			"archive", "init",
			"unknown role '%s' in --signer-command (root, targets, snapshot, "
			"timestamp, kernels)",
			role);
	c->cmds[c->n] = strndup(eq + 1, (size_t)(comma - eq - 1));
	if (!c->cmds[c->n])
		return log_error_errno(-ENOMEM, "cannot allocate");
	c->keys[c->n] = json_load_file(comma + 1, JSON_REJECT_DUPLICATES, &je);
	if (!c->keys[c->n]) {
		free(c->cmds[c->n]);
		log_error("cannot read the public key '%s': line %d column %d: %s", comma + 1,
			  je.line, je.column, je.text);
		return -EBADMSG;
	}
	c->v[c->n] = (struct archive_key_command){ rl, c->cmds[c->n], c->keys[c->n] };
	c->n++;
	return 0;
}

static int parse_role_value(const char *verb, const char *opt, const char *arg,
			    enum archive_role *ret_role, const char **ret_value)
{
	const char *eq = strchr(arg, '=');
	char role[32];

	if (!eq || (size_t)(eq - arg) >= sizeof(role))
		return cli_usage_error("archive", verb, "invalid %s '%s' (ROLE=VALUE)", opt, arg);
	memcpy(role, arg, (size_t)(eq - arg));
	role[eq - arg] = '\0';
	*ret_role = archive_role_from_string(role);
	if (*ret_role < 0)
		return cli_usage_error("archive", verb, "unknown role '%s' in %s", role, opt);
	*ret_value = eq + 1;
	return 0;
}

static int parse_scheme(const char *verb, const char *s, enum tuf_scheme *ret)
{
	enum tuf_scheme sc = tuf_scheme_from_string(s);

	if (sc != TUF_SCHEME_ED25519 && sc != TUF_SCHEME_ECDSA_P256)
		return cli_usage_error("archive", verb,
				       "unsupported scheme '%s' (ed25519 or ecdsa-sha2-nistp256)",
				       s);
	*ret = sc;
	return 0;
}

static void print_init_human(const char *dir)
{
	printf("created archive '%s'\n", dir);
	printf("  give nodes its first root: '%s/repository/metadata/1.root.json'\n", dir);
	printf("  serve '%s/repository' (tuxtape archive serve, or any static web server)\n", dir);
}

static int verb_init(struct cli_ctx *ctx, int argc, char **argv)
{
	enum {
		OPT_SCHEME = OPT_FIRST_VERB_OPTION,
		OPT_ROOT_KEYS,
		OPT_ROOT_THRESHOLD,
		OPT_TARGETS_KEYS,
		OPT_TARGETS_THRESHOLD,
		OPT_SIGNER_COMMAND,
		OPT_EXPIRY,
		OPT_KEEP,
	};
	static const struct option options[] = {
		COMMON_OPTIONS,
		{ "scheme", required_argument, NULL, OPT_SCHEME },
		{ "root-keys", required_argument, NULL, OPT_ROOT_KEYS },
		{ "root-threshold", required_argument, NULL, OPT_ROOT_THRESHOLD },
		{ "targets-keys", required_argument, NULL, OPT_TARGETS_KEYS },
		{ "targets-threshold", required_argument, NULL, OPT_TARGETS_THRESHOLD },
		{ "signer-command", required_argument, NULL, OPT_SIGNER_COMMAND },
		{ "expiry", required_argument, NULL, OPT_EXPIRY },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{},
	};
	_cleanup_(commands_release) struct commands cmds = { .n = 0 };
	_cleanup_(free_secretp) char *pass = NULL, *online = NULL;
	_cleanup_free_ char *dir = NULL;
	struct archive_init_options io = { .scheme = TUF_SCHEME_ED25519 };
	struct aopts o = { 0 };
	char err[1024] = "";
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (common_option(ctx, &o, c))
			continue;
		switch (c) {
		case OPT_SCHEME:
			r = parse_scheme("init", optarg, &io.scheme);
			if (r < 0)
				return r;
			break;
		case OPT_ROOT_KEYS:
		case OPT_ROOT_THRESHOLD:
		case OPT_TARGETS_KEYS:
		case OPT_TARGETS_THRESHOLD: {
			enum archive_role role = c == OPT_ROOT_KEYS || c == OPT_ROOT_THRESHOLD
							 ? ARCHIVE_ROLE_ROOT
							 : ARCHIVE_ROLE_TARGETS;
			unsigned *dst = c == OPT_ROOT_KEYS || c == OPT_TARGETS_KEYS
						? &io.n_keys[role]
						: &io.threshold[role];

			if (parse_count(optarg, dst) < 0)
				return cli_usage_error("archive", "init",
						       "invalid count '%s' (1..16)", optarg);
			break;
		}
		case OPT_SIGNER_COMMAND:
			r = parse_signer_command(optarg, &cmds);
			if (r < 0)
				return r;
			break;
		case OPT_EXPIRY: {
			enum archive_role role = ARCHIVE_ROLE_ROOT;
			const char *v = NULL;

			r = parse_role_value("init", "--expiry", optarg, &role, &v);
			if (r < 0)
				return r;
			if (archive_parse_duration(v, &io.expiry[role]) < 0)
				return cli_usage_error(
					"archive", "init",
					"invalid duration '%s' (like 90d, 12h, 30m, 45s)", v);
			break;
		}
		case OPT_KEEP: {
			uint64_t v;

			if (safe_atou64(optarg, &v) < 0 || v < 1 || v > 1000)
				return cli_usage_error("archive", "init",
						       "invalid --keep '%s' (1..1000)", optarg);
			io.keep = (unsigned)v;
			break;
		}
		case 'h':
			init_help();
			return 0;
		default:
			return cli_usage_error("archive", "init", "invalid option");
		}
	}
	if (argc - optind > 1)
		return cli_usage_error("archive", "init", "expected at most one DIR");
	if (argc - optind == 1) {
		if (o.archive && !streq(o.archive, argv[optind]))
			return cli_usage_error("archive", "init", "DIR and --archive disagree");
		o.archive = argv[optind];
	}
	dir = archive_path(ctx, &o);
	if (!dir)
		return log_error_errno(-ENOMEM, "cannot allocate the archive path");
	r = read_passphrase(o.passphrase_file, "TUXTAPE_ARCHIVE_PASSPHRASE", &pass);
	if (r >= 0)
		r = read_passphrase(o.online_passphrase_file, "TUXTAPE_ARCHIVE_ONLINE_PASSPHRASE",
				    &online);
	if (r < 0)
		return r;
	io.passphrase = pass;
	io.online_passphrase = online;
	io.offline_dir = o.offline_dir;
	io.commands = cmds.v;
	io.n_commands = cmds.n;
	r = archive_init(dir, &io, err, sizeof(err));
	if (r < 0)
		return fail(r, err, "cannot create the archive");
	if (ctx->json) {
		_cleanup_free_ char *abs = realpath(dir, NULL);
		_cleanup_free_ char *root = NULL, *repo = NULL;

		if (!abs || asprintf(&root, "%s/repository/metadata/1.root.json", abs) < 0 ||
		    asprintf(&repo, "%s/repository", abs) < 0)
			return log_error_errno(-ENOMEM, "cannot allocate");
		return cli_print_json(json_pack("{s:s, s:s, s:s, s:I}", "archive", abs, "root",
						root, "repository", repo, "root_version",
						(json_int_t)1));
	}
	if (ctx->verbosity >= 0)
		print_init_human(dir);
	return 0;
}

/* "beta,stable": a target's channels for humans ("stable" when it lists none). */
static void channels_text(const json_t *custom, struct strbuf *sb)
{
	const json_t *list = json_object_get(custom, "channels"), *v;
	size_t i;

	if (!list) {
		(void)strbuf_addf(sb, "%s", CHANNEL_DEFAULT);
		return;
	}
	json_array_foreach (list, i, v)
		(void)strbuf_addf(sb, "%s%s", i ? "," : "", json_string_value(v));
}

/* ---- add ---- */

static void add_help(void)
{
	fputs("usage: tuxtape archive add MODULE.ko... [OPTIONS]\n"
	      "\n"
	      "Stage livepatch modules as targets of their kernel release's role (created\n"
	      "with its delegation when new): path RELEASE/NAME-N.ko, N = the module's\n"
	      "previous patch version + 1.  The module must be an ELF relocatable with a\n"
	      ".modinfo holding name= and livepatch=Y; the release comes from its vermagic.\n"
	      "Nothing is served before 'tuxtape archive publish'.\n"
	      "\n"
	      "Options:\n"
	      "      --kernel-release R   the kernel (uname -r) the modules are for; a module\n"
	      "                           whose vermagic names another is refused\n"
	      "      --build-id HEX       the kernel's build id\n"
	      "      --cve ID             a CVE the module fixes (repeatable)\n"
	      "      --replaces PATH      the target it replaces (default: the newest\n"
	      "                           non-revoked one of the kernel release)\n"
	      "      --min-agent-version V  oldest agent that may load it (default 0.1.0)\n"
	      "      --no-replace         not a cumulative (atomic replace) livepatch\n"
	      "      --channel NAME       a channel it is published in (repeatable, at most\n"
	      "                           16; default: stable only); nodes load only the\n"
	      "                           targets of the channel they follow\n"
	      COMMON_HELP
	      "\n"
	      "Exit codes: 0 ok, 1 failure (nothing staged), 2 usage, 4 archive locked.\n",
	      stdout);
}

static int verb_add(struct cli_ctx *ctx, int argc, char **argv)
{
	enum {
		OPT_RELEASE = OPT_FIRST_VERB_OPTION,
		OPT_BUILD_ID,
		OPT_CVE,
		OPT_REPLACES,
		OPT_MIN_AGENT,
		OPT_NO_REPLACE,
		OPT_CHANNEL,
	};
	static const struct option options[] = {
		COMMON_OPTIONS,
		{ "kernel-release", required_argument, NULL, OPT_RELEASE },
		{ "build-id", required_argument, NULL, OPT_BUILD_ID },
		{ "cve", required_argument, NULL, OPT_CVE },
		{ "replaces", required_argument, NULL, OPT_REPLACES },
		{ "min-agent-version", required_argument, NULL, OPT_MIN_AGENT },
		{ "no-replace", no_argument, NULL, OPT_NO_REPLACE },
		{ "channel", required_argument, NULL, OPT_CHANNEL },
		{},
	};
	_cleanup_(archive_freep) struct archive *a = NULL;
	_cleanup_(json_decrefp) json_t *entries = NULL;
	_cleanup_strv_free_ char **cves = NULL, **channels = NULL;
	struct archive_add_options ao = { 0 };
	struct aopts o = { 0 };
	char err[1024] = "";
	json_t *e;
	size_t i;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (common_option(ctx, &o, c))
			continue;
		switch (c) {
		case OPT_RELEASE:
			ao.kernel_release = optarg;
			break;
		case OPT_BUILD_ID:
			ao.build_id = optarg;
			break;
		case OPT_CVE:
			if (strv_push(&cves, optarg) < 0)
				return log_error_errno(-ENOMEM, "cannot allocate");
			break;
		case OPT_REPLACES:
			ao.replaces = optarg;
			break;
		case OPT_MIN_AGENT:
			ao.min_agent_version = optarg;
			break;
		case OPT_NO_REPLACE:
			ao.no_replace = true;
			break;
		case OPT_CHANNEL:
			if (strv_push(&channels, optarg) < 0)
				return log_error_errno(-ENOMEM, "cannot allocate");
			break;
		case 'h':
			add_help();
			return 0;
		default:
			return cli_usage_error("archive", "add", "invalid option");
		}
	}
	if (argc - optind < 1)
		return cli_usage_error("archive", "add", "expected MODULE.ko");
	if (argc - optind > MAX_MODULES)
		return cli_usage_error("archive", "add", "at most %d modules at once", MAX_MODULES);
	ao.cves = cves;
	ao.channels = channels;
	r = open_archive(ctx, &o, true, &a);
	if (r < 0)
		return r;
	r = archive_add(a, argv + optind, (size_t)(argc - optind), &ao, &entries, err, sizeof(err));
	if (r == -EINVAL && strncmp(err, "invalid", 7) == 0)
		return cli_usage_error("archive", "add", "%s", err);
	if (r < 0)
		return fail(r, err, "cannot add the module");
	if (ctx->json)
		return cli_print_json(json_array_size(entries) == 1
					      ? json_incref(json_array_get(entries, 0))
					      : json_incref(entries));
	if (ctx->verbosity >= 0) {
		json_array_foreach (entries, i, e) {
			_cleanup_strbuf_ struct strbuf sb;

			strbuf_init(&sb, 0);
			channels_text(json_object_get(e, "custom"), &sb);
			printf("staged '%s' (%lld bytes, sha256 %.16s..., channels %s)\n",
			       json_string_value(json_object_get(e, "path")),
			       (long long)json_integer_value(json_object_get(e, "length")),
			       json_string_value(json_object_get(e, "sha256")),
			       sb.len ? sb.buf : "-");
		}
		printf("run 'tuxtape archive publish' to serve %s\n",
		       json_array_size(entries) == 1 ? "it" : "them");
	}
	return 0;
}

/* ---- remove, revoke ---- */

static void revoke_help(void)
{
	fputs("usage: tuxtape archive revoke PATH --reason TEXT [OPTIONS]\n"
	      "\n"
	      "Mark a target revoked: it stays listed with revoked: true and the\n"
	      "reason, so nodes that loaded it unload it.  Takes effect with\n"
	      "'tuxtape archive publish'.\n"
	      "\n"
	      "Options:\n"
	      "      --reason TEXT      why (required; shown to operators)\n" COMMON_HELP
	      "\n"
	      "Exit codes: 0 ok, 1 failure (already revoked), 2 usage, 4 archive\n"
	      "locked, 5 no such target.\n",
	      stdout);
}

static void remove_help(void)
{
	fputs("usage: tuxtape archive remove PATH [OPTIONS]\n"
	      "\n"
	      "Drop a staged target (RELEASE/NAME-N.ko): after 'tuxtape archive\n"
	      "publish' nodes are no longer offered it.  Its file stays until no\n"
	      "kept metadata version lists it.  To make nodes unload a module, use\n"
	      "'revoke' instead.\n"
	      "\n"
	      "Options:\n" COMMON_HELP "\n"
	      "Exit codes: 0 ok, 1 failure, 2 usage, 4 archive locked, 5 no such\n"
	      "target.\n",
	      stdout);
}

static int target_verb(struct cli_ctx *ctx, int argc, char **argv, bool revoke)
{
	enum { OPT_REASON = OPT_FIRST_VERB_OPTION };
	static const struct option options[] = {
		COMMON_OPTIONS,
		{ "reason", required_argument, NULL, OPT_REASON },
		{},
	};
	const char *verb = revoke ? "revoke" : "remove", *reason = NULL;
	_cleanup_(archive_freep) struct archive *a = NULL;
	struct aopts o = { 0 };
	char err[1024] = "";
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (common_option(ctx, &o, c))
			continue;
		if (c == OPT_REASON && revoke) {
			reason = optarg;
		} else if (c == 'h') {
			if (revoke)
				revoke_help();
			else
				remove_help();
			return 0;
		} else {
			return cli_usage_error("archive", verb, "invalid option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("archive", verb, "expected one target PATH");
	if (revoke && !reason)
		return cli_usage_error("archive", verb, "--reason is required");
	r = open_archive(ctx, &o, true, &a);
	if (r < 0)
		return r;
	if (revoke)
		r = archive_revoke(a, argv[optind], reason, err, sizeof(err));
	else
		r = archive_remove(a, argv[optind], err, sizeof(err));
	if (r == -EINVAL)
		return cli_usage_error("archive", verb, "%s", err);
	if (r == -ENOENT) {
		log_error("%s", err);
		return CLI_RESULT_NOT_FOUND;
	}
	if (r < 0)
		return fail(r, err, "cannot change the target");
	if (ctx->json)
		return cli_print_json(json_pack("{s:s, s:b}", "path", argv[optind],
						revoke ? "revoked" : "removed", 1));
	if (ctx->verbosity >= 0)
		printf("%s '%s'; run 'tuxtape archive publish' to serve the change\n",
		       revoke ? "revoked" : "removed", argv[optind]);
	return 0;
}

static int verb_remove(struct cli_ctx *ctx, int argc, char **argv)
{
	return target_verb(ctx, argc, argv, false);
}

static int verb_revoke(struct cli_ctx *ctx, int argc, char **argv)
{
	return target_verb(ctx, argc, argv, true);
}

/* ---- promote ---- */

static void promote_help(void)
{
	fputs("usage: tuxtape archive promote PATH --channel NAME... [OPTIONS]\n"
	      "       tuxtape archive promote PATH --remove-channel NAME... [OPTIONS]\n"
	      "\n"
	      "Change the channels a staged target is published in.  A node loads only\n"
	      "the targets of the channel it follows ([agent] channel, default stable),\n"
	      "so a patch can soak in an early channel (edge, beta, candidate) before it\n"
	      "is promoted to stable.  --channel adds a channel, --remove-channel drops\n"
	      "one; the target keeps the others and at least one.  A target staged\n"
	      "before channels existed is in stable.  Takes effect with 'tuxtape\n"
	      "archive publish'; the patch version is unchanged.  A revoked target is\n"
	      "refused.  Promoting into a channel it is already in changes nothing.\n"
	      "\n"
	      "Options:\n"
	      "      --channel NAME     add this channel (repeatable)\n"
	      "      --remove-channel NAME  drop this channel (repeatable)\n" COMMON_HELP
	      "\n"
	      "Channel names: 1 to 32 of [a-z0-9_-], starting with a letter or digit.\n"
	      "Exit codes: 0 ok (also: nothing to change), 1 failure (a revoked target,\n"
	      "a target left in no channel), 2 usage (a bad channel name), 4 archive\n"
	      "locked, 5 no such target.\n",
	      stdout);
}

static int verb_promote(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_CHANNEL = OPT_FIRST_VERB_OPTION, OPT_REMOVE_CHANNEL };
	static const struct option options[] = {
		COMMON_OPTIONS,
		{ "channel", required_argument, NULL, OPT_CHANNEL },
		{ "remove-channel", required_argument, NULL, OPT_REMOVE_CHANNEL },
		{},
	};
	_cleanup_(archive_freep) struct archive *a = NULL;
	_cleanup_(json_decrefp) json_t *list = NULL;
	_cleanup_strv_free_ char **add = NULL, **drop = NULL;
	_cleanup_strbuf_ struct strbuf sb = { 0 };
	struct aopts o = { 0 };
	char err[1024] = "";
	bool changed = false;
	json_t *v;
	size_t i;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (common_option(ctx, &o, c))
			continue;
		if (c == OPT_CHANNEL || c == OPT_REMOVE_CHANNEL) {
			if (strv_push(c == OPT_CHANNEL ? &add : &drop, optarg) < 0)
				return log_error_errno(-ENOMEM, "cannot allocate");
		} else if (c == 'h') {
			promote_help();
			return 0;
		} else {
			return cli_usage_error("archive", "promote", "invalid option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("archive", "promote", "expected one target PATH");
	if (!add && !drop)
		return cli_usage_error("archive", "promote",
				       "--channel or --remove-channel is required");
	r = open_archive(ctx, &o, true, &a);
	if (r < 0)
		return r;
	r = archive_promote(a, argv[optind], add, drop, &changed, &list, err, sizeof(err));
	if (r == -EINVAL && strncmp(err, "invalid", 7) == 0)
		return cli_usage_error("archive", "promote", "%s", err);
	if (r == -ENOENT) {
		log_error("%s", err);
		return CLI_RESULT_NOT_FOUND;
	}
	if (r < 0)
		return fail(r, err, "cannot change the target's channels");
	if (ctx->json)
		return cli_print_json(json_pack("{s:s, s:O, s:b}", "path", argv[optind],
						"channels", list, "changed", changed));
	if (ctx->verbosity < 0)
		return 0;
	strbuf_init(&sb, 0);
	json_array_foreach (list, i, v)
		(void)strbuf_addf(&sb, "%s%s", i ? ", " : "", json_string_value(v));
	if (changed)
		printf("'%s' is now in channels %s; run 'tuxtape archive publish' to serve the "
		       "change\n",
		       argv[optind], sb.buf);
	else
		printf("'%s' is already in channels %s: nothing to change\n", argv[optind],
		       sb.buf);
	return 0;
}

/* ---- list ---- */

static void list_help(void)
{
	fputs("usage: tuxtape archive list [--kernel RELEASE] [OPTIONS]\n"
	      "\n"
	      "List the staged targets: path, patch version, CVEs, revocation, the\n"
	      "channels they are published in, and whether the served metadata lists\n"
	      "them so ('published') or a publish is pending.\n"
	      "\n"
	      "Options:\n"
	      "      --kernel RELEASE   only this kernel's role\n" COMMON_HELP "\n"
	      "Exit codes: 0 ok, 1 failure, 2 usage, 5 no such kernel role.\n",
	      stdout);
}

static int verb_list(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_KERNEL = OPT_FIRST_VERB_OPTION };
	static const struct option options[] = {
		COMMON_OPTIONS,
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{},
	};
	_cleanup_(archive_freep) struct archive *a = NULL;
	_cleanup_(json_decrefp) json_t *list = NULL;
	const char *kernel = NULL;
	struct aopts o = { 0 };
	char err[1024] = "";
	json_t *e;
	size_t i;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (common_option(ctx, &o, c))
			continue;
		if (c == OPT_KERNEL) {
			kernel = optarg;
		} else if (c == 'h') {
			list_help();
			return 0;
		} else {
			return cli_usage_error("archive", "list", "invalid option");
		}
	}
	if (argc - optind != 0)
		return cli_usage_error("archive", "list", "unexpected argument '%s'", argv[optind]);
	r = open_archive(ctx, &o, false, &a);
	if (r < 0)
		return r;
	r = archive_list(a, kernel, &list, err, sizeof(err));
	if (r == -EINVAL)
		return cli_usage_error("archive", "list", "%s", err);
	if (r == -ENOENT) {
		log_error("%s", err);
		return CLI_RESULT_NOT_FOUND;
	}
	if (r < 0)
		return fail(r, err, "cannot list the archive");
	if (ctx->json)
		return cli_print_json(TAKE_PTR(list));
	if (ctx->verbosity < 0)
		return 0;
	if (json_array_size(list) == 0) {
		printf("no targets staged\n");
		return 0;
	}
	printf("%-48s %-10s %-9s %-20s %s\n", "PATH", "STATE", "REVOKED", "CHANNELS", "CVES");
	json_array_foreach (list, i, e) {
		json_t *custom = json_object_get(e, "custom"), *cv;
		_cleanup_strbuf_ struct strbuf sb, ch;
		size_t j;

		strbuf_init(&sb, 0);
		strbuf_init(&ch, 0);
		json_array_foreach (json_object_get(custom, "cves"), j, cv)
			(void)strbuf_addf(&sb, "%s%s", j ? "," : "", json_string_value(cv));
		channels_text(custom, &ch);
		printf("%-48s %-10s %-9s %-20s %s\n", json_string_value(json_object_get(e, "path")),
		       json_is_true(json_object_get(e, "published")) ? "published" : "pending",
		       json_is_true(json_object_get(custom, "revoked")) ? "revoked" : "-",
		       ch.len ? ch.buf : "-", sb.len ? sb.buf : "-");
	}
	return 0;
}

/* ---- publish, refresh, rotate ---- */

static int print_result(struct cli_ctx *ctx, const char *verb, struct archive_result *res)
{
	if (ctx->json)
		return cli_print_json(archive_result_to_json(res));
	for (size_t i = 0; res->warnings && res->warnings[i]; i++)
		log_warning("%s", res->warnings[i]);
	if (ctx->verbosity < 0)
		return 0;
	if (!res->changed) {
		printf("%s: nothing to do (timestamp v%lld, snapshot v%lld, targets v%lld, "
		       "root v%lld)%s\n",
		       verb, (long long)res->timestamp_version, (long long)res->snapshot_version,
		       (long long)res->targets_version, (long long)res->root_version,
		       res->pruned ? "; pruned old files" : "");
		return 0;
	}
	printf("%s: timestamp v%lld, snapshot v%lld, targets v%lld%s, root v%lld%s; %zu kernel "
	       "role%s written",
	       verb, (long long)res->timestamp_version, (long long)res->snapshot_version,
	       (long long)res->targets_version, res->targets_written ? " (new)" : "",
	       (long long)res->root_version, res->root_written ? " (new)" : "",
	       strv_length(res->roles), strv_length(res->roles) == 1 ? "" : "s");
	if (res->pruned)
		printf("; %u old file%s pruned", res->pruned, res->pruned == 1 ? "" : "s");
	printf("\n");
	return 0;
}

static void publish_help(void)
{
	fputs("usage: tuxtape archive publish [OPTIONS]\n"
	      "\n"
	      "Publish the staged changes: the changed kernel roles, targets when\n"
	      "a kernel role is new (this needs the offline targets key), snapshot\n"
	      "and timestamp, with consistent snapshots.  New files are written\n"
	      "under new names and made durable before timestamp.json is replaced:\n"
	      "a failed or killed publish leaves the previous repository served.\n"
	      "Metadata older than the kept versions and target files no kept\n"
	      "metadata lists are then removed.\n"
	      "\n"
	      "Options:\n" COMMON_HELP "\n"
	      "Exit codes: 0 ok (also: nothing to publish), 1 failure (the previous\n"
	      "repository is still served), 2 usage, 4 archive locked.\n",
	      stdout);
}

static int verb_publish(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option options[] = { COMMON_OPTIONS, {} };
	_cleanup_(archive_freep) struct archive *a = NULL;
	struct archive_result res = { 0 };
	struct aopts o = { 0 };
	char err[1024] = "";
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (common_option(ctx, &o, c))
			continue;
		if (c == 'h') {
			publish_help();
			return 0;
		}
		return cli_usage_error("archive", "publish", "invalid option");
	}
	if (argc - optind != 0)
		return cli_usage_error("archive", "publish", "unexpected argument '%s'",
				       argv[optind]);
	r = open_archive(ctx, &o, true, &a);
	if (r < 0)
		return r;
	r = archive_publish(a, &res, err, sizeof(err));
	if (r < 0)
		return fail(r, err, "cannot publish");
	r = print_result(ctx, "published", &res);
	archive_result_release(&res);
	return r;
}

static void refresh_help(void)
{
	fputs("usage: tuxtape archive refresh [--if-expiring-within DURATION] [OPTIONS]\n"
	      "\n"
	      "For cron: re-sign the served metadata that expires within DURATION\n"
	      "(default: half of each role's lifetime): timestamp, snapshot and the\n"
	      "kernel roles with the online keys; targets and root too when their\n"
	      "offline keys are at hand (else a warning).  Staged changes are not\n"
	      "published.  Nothing near expiry: nothing is written.\n"
	      "\n"
	      "Options:\n"
	      "      --if-expiring-within DURATION  e.g. 12h, 2d\n" COMMON_HELP "\n"
	      "Exit codes: 0 ok, 1 failure, 2 usage, 3 an offline role near expiry\n"
	      "was not re-signed (no passphrase), 4 archive locked.\n",
	      stdout);
}

static int verb_refresh(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_WITHIN = OPT_FIRST_VERB_OPTION };
	static const struct option options[] = {
		COMMON_OPTIONS,
		{ "if-expiring-within", required_argument, NULL, OPT_WITHIN },
		{},
	};
	_cleanup_(archive_freep) struct archive *a = NULL;
	struct archive_result res = { 0 };
	struct aopts o = { 0 };
	int64_t within = -1;
	char err[1024] = "";
	bool warned;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (common_option(ctx, &o, c))
			continue;
		if (c == OPT_WITHIN) {
			if (archive_parse_duration(optarg, &within) < 0)
				return cli_usage_error("archive", "refresh",
						       "invalid duration '%s' (like 12h, 2d)",
						       optarg);
		} else if (c == 'h') {
			refresh_help();
			return 0;
		} else {
			return cli_usage_error("archive", "refresh", "invalid option");
		}
	}
	if (argc - optind != 0)
		return cli_usage_error("archive", "refresh", "unexpected argument '%s'",
				       argv[optind]);
	r = open_archive(ctx, &o, true, &a);
	if (r < 0)
		return r;
	r = archive_refresh(a, within, &res, err, sizeof(err));
	if (r < 0)
		return fail(r, err, "cannot refresh");
	warned = res.warnings && res.warnings[0];
	r = print_result(ctx, "refreshed", &res);
	archive_result_release(&res);
	return r < 0 ? r : warned ? CLI_RESULT_PARTIAL : 0;
}

static void rotate_help(void)
{
	fputs("usage: tuxtape archive rotate ROLE [--scheme S] [OPTIONS]\n"
	      "\n"
	      "New key(s) for ROLE (root, targets, snapshot, timestamp or kernels),\n"
	      "as many as it has, then a publish (staged changes included).  A new\n"
	      "root version lists them, signed by the old and the new root keys; the\n"
	      "rotated role's metadata is signed by its old and new keys, so nodes on\n"
	      "either root accept it.  Root and targets need the offline passphrase;\n"
	      "replaced online key files are deleted.\n"
	      "\n"
	      "Options:\n"
	      "      --scheme S         ed25519 or ecdsa-sha2-nistp256 (default: as now)\n"
	      COMMON_HELP
	      "\n"
	      "Exit codes: 0 ok, 1 failure, 2 usage, 4 archive locked.\n",
	      stdout);
}

static int verb_rotate(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_SCHEME = OPT_FIRST_VERB_OPTION };
	static const struct option options[] = {
		COMMON_OPTIONS,
		{ "scheme", required_argument, NULL, OPT_SCHEME },
		{},
	};
	_cleanup_(archive_freep) struct archive *a = NULL;
	struct archive_result res = { 0 };
	enum tuf_scheme scheme = TUF_SCHEME_ED25519;
	enum archive_role role;
	struct aopts o = { 0 };
	char err[1024] = "";
	int sch = -1, c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (common_option(ctx, &o, c))
			continue;
		if (c == OPT_SCHEME) {
			r = parse_scheme("rotate", optarg, &scheme);
			if (r < 0)
				return r;
			sch = (int)scheme;
		} else if (c == 'h') {
			rotate_help();
			return 0;
		} else {
			return cli_usage_error("archive", "rotate", "invalid option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("archive", "rotate", "expected one ROLE");
	role = archive_role_from_string(argv[optind]);
	if (role < 0)
		return cli_usage_error(
			"archive", "rotate",
			"unknown role '%s' (root, targets, snapshot, timestamp, kernels)",
			argv[optind]);
	r = open_archive(ctx, &o, true, &a);
	if (r < 0)
		return r;
	r = archive_rotate(a, role, sch, &res, err, sizeof(err));
	if (r < 0)
		return fail(r, err, "cannot rotate the keys");
	r = print_result(ctx, "rotated", &res);
	archive_result_release(&res);
	return r;
}

/* ---- serve ---- */

static void serve_help(void)
{
	fputs("usage: tuxtape archive serve [OPTIONS]\n"
	      "\n"
	      "Serve DIR/repository read-only over HTTP(S) until SIGINT or SIGTERM:\n"
	      "GET and HEAD of regular files only, no directory listing, no path\n"
	      "outside it.  Nodes use URL/metadata/ and URL/targets/.  Any static web\n"
	      "server (nginx, a CDN) serving DIR/repository works the same\n"
	      "(docs/archive.md).\n"
	      "\n"
	      "Options:\n"
	      "      --listen ADDR:PORT default 127.0.0.1:8080 ([ADDR6]:PORT for IPv6;\n"
	      "                         port 0 picks a free one)\n"
	      "      --tls-cert FILE    PEM certificate (chain) for HTTPS\n"
	      "      --tls-key FILE     its PEM private key\n"
	      "      --threads N        worker threads (default: the CPUs)\n" COMMON_HELP
	      "\n"
	      "With --json, one line {\"url\", \"metadata_url\", \"targets_url\"} is printed\n"
	      "once the server listens.\n"
	      "Exit codes: 0 stopped by a signal, 1 failure, 2 usage.\n",
	      stdout);
}

static int verb_serve(struct cli_ctx *ctx, int argc, char **argv)
{
	enum {
		OPT_LISTEN = OPT_FIRST_VERB_OPTION,
		OPT_TLS_CERT,
		OPT_TLS_KEY,
		OPT_THREADS,
	};
	static const struct option options[] = {
		COMMON_OPTIONS,
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
		{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{},
	};
	_cleanup_(archive_server_stopp) struct archive_server *s = NULL;
	_cleanup_(archive_freep) struct archive *a = NULL;
	_cleanup_(free_secretp) char *key = NULL;
	_cleanup_free_ char *cert = NULL;
	struct archive_server_options so = { .listen = "127.0.0.1:8080" };
	const char *cert_file = NULL, *key_file = NULL;
	struct aopts o = { 0 };
	char err[1024] = "";
	sigset_t mask;
	size_t len;
	int c, r, sig;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (common_option(ctx, &o, c))
			continue;
		switch (c) {
		case OPT_LISTEN:
			so.listen = optarg;
			break;
		case OPT_TLS_CERT:
			cert_file = optarg;
			break;
		case OPT_TLS_KEY:
			key_file = optarg;
			break;
		case OPT_THREADS: {
			uint64_t v;

			if (safe_atou64(optarg, &v) < 0 || v < 1 || v > 256)
				return cli_usage_error("archive", "serve",
						       "invalid --threads '%s' (1..256)", optarg);
			so.threads = (unsigned)v;
			break;
		}
		case 'h':
			serve_help();
			return 0;
		default:
			return cli_usage_error("archive", "serve", "invalid option");
		}
	}
	if (argc - optind != 0)
		return cli_usage_error("archive", "serve", "unexpected argument '%s'",
				       argv[optind]);
	if (!cert_file != !key_file)
		return cli_usage_error("archive", "serve", "--tls-cert and --tls-key go together");
	r = open_archive(ctx, &o, false, &a);
	if (r < 0)
		return r;
	if (cert_file) {
		r = read_file_bounded(cert_file, PEM_MAX, &cert, &len);
		if (r < 0)
			return log_error_errno(r, "cannot read the certificate '%s'", cert_file);
		r = read_file_bounded(key_file, PEM_MAX, &key, &len);
		if (r < 0)
			return log_error_errno(r, "cannot read the TLS key '%s'", key_file);
	}
	so.root = archive_repository_dir(a);
	so.tls_cert = cert;
	so.tls_key = key;
	/* The server's threads inherit this mask: the signals reach sigwait() below only. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = archive_server_start(&so, &s, err, sizeof(err));
	if (r == -EINVAL)
		return cli_usage_error("archive", "serve", "%s", err);
	if (r < 0)
		return fail(r, err, "cannot start the server");
	if (ctx->json) {
		const char *url = archive_server_url(s);
		json_t *j = json_pack("{s:s, s:s+, s:s+, s:i}", "url", url, "metadata_url", url,
				      "metadata/", "targets_url", url, "targets/", "port",
				      (int)archive_server_port(s));

		if (!j)
			return log_error_errno(-ENOMEM, "cannot allocate");
		json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(j);
		fputc('\n', stdout);
	} else if (ctx->verbosity >= 0) {
		printf("serving '%s' at %s (metadata: %smetadata/, targets: %stargets/)\n", so.root,
		       archive_server_url(s), archive_server_url(s), archive_server_url(s));
	}
	fflush(stdout);
	do {
		r = sigwait(&mask, &sig);
	} while (r == EINTR);
	return 0;
}

static const struct cli_verb archive_verbs[] = {
	{ "init", verb_init, "create a TUF archive: keys, root, empty targets" },
	{ "add", verb_add, "stage livepatch modules as targets of their kernel's role" },
	{ "remove", verb_remove, "drop a staged target" },
	{ "revoke", verb_revoke, "mark a target revoked so nodes unload it" },
	{ "promote", verb_promote, "change the channels a target is published in" },
	{ "list", verb_list, "list staged targets and whether they are published" },
	{ "publish", verb_publish, "sign and publish the staged changes" },
	{ "refresh", verb_refresh, "re-sign metadata near expiry (for cron)" },
	{ "rotate", verb_rotate, "new keys for a role; root rotation included" },
	{ "serve", verb_serve, "serve the repository over HTTP(S)" },
	{},
};

int cmd_archive(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "archive", archive_verbs, argc, argv);
}
