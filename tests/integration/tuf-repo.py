#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A TUF repository builder for the t06xx tests.

Keeps the repository's roles (bodies, keys, signers) in DIR/state.json and
publishes signed metadata to DIR/repository/metadata and targets to
DIR/repository/targets.  Keys and signatures come from tuf-helper (our C
signer API): this script only assembles JSON.

usage: tuf-repo.py DIR COMMAND [ARGS] [+ COMMAND [ARGS]]...
  init [--plain] [--scheme S]        four roles, one key each, version 1 of all
  key ROLE [--scheme S] [--passphrase P] [--command]
                                     a new key for ROLE (top-level: in root;
                                     delegated: in its delegator); prints the keyid
  rotate ROLE                        replace ROLE's keys by `threshold` new ones
  delegate FROM NAME [--paths A,B | --prefixes H,..] [--terminating] [--threshold N]
  target ROLE PATH FILE [--hashes sha256,sha512,md5]
  set ROLE PATH=VALUE...             VALUE: JSON, DELETE, or @DAYS for a time
                                     relative to now; e.g. roles/snapshot/threshold=2,
                                     expires=@-1, meta/A.json=DELETE
  drop-signer ROLE KEYID             stop signing ROLE with KEYID
  publish ROLE... [--no-bump] [--root-signers old|new|both]
                                     (ROLE @targets: targets and every delegated role)
  snapshot [--hashes|--hashes-only]  snapshot meta from published targets roles,
                                     publish snapshot, then `timestamp`; with
                                     length and sha256 (or sha256 only)
  timestamp [--hashes|--hashes-only] timestamp meta from snapshot, publish it
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse

HELPER = os.environ.get("TUF_HELPER", "tuf-helper")
TOP = ("root", "timestamp", "snapshot", "targets")


def expires(days):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + days * 86400))


