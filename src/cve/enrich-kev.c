/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "enrich.h"
#include "record.h"
#include "parse-util.h"

/*
 * Optional string member: NULL when absent or null; -EBADMSG when present
 * with another type.
 */
static int get_str(json_t *obj, const char *key, const char **ret)
{
	json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -EBADMSG;
	*ret = json_string_value(v);
	return 0;
}

/* KEV dates are "YYYY-MM-DD"; anything else is malformed. */
static int kev_date(const char *s, int64_t *ret)
{
	if (strlen(s) != 10)
		return -EINVAL;
	return parse_timestamp(s, ret);
}

static int parse_item(json_t *item, size_t i, struct kev_entry *e, char *reterr, size_t errsize)
{
	const char *ransomware;

	*e = (struct kev_entry){ .index = i };
	if (!json_is_object(item))
		return parse_error(reterr, errsize, "vulnerabilities[%zu]: expected an object", i);
	if (get_str(item, "cveID", &e->cve_id) < 0 || !e->cve_id)
		return parse_error(reterr, errsize, "vulnerabilities[%zu]: missing cveID", i);
	if (!cve_id_valid(e->cve_id))
		return parse_error(reterr, errsize, "vulnerabilities[%zu]: invalid cveID '%.40s'", i,
			    e->cve_id);
	if (get_str(item, "dateAdded", &e->date_added) < 0 || !e->date_added)
		return parse_error(reterr, errsize, "vulnerabilities[%zu] (%s): missing dateAdded", i,
			    e->cve_id);
	if (kev_date(e->date_added, &e->date_added_ts) < 0)
		return parse_error(reterr, errsize, "vulnerabilities[%zu] (%s): invalid dateAdded '%.40s'",
			    i, e->cve_id, e->date_added);
	if (get_str(item, "dueDate", &e->due_date) < 0 ||
	    (e->due_date && kev_date(e->due_date, &e->due_date_ts) < 0))
		return parse_error(reterr, errsize, "vulnerabilities[%zu] (%s): invalid dueDate", i,
			    e->cve_id);
	if (get_str(item, "vulnerabilityName", &e->vulnerability_name) < 0)
		return parse_error(reterr, errsize,
			    "vulnerabilities[%zu] (%s): vulnerabilityName is not a string", i,
			    e->cve_id);
	if (get_str(item, "knownRansomwareCampaignUse", &ransomware) < 0)
		return parse_error(reterr, errsize,
			    "vulnerabilities[%zu] (%s): knownRansomwareCampaignUse is not a string",
			    i, e->cve_id);
	e->known_ransomware = ransomware && streq(ransomware, "Known");
	return 0;
}

int kev_parse(const char *buf, size_t len, kev_entry_fn fn, void *userdata,
	      struct kev_catalog *ret_catalog, char *reterr, size_t errsize)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	struct kev_catalog cat = { 0 };
	const char *version, *released;
	struct kev_entry e;
	json_error_t jerr;
	json_t *vulns, *item;
	size_t i;
	int r;

	if (len > KEV_JSON_MAX)
		return -EFBIG;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return parse_error(reterr, errsize, "line %d column %d: %s", jerr.line, jerr.column,
			    jerr.text);
	if (!json_is_object(root))
		return parse_error(reterr, errsize, "top level: expected an object");
	if (get_str(root, "catalogVersion", &version) < 0)
		return parse_error(reterr, errsize, "catalogVersion: expected a string");
	if (version) {
		if (strlen(version) >= sizeof(cat.catalog_version))
			return parse_error(reterr, errsize, "catalogVersion: too long");
		snprintf(cat.catalog_version, sizeof(cat.catalog_version), "%s", version);
	}
	if (get_str(root, "dateReleased", &released) < 0 ||
	    (released && parse_timestamp(released, &cat.date_released) < 0))
		return parse_error(reterr, errsize, "dateReleased: expected an RFC 3339 time");
	vulns = json_object_get(root, "vulnerabilities");
	if (!json_is_array(vulns))
		return parse_error(reterr, errsize, "vulnerabilities: missing or not an array");

	/* Validate everything first so a bad catalog delivers nothing. */
	json_array_foreach (vulns, i, item) {
		r = parse_item(item, i, &e, reterr, errsize);
		if (r < 0)
			return r;
	}
	json_array_foreach (vulns, i, item) {
		r = parse_item(item, i, &e, NULL, 0);
		if (r < 0)
			return r;
		r = fn(&e, userdata);
		if (r < 0)
			return r;
		cat.count++;
	}
	if (ret_catalog)
		*ret_catalog = cat;
	return 0;
}
