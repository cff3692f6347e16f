/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper of the t06xx TUF tests: keys and signatures through
 * src/tuf's signer API, for the repository builder tuf-repo.py.
 *
 *   tuf-helper keygen SCHEME KEY.pem PUBLIC.json [PASSPHRASE]
 *       a new private key (PKCS#8 PEM, encrypted with PASSPHRASE) and its
 *       public key object; prints the keyid
 *   tuf-helper sign BODY.json OUT.json KEY...
 *       signs canonical(BODY) with each KEY and writes the envelope's
 *       published bytes; KEY is a PEM file, PEM:PASSPHRASE (either
 *       followed by @SCHEME for RSA keys), or cmd:PUBLIC.json:COMMAND for
 *       an external signing command
 *   tuf-helper keyid PUBLIC.json
 *   tuf-helper canonical IN.json
 *       prints the canonical form of IN.json
 *   tuf-helper refresh-bench METADATA_DIR METADATA_URL N
 *       N refreshes in this process (bench/tuf-refresh.sh): prints the
 *       median CPU time (user + sys, getrusage) in microseconds of a
 *       refresh by one client, of a new client's first refresh, and the
 *       HTTP requests of one refresh
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "canonical.h"
#include "client.h"
#include "fileio.h"
#include "key.h"
#include "metadata.h"
#include "parse-util.h"

static int die(const char *what, int r, const char *err)
{
	fprintf(stderr, "tuf-helper: %s: %s\n", what, err && *err ? err : strerror(-r));
	return 1;
}

static json_t *load_json(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &e);

	if (!j)
		fprintf(stderr, "tuf-helper: '%s': %s\n", path, e.text);
	return j;
}

static int64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median CPU of n refreshes: with one client (fresh == false) or a new client each time. */
static int bench(const char *dir, const char *url, int n, bool fresh, int64_t *ret_us,
		 unsigned *ret_requests)
{
	struct tuf_client_config cfg = { .metadata_dir = dir, .metadata_url = url };
	_cleanup_(tuf_client_freep) struct tuf_client *c = NULL;
	_cleanup_free_ int64_t *t = calloc((size_t)n, sizeof(*t));
	char err[1024] = "";
	int r;

	if (!t)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		int64_t start = cpu_us();

		if (fresh || !c) {
			c = tuf_client_free(c);
			r = tuf_client_new(&cfg, &c, err, sizeof(err));
			if (r < 0)
				return die(dir, r, err);
		}
		r = tuf_client_refresh(c, err, sizeof(err));
		if (r < 0)
			return die(url, r, err);
		t[i] = cpu_us() - start;
		*ret_requests = tuf_client_requests(c);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_i64);
	*ret_us = t[(n - 1) / 2];
	return 0;
}

static int refresh_bench(const char *dir, const char *url, int n)
{
	unsigned requests, warm_requests;
	int64_t one, fresh;
	int r;

	if (n < 1)
		return die("refresh-bench", -EINVAL, NULL);
	/* Warm-up: libcurl, OpenSSL and the parse cache. */
	r = bench(dir, url, 1, true, &one, &requests);
	if (r == 0)
		r = bench(dir, url, n, false, &one, &warm_requests);
	if (r == 0)
		r = bench(dir, url, n, true, &fresh, &requests);
	if (r != 0)
		return r < 0 ? die("refresh-bench", r, NULL) : r;
	printf("%lld %lld %u\n", (long long)one, (long long)fresh, requests);
	return 0;
}

