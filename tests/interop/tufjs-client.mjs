#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A tuf-js 5.0.1 Updater behind the command line of the TUF conformance
// suite, the same one tuxtape-tuf-client speaks, so one shell test can drive
// either client:
//
//   tufjs-client.mjs --metadata-dir DIR init TRUSTED_ROOT
//   tufjs-client.mjs --metadata-url URL --metadata-dir DIR refresh
//   tufjs-client.mjs --metadata-url URL --metadata-dir DIR --target-name PATH
//       [--target-name PATH]... --target-dir DIR --target-base-url URL download
//
// Exit 0 when everything verified, 1 otherwise (the reason on stderr).
// Trusted metadata lands in DIR under unversioned names; targets land in
// the target directory under their URL-encoded path (tuf-js's own naming).
import { Metadata, MetadataKind } from '@tufjs/models';
import fs from 'node:fs';
import path from 'node:path';
import { Updater } from 'tuf-js';

function fail(msg) {
	process.stderr.write(`tufjs-client: ${msg}\n`);
	process.exit(1);
}

const OPTIONS = {
	'--metadata-dir': 'metadataDir',
	'--metadata-url': 'metadataUrl',
	'--target-dir': 'targetDir',
	'--target-base-url': 'targetBaseUrl',
	'--target-name': 'targetNames',
};

function parse(argv) {
	const o = { targetNames: [], rest: [] };
	for (let i = 0; i < argv.length; i++) {
		let arg = argv[i];
		let value;
		const eq = arg.indexOf('=');
		if (arg.startsWith('--') && eq > 0) {
			value = arg.slice(eq + 1);
			arg = arg.slice(0, eq);
		}
		if (!arg.startsWith('--')) {
			o.rest.push(arg);
			continue;
		}
		const field = OPTIONS[arg];
		if (!field)
			fail(`unknown option '${arg}'`);
		if (value === undefined) {
			if (i + 1 >= argv.length)
				fail(`option '${arg}' needs a value`);
			value = argv[++i];
		}
		if (field === 'targetNames')
			o.targetNames.push(value);
		else
			o[field] = value;
	}
	return o;
}

function need(o, field, opt, cmd) {
	if (!o[field])
		fail(`${cmd}: ${opt} missing`);
	return o[field];
}

function updater(o, cmd) {
	return new Updater({
		metadataDir: need(o, 'metadataDir', '--metadata-dir', cmd),
		metadataBaseUrl: need(o, 'metadataUrl', '--metadata-url', cmd),
		targetDir: o.targetDir,
		targetBaseUrl: o.targetBaseUrl,
		// One attempt: a rejected file does not get better on retry.
		config: { fetchRetries: 0, fetchTimeout: 30000 },
	});
}

async function init(o) {
	const dir = need(o, 'metadataDir', '--metadata-dir', 'init');
	if (o.rest.length !== 2)
		fail('init: exactly one TRUSTED_ROOT file expected');
	const file = o.rest[1];
	const bytes = fs.readFileSync(file);
	// The same checks the Updater makes on its trusted root: a root,
	// signed by a threshold of its own root keys.
	const root = Metadata.fromJSON(MetadataKind.Root, JSON.parse(bytes.toString('utf8')));
	if (root.signed.type !== MetadataKind.Root)
		fail(`init: '${file}' is a '${root.signed.type}', not a root`);
	root.verifyDelegate(MetadataKind.Root, root);
	fs.mkdirSync(dir, { recursive: true });
	const tmp = path.join(dir, `.root.json.${process.pid}`);
	fs.writeFileSync(tmp, bytes);
	fs.renameSync(tmp, path.join(dir, 'root.json'));
}

async function refresh(o) {
	if (o.rest.length !== 1)
		fail('refresh: no arguments expected');
	await updater(o, 'refresh').refresh();
}

async function download(o) {
	if (o.rest.length !== 1)
		fail('download: no arguments expected');
	if (!o.targetNames.length)
		fail('download: --target-name missing');
	need(o, 'targetDir', '--target-dir', 'download');
	need(o, 'targetBaseUrl', '--target-base-url', 'download');
	fs.mkdirSync(o.targetDir, { recursive: true });
	const u = updater(o, 'download');
	await u.refresh();
	for (const name of o.targetNames) {
		const info = await u.getTargetInfo(name);
		if (!info)
			throw new Error(`target '${name}' is not listed by any trusted role`);
		if (!(await u.findCachedTarget(info)))
			await u.downloadTarget(info);
	}
}

const COMMANDS = { init, refresh, download };
const o = parse(process.argv.slice(2));
const cmd = COMMANDS[o.rest[0]];
if (!cmd)
	fail(o.rest.length ? `unknown command '${o.rest[0]}'` : 'command missing (init, refresh, download)');
try {
	await cmd(o);
} catch (e) {
	fail(`${o.rest[0]} failed: ${e?.constructor?.name ?? 'Error'}: ${e?.message ?? e}`);
}
