#!/usr/bin/env python3
"""Adds lockfile entries for platform-specific optional packages that npm could not fetch.

npm records an optional dependency of another platform (e.g. @duckdb/node-bindings-darwin-arm64)
in package-lock.json only if the registry serves it; behind a registry mirror that lacks such
builds, the lockfile misses them and `npm ci` refuses to run. An entry with the package's os/cpu
is all `npm ci` needs to skip it on this platform. Run after `npm install` changes the lockfile.
"""
import json, re, sys

path = sys.argv[1] if len(sys.argv) > 1 else "package-lock.json"
lock = json.load(open(path))
pkgs = lock["packages"]
OS = {"darwin": "darwin", "win32": "win32", "linux": "linux", "android": "android", "freebsd": "freebsd", "openbsd": "openbsd", "sunos": "sunos", "aix": "aix", "netbsd": "netbsd", "openharmony": "openharmony"}
CPU = ["arm64", "x64", "ia32", "arm", "ppc64", "s390x", "riscv64", "loong64", "mips64el", "wasm32"]
added = 0
for key, meta in list(pkgs.items()):
    for dep, spec in (meta.get("optionalDependencies") or {}).items():
        if f"node_modules/{dep}" in pkgs or f"{key}/node_modules/{dep}" in pkgs:
            continue
        name = dep.split("/")[-1]
        os_ = next((o for o in OS if re.search(rf"(^|-){o}(-|$)", name)), None)
        cpu = next((c for c in CPU if re.search(rf"(^|-){c}(-|$)", name)), None)
        if not os_ and not cpu:
            continue
        entry = {"version": re.sub(r"^[\^~=]", "", spec), "optional": True}
        if key == "" or meta.get("dev"):
            entry["dev"] = bool(meta.get("dev"))
        if os_:
            entry["os"] = [os_]
        if cpu:
            entry["cpu"] = [cpu]
        if "musl" in name:
            entry["libc"] = ["musl"]
        elif os_ == "linux":
            entry["libc"] = ["glibc"]
        if not entry.get("dev"):
            entry.pop("dev", None)
        pkgs[f"node_modules/{dep}"] = entry
        added += 1
lock["packages"] = dict(sorted(pkgs.items(), key=lambda kv: (kv[0] != "", kv[0])))
json.dump(lock, open(path, "w"), indent=2)
open(path, "a").write("\n")
print(f"{path}: added {added} platform entries")
