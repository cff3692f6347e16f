#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-or-later
//
// make-repo.mjs OUTDIR [--case NAME]...
//
// Writes TUF repositories with @tufjs/models (an implementation independent of
// ours) for the interoperability test: one good repository and one directory
// per attack, each a small scenario a client goes through:
//
//   OUTDIR/CASE/root.json             the root a client starts from (init)
//   OUTDIR/CASE/before/metadata/      a good state the client refreshes first
//   OUTDIR/CASE/before/targets/
//   OUTDIR/CASE/repository/metadata/  the state under test (what the
//   OUTDIR/CASE/repository/targets/   server offers next)
//   OUTDIR/CASE/case.json             what a correct client must do
//   OUTDIR/cases.tsv                  the same for shell scripts, one line
//                                     per case: name, refresh exit code,
//                                     download exit code, path of the target
//                                     before, path and sha256 of the target
//                                     under test, trusted files that must
//                                     not change (comma-separated or -),
//                                     the file a rejection must name,
//                                     description
//
// The served layout is the archive's: consistent snapshots
// (N.root.json, timestamp.json, N.snapshot.json, N.targets.json,
// N.<quoted role>.json; targets/<dir>/<hash>.<name> for every listed hash),
// one delegated targets role per kernel release ("6.1.0-54-amd64", paths
// "6.1.0-54-amd64/*", terminating) holding the modules, with the custom
// fields of docs/tuf.md.  Keys are ecdsa-sha2-nistp256 and ed25519, made
// fresh on every run.  Metadata is written pretty-printed (not canonical) so
// a client must canonicalise what it parsed, as the spec requires.
import { canonicalize } from '@tufjs/canonical-json';
import {
	Key, Metadata, MetaFile, Root, Signature, Snapshot, Targets, TargetFile, Timestamp,
} from '@tufjs/models';
import { Delegations } from '@tufjs/models/dist/delegations.js';
import { DelegatedRole, Role } from '@tufjs/models/dist/role.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const SPEC_VERSION = '1.0.31';
const RELEASE = '6.1.0-54-amd64';
const MODULE = 'livepatch_uvc';
const DAY = 86400 * 1000;
const NOW = Date.now();

function usage(msg) {
	if (msg)
		process.stderr.write(`make-repo: ${msg}\n`);
	process.stderr.write('usage: make-repo.mjs OUTDIR [--case NAME]...\n');
	process.exit(2);
}