static int load_signer(const char *spec, struct tuf_signer **ret, char err[], size_t errsize)
{
	if (strncmp(spec, "cmd:", 4) == 0) {
		_cleanup_free_ char *pub = strdup(spec + 4);
		char *cmd = pub ? strchr(pub, ':') : NULL;
		json_t *j;
		int r;

		if (!cmd)
			return -EINVAL;
		*cmd++ = '\0';
		j = load_json(pub);
		if (!j)
			return -EBADMSG;
		r = tuf_signer_new_command(cmd, j, ret, err, errsize);
		json_decref(j);
		return r;
	} else {
		_cleanup_free_ char *path = strdup(spec);
		char *pass, *scheme;
		int r;

		if (!path)
			return -ENOMEM;
		scheme = strchr(path, '@');
		if (scheme)
			*scheme++ = '\0';
		pass = strchr(path, ':');
		if (pass)
			*pass++ = '\0';
		r = tuf_signer_load_pem(path, pass, ret, err, errsize);
		if (r >= 0 && scheme)
			r = tuf_signer_set_scheme(*ret, tuf_scheme_from_string(scheme));
		return r;
	}
}

int main(int argc, char **argv)
{
	char err[1024] = "";
	int r;

	if (argc >= 5 && strcmp(argv[1], "keygen") == 0) {
		_cleanup_(tuf_signer_freep) struct tuf_signer *s = NULL;
		enum tuf_scheme scheme = tuf_scheme_from_string(argv[2]);
		json_t *pub;

		if (scheme < 0)
			return die(argv[2], -EINVAL, "unknown scheme");
		r = tuf_signer_generate(scheme, &s);
		if (r < 0)
			return die("keygen", r, NULL);
		r = tuf_signer_save_pem(s, argv[3], argc > 5 ? argv[5] : NULL, err, sizeof(err));
		if (r < 0)
			return die(argv[3], r, err);
		pub = tuf_key_to_json(tuf_signer_key(s));
		if (!pub || json_dump_file(pub, argv[4], JSON_SORT_KEYS) < 0)
			return die(argv[4], -EIO, NULL);
		json_decref(pub);
		printf("%s\n", tuf_key_id(tuf_signer_key(s)));
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "sign") == 0) {
		struct tuf_signer *signers[64] = { 0 };
		size_t n = 0;
		_cleanup_free_ char *buf = NULL;
		json_t *body, *env = NULL;
		size_t len;

		body = load_json(argv[2]);
		if (!body)
			return 1;
		for (int i = 4; i < argc && n < 64; i++) {
			r = load_signer(argv[i], &signers[n], err, sizeof(err));
			if (r < 0)
				return die(argv[i], r, err);
			n++;
		}
		r = tuf_envelope_sign(body, signers, n, &env, err, sizeof(err));
		if (r < 0)
			return die("sign", r, err);
		r = tuf_envelope_dump(env, &buf, &len);
		if (r < 0)
			return die("dump", r, NULL);
		r = write_file_atomic(argv[3], buf, len, 0644);
		if (r < 0)
			return die(argv[3], r, NULL);
		for (size_t i = 0; i < n; i++)
			tuf_signer_free(signers[i]);
		json_decref(env);
		json_decref(body);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "keyid") == 0) {
		_cleanup_(tuf_key_freep) struct tuf_key *k = NULL;
		json_t *j = load_json(argv[2]);

		if (!j)
			return 1;
		r = tuf_key_from_json(j, &k, err, sizeof(err));
		json_decref(j);
		if (r < 0)
			return die(argv[2], r, err);
		printf("%s\n", tuf_key_id(k));
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "canonical") == 0) {
		_cleanup_free_ char *buf = NULL;
		json_t *j = load_json(argv[2]);
		size_t len;

		if (!j)
			return 1;
		r = tuf_canonical_encode(j, &buf, &len);
		json_decref(j);
		if (r < 0)
			return die(argv[2], r, NULL);
		fwrite(buf, 1, len, stdout);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "refresh-bench") == 0) {
		int n;

		if (safe_atoi(argv[4], &n) < 0)
			return die(argv[4], -EINVAL, "not a number");
		return refresh_bench(argv[2], argv[3], n);
	}
	fprintf(stderr, "usage: tuf-helper keygen|sign|keyid|canonical|refresh-bench ...\n");
	return 2;
}