class Repo:
    def __init__(self, d):
        self.dir = d
        self.meta_dir = os.path.join(d, "repository", "metadata")
        self.targets_dir = os.path.join(d, "repository", "targets")
        self.keys_dir = os.path.join(d, "keys")
        p = os.path.join(d, "state.json")
        self.s = json.load(open(p)) if os.path.exists(p) else None

    def save(self):
        with open(os.path.join(self.dir, "state.json"), "w") as f:
            json.dump(self.s, f, indent=1)

    def body(self, role):
        return self.s["roles"][role]["body"]

    def newkey(self, scheme=None, passphrase=None, command=False):
        n = self.s["nkeys"] = self.s["nkeys"] + 1
        pem = os.path.join(self.keys_dir, "k%d.pem" % n)
        pub = os.path.join(self.keys_dir, "k%d.pub" % n)
        argv = [HELPER, "keygen", scheme or self.s["scheme"], pem, pub]
        if passphrase:
            argv.append(passphrase)
        keyid = subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()
        spec = pem + (":" + passphrase if passphrase else "")
        if (scheme or self.s["scheme"]).startswith("rsa"):
            spec += "@" + (scheme or self.s["scheme"])
        if command:
            # An external signer: openssl signs, the hex goes to stdout.
            spec = "cmd:%s:openssl dgst -sha256 -sign %s | od -An -tx1 | tr -d ' \\n'" % (pub, pem)
        self.s["keys"][keyid] = {"spec": spec, "json": json.load(open(pub))}
        return keyid

    def delegation_entry(self, role):
        d = self.s["delegator"][role]
        for e in self.body(d)["delegations"]["roles"]:
            if e["name"] == role:
                return d, e
        raise KeyError(role)

    def add_key(self, role, keyid):
        key = self.s["keys"][keyid]["json"]
        if role in TOP:
            root = self.body("root")
            root["keys"][keyid] = key
            root["roles"][role]["keyids"].append(keyid)
        else:
            d, e = self.delegation_entry(role)
            self.body(d)["delegations"]["keys"][keyid] = key
            e["keyids"].append(keyid)
        self.s["roles"][role]["signers"].append(keyid)

    def published_name(self, role):
        return urllib.parse.quote(role, safe="")

    def sign(self, role, signers, out_paths):
        body_path = os.path.join(self.dir, "body.json")
        with open(body_path, "w") as f:
            json.dump(self.body(role), f)
        specs = [self.s["keys"][k]["spec"] for k in signers]
        first = out_paths[0]
        subprocess.run([HELPER, "sign", body_path, first] + specs, check=True)
        for p in out_paths[1:]:
            shutil.copyfile(first, p)

    def publish(self, role, bump=True, root_signers="both"):
        r = self.s["roles"][role]
        b = r["body"]
        if bump and r["published"]:
            b["version"] += 1
        signers = list(r["signers"])
        if role == "root":
            old = self.s.get("root_prev_signers", [])
            if root_signers == "old":
                signers = old
            elif root_signers == "both":
                signers = old + [k for k in signers if k not in old]
            self.s["root_prev_signers"] = list(r["signers"])
            outs = [os.path.join(self.meta_dir, "%d.root.json" % b["version"])]
        elif role == "timestamp":
            outs = [os.path.join(self.meta_dir, "timestamp.json")]
        else:
            name = self.published_name(role)
            outs = [os.path.join(self.meta_dir, name + ".json")]
            if self.s["consistent"]:
                outs.append(os.path.join(self.meta_dir, "%d.%s.json" % (b["version"], name)))
        self.sign(role, signers, outs)
        r["published"] = b["version"]

    def file_info(self, role, with_hashes):
        info = {"version": self.s["roles"][role]["published"]}
        if with_hashes:
            name = "timestamp.json" if role == "timestamp" else self.published_name(role) + ".json"
            data = open(os.path.join(self.meta_dir, name), "rb").read()
            if with_hashes != "no-length":
                info["length"] = len(data)
            info["hashes"] = {"sha256": hashlib.sha256(data).hexdigest()}
        return info

    def timestamp(self, with_hashes=False):
        self.body("timestamp")["meta"] = {"snapshot.json": self.file_info("snapshot", with_hashes)}
        self.publish("timestamp")

    def snapshot(self, with_hashes=False):
        meta = {}
        for role, r in self.s["roles"].items():
            if role in TOP and role != "targets":
                continue
            if r["published"]:
                meta[role + ".json"] = self.file_info(role, with_hashes)
        self.body("snapshot")["meta"] = meta
        self.publish("snapshot")
        self.timestamp(with_hashes)


def common(typ):
    return {"_type": typ, "spec_version": "1.0.31", "version": 1, "expires": expires(30)}


def cmd_init(repo, args):
    plain = "--plain" in args
    scheme = args[args.index("--scheme") + 1] if "--scheme" in args else "ecdsa-sha2-nistp256"
    for d in (repo.meta_dir, repo.targets_dir, repo.keys_dir):
        os.makedirs(d, exist_ok=True)
    repo.s = {"consistent": not plain, "scheme": scheme, "nkeys": 0, "keys": {},
              "delegator": {}, "roles": {}}
    root = common("root")
    root.update({"consistent_snapshot": not plain, "keys": {},
                 "roles": {r: {"keyids": [], "threshold": 1} for r in TOP}})
    repo.s["roles"]["root"] = {"body": root, "signers": [], "published": 0}
    ts = common("timestamp")
    ts["meta"] = {"snapshot.json": {"version": 1}}
    repo.s["roles"]["timestamp"] = {"body": ts, "signers": [], "published": 0}
    sn = common("snapshot")
    sn["meta"] = {"targets.json": {"version": 1}}
    repo.s["roles"]["snapshot"] = {"body": sn, "signers": [], "published": 0}
    tg = common("targets")
    tg["targets"] = {}
    repo.s["roles"]["targets"] = {"body": tg, "signers": [], "published": 0}
    for r in TOP:
        repo.add_key(r, repo.newkey())
    repo.publish("root")
    repo.publish("targets")
    repo.snapshot()


def opt(args, name, default=None):
    return args[args.index(name) + 1] if name in args else default