// "2030-01-01T00:00:00Z": whole seconds, as the spec wants.
function isoTime(ms) {
	return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function sha(alg, data) {
	return crypto.createHash(alg).update(data).digest('hex');
}

// A signing key: its public TUF form and a signer for Metadata.sign().
function makeKey(scheme) {
	let pair, keyType, pub;
	if (scheme === 'ed25519') {
		pair = crypto.generateKeyPairSync('ed25519');
		keyType = 'ed25519';
		// The raw 32-byte key is the tail of the SubjectPublicKeyInfo DER.
		pub = pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
	} else if (scheme === 'ecdsa-sha2-nistp256') {
		pair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
		keyType = 'ecdsa';
		pub = pair.publicKey.export({ format: 'pem', type: 'spki' });
	} else {
		throw new Error(`unknown scheme '${scheme}'`);
	}
	const body = { keytype: keyType, scheme, keyval: { public: pub } };
	const keyID = sha('sha256', Buffer.from(canonicalize(body)));
	const key = new Key({ keyID, keyType, scheme, keyVal: { public: pub } });
	const digest = scheme === 'ed25519' ? null : 'sha256';
	const signer = (data) => new Signature({
		keyID,
		sig: crypto.sign(digest, data, pair.privateKey).toString('hex'),
	});
	return { keyID, key, signer, scheme };
}

function sign(md, keys) {
	for (const k of keys)
		md.sign(k.signer, true);
	return md;
}

function serialize(md) {
	return Buffer.from(JSON.stringify(md.toJSON(), null, 2) + '\n');
}

// A files-on-disk state of the repository: metadata and targets by file name.
class State {
	constructor() {
		this.metadata = new Map();
		this.targets = new Map();
	}

	write(dir) {
		for (const [sub, files] of [['metadata', this.metadata], ['targets', this.targets]]) {
			for (const [name, bytes] of files) {
				const p = path.join(dir, sub, name);
				fs.mkdirSync(path.dirname(p), { recursive: true });
				fs.writeFileSync(p, bytes);
			}
			fs.mkdirSync(path.join(dir, sub), { recursive: true });
		}
	}
}

const keys = {
	root: makeKey('ecdsa-sha2-nistp256'),
	root2: makeKey('ed25519'),
	timestamp: makeKey('ecdsa-sha2-nistp256'),
	timestamp2: makeKey('ed25519'),
	snapshot: makeKey('ed25519'),
	targetsA: makeKey('ed25519'),
	targetsB: makeKey('ecdsa-sha2-nistp256'),
	kernel: makeKey('ecdsa-sha2-nistp256'),
	rogue: makeKey('ecdsa-sha2-nistp256'),
	rogueEd: makeKey('ed25519'),
};

function rootMd(version, { rootKeys = [keys.root], timestampKey = keys.timestamp } = {}) {
	const root = new Root({
		version,
		specVersion: SPEC_VERSION,
		expires: isoTime(NOW + 365 * DAY),
		consistentSnapshot: true,
	});
	for (const k of rootKeys)
		root.addKey(k.key, 'root');
	root.addKey(timestampKey.key, 'timestamp');
	root.addKey(keys.snapshot.key, 'snapshot');
	root.addKey(keys.targetsA.key, 'targets');
	root.addKey(keys.targetsB.key, 'targets');
	// Two targets keys of two schemes, both needed.
	root.roles.targets = new Role({ keyIDs: root.roles.targets.keyIDs, threshold: 2 });
	return new Metadata(root);
}

// Module N of the release: fake ELF bytes, with the archive's custom fields.
function makeModule(n) {
	const rnd = crypto.randomBytes(1500 + n * 37);
	const content = Buffer.concat([Buffer.from('\x7fELF'), rnd]);
	const targetPath = `${RELEASE}/${MODULE}-${n}.ko`;
	return {
		path: targetPath,
		content,
		custom: {
			kernel_release: RELEASE,
			build_id: sha('sha1', rnd),
			module_name: MODULE,
			patch_version: n,
			cves: [`CVE-2024-5310${n}`],
			replaces: n > 1 ? `${RELEASE}/${MODULE}-${n - 1}.ko` : null,
			replace: true,
			min_agent_version: '0.1.0',
			created: isoTime(NOW - (10 - n) * DAY),
			revoked: false,
			revoked_reason: null,
		},
	};
}
const MODULES = [makeModule(1), makeModule(2)];

// Builds one complete state.  `v` is the version of every role unless a
// field of `o` says otherwise; `o` also tampers with the pieces.
function publish(v, o = {}) {
	const ver = { timestamp: v, snapshot: v, targets: v, role: v, ...(o.versions || {}) };
	const exp = {
		timestamp: NOW + 7 * DAY, snapshot: NOW + 30 * DAY,
		targets: NOW + 90 * DAY, role: NOW + 30 * DAY, ...(o.expires || {}),
	};
	const signers = {
		timestamp: [keys.timestamp], snapshot: [keys.snapshot],
		targets: [keys.targetsA, keys.targetsB], role: [keys.kernel], ...(o.signers || {}),
	};
	const mods = MODULES.slice(0, v);
	const state = new State();
	const roleFile = `${encodeURIComponent(RELEASE)}.json`;

	// The kernel's delegated role, with its modules.
	const role = new Targets({
		version: ver.role, specVersion: SPEC_VERSION, expires: isoTime(exp.role),
		// An unrecognised field must be kept when canonicalising.
		unrecognizedFields: { 'x-tuxtape-note': 'Größe ☃ "quoted" \\ tab\there' },
	});
	for (const m of mods) {
		role.addTarget(new TargetFile({
			path: m.path,
			length: m.content.length,
			hashes: { sha256: sha('sha256', m.content), sha512: sha('sha512', m.content) },
			unrecognizedFields: { custom: m.custom },
		}));
		for (const h of ['sha256', 'sha512'])
			state.targets.set(`${RELEASE}/${sha(h, m.content)}.${path.basename(m.path)}`,
				o.tamperTarget ? o.tamperTarget(m, Buffer.from(m.content)) : m.content);
	}
	let roleBytes = serialize(sign(new Metadata(role), signers.role));
	if (o.tamperRole)
		roleBytes = o.tamperRole(roleBytes);
	state.metadata.set(`${ver.role}.${roleFile}`, roleBytes);

	// Top-level targets: no modules of its own, one role per kernel release.
	const targets = new Targets({
		version: ver.targets, specVersion: SPEC_VERSION, expires: isoTime(exp.targets),
		delegations: new Delegations({
			keys: { [keys.kernel.keyID]: keys.kernel.key },
			roles: {
				[RELEASE]: new DelegatedRole({
					name: RELEASE, keyIDs: [keys.kernel.keyID], threshold: 1,
					terminating: true, paths: [`${RELEASE}/*`],
				}),
			},
		}),
	});
	state.metadata.set(`${ver.targets}.targets.json`,
		serialize(sign(new Metadata(targets), signers.targets)));

	const snapshot = new Snapshot({
		version: ver.snapshot, specVersion: SPEC_VERSION, expires: isoTime(exp.snapshot),
		meta: {
			'targets.json': new MetaFile({ version: ver.targets }),
			[`${RELEASE}.json`]: new MetaFile({ version: ver.role }),
		},
	});
	const snapshotBytes = serialize(sign(new Metadata(snapshot), signers.snapshot));
	state.metadata.set(`${ver.snapshot}.snapshot.json`, snapshotBytes);

	const timestamp = new Timestamp({
		version: ver.timestamp, specVersion: SPEC_VERSION, expires: isoTime(exp.timestamp),
		snapshotMeta: new MetaFile({
			version: ver.snapshot, length: snapshotBytes.length,
			hashes: { sha256: sha('sha256', snapshotBytes) },
		}),
	});
	let timestampBytes = serialize(sign(new Metadata(timestamp), signers.timestamp));
	if (o.tamperTimestamp)
		timestampBytes = o.tamperTimestamp(timestampBytes);
	state.metadata.set('timestamp.json', timestampBytes);

	// Roots: the chain, and the newest under the unversioned name.
	const roots = o.roots || [root1];
	roots.forEach((bytes, i) => state.metadata.set(`${i + 1}.root.json`, bytes));
	state.metadata.set('root.json', roots[roots.length - 1]);
	for (const [name, bytes] of o.extraTargets || [])
		state.targets.set(name, bytes);
	return state;
}

// Re-serialises a signed file after `edit` changed its signed part, without
// re-signing it.
function editSigned(bytes, edit) {
	const doc = JSON.parse(bytes.toString('utf8'));
	edit(doc.signed);
	return Buffer.from(JSON.stringify(doc, null, 2) + '\n');
}

const root1 = serialize(sign(rootMd(1), [keys.root]));
const ALL = ['root.json', 'timestamp.json', 'snapshot.json', 'targets.json', `${RELEASE}.json`];
const TARGETS_DOWN = ['targets.json', `${RELEASE}.json`];
const NEW_TARGET = MODULES[1].path;

// Each case: the state the client trusts first (before), the state under
// test, the exit codes of `refresh` and then `download NEW_TARGET` against it
// (1 = rejected), the trusted files a rejecting client must leave alone and
// the served file its error message must name.
const CASES = {
	good: {
		description: 'a normal update: new versions of every role and a new module',
		repository: () => publish(2), refresh: 0, download: 0, guard: [],
	},
	'root-rotation': {
		description: 'root v2 (signed by the old and the new root key) rotates the timestamp key',
		repository: () => {
			const r2 = serialize(sign(rootMd(2, { rootKeys: [keys.root2], timestampKey: keys.timestamp2 }),
				[keys.root, keys.root2]));
			return publish(2, { roots: [root1, r2], signers: { timestamp: [keys.timestamp2] } });
		},
		refresh: 0, download: 0, guard: [],
	},
	'tampered-target': {
		description: 'the module bytes differ from the listed hashes (same length)',
		repository: () => publish(2, {
			tamperTarget: (m, b) => { if (m === MODULES[1]) b[100] ^= 0x01; return b; },
		}),
		refresh: 0, download: 1, guard: [],
		where: path.basename(NEW_TARGET),
	},
	'tampered-target-length': {
		description: 'the module is longer than its listed length (endless data)',
		repository: () => publish(2, {
			tamperTarget: (m, b) => (m === MODULES[1] ? Buffer.concat([b, Buffer.alloc(4096)]) : b),
		}),
		refresh: 0, download: 1, guard: [],
		where: path.basename(NEW_TARGET),
	},
	'tampered-timestamp': {
		description: 'timestamp.json edited after signing (expiry pushed out): signature invalid',
		repository: () => publish(2, {
			tamperTimestamp: (b) => editSigned(b, (s) => { s.expires = isoTime(NOW + 900 * DAY); }),
		}),
		refresh: 1, download: 1, guard: ALL,
		where: 'timestamp.json',
	},
	'tampered-delegated': {
		description: `the ${RELEASE} role lists other module bytes, not re-signed: signature invalid`,
		repository: () => {
			const evil = Buffer.concat([Buffer.from('\x7fELF'), crypto.randomBytes(1574)]);
			return publish(2, {
				tamperRole: (b) => editSigned(b, (s) => {
					const t = s.targets[NEW_TARGET];
					t.length = evil.length;
					t.hashes = { sha256: sha('sha256', evil), sha512: sha('sha512', evil) };
				}),
				extraTargets: ['sha256', 'sha512'].map((h) =>
					[`${RELEASE}/${sha(h, evil)}.${path.basename(NEW_TARGET)}`, evil]),
			});
		},
		refresh: 0, download: 1, guard: [`${RELEASE}.json`],
		where: `2.${RELEASE}.json`,
	},
	'expired-timestamp': {
		description: 'timestamp.json expired yesterday (freeze attack)',
		repository: () => publish(2, { expires: { timestamp: NOW - DAY } }),
		refresh: 1, download: 1, guard: ALL,
		where: 'timestamp.json',
	},
	'expired-snapshot': {
		description: 'snapshot.json expired yesterday',
		repository: () => publish(2, { expires: { snapshot: NOW - DAY } }),
		refresh: 1, download: 1, guard: ['root.json', 'snapshot.json', ...TARGETS_DOWN],
		where: '2.snapshot.json',
	},
	'expired-targets': {
		description: 'targets.json expired yesterday',
		repository: () => publish(2, { expires: { targets: NOW - DAY } }),
		refresh: 1, download: 1, guard: ['root.json', ...TARGETS_DOWN],
		where: '2.targets.json',
	},
	'expired-delegated': {
		description: `the ${RELEASE} role expired yesterday`,
		repository: () => publish(2, { expires: { role: NOW - DAY } }),
		refresh: 0, download: 1, guard: [`${RELEASE}.json`],
		where: `2.${RELEASE}.json`,
	},
	'rollback-timestamp': {
		description: 'the server goes back to validly signed timestamp v1 after v2 was trusted',
		before: () => publish(2), repository: () => publish(1),
		refresh: 1, download: 1, guard: ALL,
		where: 'timestamp.json',
	},
	'rollback-snapshot': {
		description: 'a new timestamp (v3) names snapshot v1, older than the trusted v2',
		before: () => publish(2),
		repository: () => publish(1, { versions: { timestamp: 3 } }),
		refresh: 1, download: 1, guard: ALL,
		where: 'timestamp.json',
	},
	'rollback-targets': {
		description: 'a new snapshot (v3) lists targets v1 and role v1, older than trusted v2',
		before: () => publish(2),
		repository: () => publish(1, { versions: { timestamp: 3, snapshot: 3 } }),
		refresh: 1, download: 1, guard: ['root.json', 'snapshot.json', ...TARGETS_DOWN],
		where: '3.snapshot.json',
	},
	'wrong-key-timestamp': {
		description: 'timestamp.json signed by an ecdsa key root does not list',
		repository: () => publish(2, { signers: { timestamp: [keys.rogue] } }),
		refresh: 1, download: 1, guard: ALL,
		where: 'timestamp.json',
	},
	'wrong-key-delegated': {
		description: `the ${RELEASE} role signed by a key its delegation does not list`,
		repository: () => publish(2, { signers: { role: [keys.rogue] } }),
		refresh: 0, download: 1, guard: [`${RELEASE}.json`],
		where: `2.${RELEASE}.json`,
	},
	'wrong-key-root': {
		description: 'root v2 signed only by its own new key, not by the trusted root key',
		repository: () => {
			const r2 = serialize(sign(rootMd(2, { rootKeys: [keys.root2] }), [keys.root2]));
			return publish(2, { roots: [root1, r2] });
		},
		refresh: 1, download: 1, guard: ALL,
		where: '2.root.json',
	},
	'threshold-not-met': {
		description: 'targets.json signed by 1 of the 2 targets keys root requires',
		repository: () => publish(2, { signers: { targets: [keys.targetsA] } }),
		refresh: 1, download: 1, guard: ['root.json', ...TARGETS_DOWN],
		where: '2.targets.json',
	},
	'threshold-duplicate-signature': {
		description: 'targets.json carries the same ed25519 signature twice and a rogue one (1 of 2)',
		repository: () => publish(2, {
			signers: { targets: [keys.targetsA, keys.rogueEd] },
		}),
		refresh: 1, download: 1, guard: ['root.json', ...TARGETS_DOWN],
		where: '2.targets.json',
		postprocess: (state) => {
			const name = '2.targets.json';
			const doc = JSON.parse(state.metadata.get(name).toString('utf8'));
			doc.signatures.push({ ...doc.signatures.find((s) => s.keyid === keys.targetsA.keyID) });
			state.metadata.set(name, Buffer.from(JSON.stringify(doc, null, 2) + '\n'));
		},
	},
};

function writeCase(outdir, name) {
	const c = CASES[name];
	const dir = path.join(outdir, name);
	fs.rmSync(dir, { recursive: true, force: true });
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(path.join(dir, 'root.json'), root1);
	(c.before ? c.before() : publish(1)).write(path.join(dir, 'before'));
	const repo = c.repository();
	if (c.postprocess)
		c.postprocess(repo);
	repo.write(path.join(dir, 'repository'));
	const info = {
		name, description: c.description,
		initial_root: 'root.json', before: 'before', repository: 'repository',
		before_target: MODULES[0].path,
		target: NEW_TARGET,
		target_sha256: sha('sha256', MODULES[1].content),
		expect: { refresh: c.refresh, download: c.download },
		unchanged_on_failure: c.guard,
		error_names: c.where ?? null,
	};
	fs.writeFileSync(path.join(dir, 'case.json'), JSON.stringify(info, null, 2) + '\n');
	return [name, c.refresh, c.download, info.before_target, NEW_TARGET, info.target_sha256,
		c.guard.join(',') || '-', c.where ?? '-', c.description].join('\t');
}

const args = process.argv.slice(2);
let outdir;
const only = [];
for (let i = 0; i < args.length; i++) {
	if (args[i] === '--case') {
		if (i + 1 >= args.length)
			usage('--case needs a NAME');
		if (!(args[i + 1] in CASES))
			usage(`unknown case '${args[i + 1]}' (known: ${Object.keys(CASES).join(', ')})`);
		only.push(args[++i]);
	} else if (args[i] === '--list') {
		process.stdout.write(Object.keys(CASES).join('\n') + '\n');
		process.exit(0);
	} else if (args[i].startsWith('-') || outdir !== undefined) {
		usage(`unexpected argument '${args[i]}'`);
	} else {
		outdir = args[i];
	}
}
if (outdir === undefined)
	usage('OUTDIR missing');
fs.mkdirSync(outdir, { recursive: true });
const lines = (only.length ? only : Object.keys(CASES)).map((n) => writeCase(outdir, n));
fs.writeFileSync(path.join(outdir, 'cases.tsv'), lines.join('\n') + '\n');