def cmd_key(repo, args):
    role = args[0]
    keyid = repo.newkey(opt(args, "--scheme"), opt(args, "--passphrase"), "--command" in args)
    repo.add_key(role, keyid)
    print(keyid)


def cmd_rotate(repo, args):
    role = args[0]
    root = repo.body("root")
    root["roles"][role]["keyids"] = []
    repo.s["roles"][role]["signers"] = []
    for _ in range(root["roles"][role]["threshold"]):
        repo.add_key(role, repo.newkey())


def cmd_delegate(repo, args):
    frm, name = args[0], args[1]
    entry = {"name": name, "keyids": [], "threshold": int(opt(args, "--threshold", "1")),
             "terminating": "--terminating" in args}
    if "--prefixes" in args:
        entry["path_hash_prefixes"] = opt(args, "--prefixes").split(",")
    else:
        entry["paths"] = opt(args, "--paths", "*").split(",")
    b = repo.body(frm)
    b.setdefault("delegations", {"keys": {}, "roles": []})["roles"].append(entry)
    repo.s["delegator"][name] = frm
    if name not in repo.s["roles"]:
        tg = common("targets")
        tg["targets"] = {}
        repo.s["roles"][name] = {"body": tg, "signers": [], "published": 0}
    repo.add_key(name, repo.newkey())


def cmd_target(repo, args):
    role, path, src = args[0], args[1], args[2]
    algs = opt(args, "--hashes", "sha256").split(",")
    data = open(src, "rb").read()
    hashes = {}
    for a in algs:
        hashes[a] = hashlib.new(a, data).hexdigest() if a in hashlib.algorithms_available \
            else "00" * 32
    repo.body(role)["targets"][path] = {"length": len(data), "hashes": hashes}
    d, _, base = path.rpartition("/")
    os.makedirs(os.path.join(repo.targets_dir, d), exist_ok=True)
    names = ["%s.%s" % (h, base) for h in hashes.values()] if repo.s["consistent"] else [base]
    for n in names:
        with open(os.path.join(repo.targets_dir, d, n), "wb") as f:
            f.write(data)


def parse_value(v):
    if v.startswith("@"):
        return expires(float(v[1:]))  # @-1: a day ago, @0.0001: in 8.64 s
    return json.loads(v)


def cmd_set(repo, args):
    role = args[0]
    for a in args[1:]:
        path, _, value = a.partition("=")
        obj = repo.body(role)
        parts = path.split("/")
        for p in parts[:-1]:
            obj = obj[p]
        if value == "DELETE":
            del obj[parts[-1]]
        else:
            obj[parts[-1]] = parse_value(value)


def cmd_drop_signer(repo, args):
    repo.s["roles"][args[0]]["signers"].remove(args[1])


def cmd_publish(repo, args):
    roles = [a for a in args if not a.startswith("--") and a not in ("old", "new", "both")]
    if roles == ["@targets"]:
        roles = [r for r in repo.s["roles"] if r not in TOP or r == "targets"]
    for r in roles:
        repo.publish(r, "--no-bump" not in args, opt(args, "--root-signers", "both"))


def hashes_opt(args):
    return "no-length" if "--hashes-only" in args else "--hashes" in args


def main():
    d, words = sys.argv[1], sys.argv[2:]
    repo = Repo(d)
    commands = [[]]
    for w in words:
        if w == "+":
            commands.append([])
        else:
            commands[-1].append(w)
    for cmd, *args in commands:
        run(repo, cmd, args)
        repo.save()


def run(repo, cmd, args):
    {
        "init": cmd_init, "key": cmd_key, "rotate": cmd_rotate, "delegate": cmd_delegate,
        "target": cmd_target, "set": cmd_set, "drop-signer": cmd_drop_signer,
        "publish": cmd_publish,
        "snapshot": lambda r, a: r.snapshot(hashes_opt(a)),
        "timestamp": lambda r, a: r.timestamp(hashes_opt(a)),
    }[cmd](repo, args)


if __name__ == "__main__":
    main()
