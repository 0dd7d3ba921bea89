"""`migrate`: a legacy `registry.mirrors` config.toml to `config_path` + a certs.d tree,
without changing what containerd requests, or in which order (SEMANTICS.md §5.3).

The hosts.toml files are the legacy host lists rendered as they are (every entry but the
last as `[host]`, the last as `server`, paths made explicit with `override_path`, TLS by
endpoint host on every entry); the config keeps every unrelated line and gets `config_path`
instead of `mirrors`, `auths` and `configs.*.tls`. The migration measures itself like
`convert` does: the tree and the new config are read back and compared with the original.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field

from . import compare, cri_config, files, losses, secrets
from .errors import InputError
from .formats import certs_d, certs_d_writer, cri_toml
from .model import Change, Config


@dataclass
class Plan:
    config_file: str
    certs_dir: str
    fmt: str
    model: Config
    old_text: str
    new_text: str
    files: dict[str, tuple[str, int]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    nothing_to_do: str = ""


def plan(config_file: str, certs_dir: str) -> Plan:
    certs_dir = os.path.abspath(certs_dir)  # config_path is one absolute directory: containerd's cwd is not ours
    text = files.read_text(config_file)
    tree = cri_toml.parse_toml(text, config_file)
    fmt = cri_toml.detect(tree, config_file)
    model = cri_toml.read(text, config_file, fmt=fmt)
    section = cri_toml._dig(tree, cri_toml.registry_path(fmt))
    section = section if isinstance(section, dict) else {}
    legacy = bool(section.get("mirrors")) or bool(section.get("auths")) or any(
        isinstance(c, dict) and "tls" in c for c in section.get("configs", {}).values())
    if not legacy:
        reason = (f"already uses config_path = {section['config_path']!r}" if section.get("config_path")
                  else "has no legacy registry settings (mirrors, auths or configs.*.tls)")
        return Plan(config_file, certs_dir, fmt, model, text, text, nothing_to_do=reason)
    tree_files = certs_d_writer.render(model, drop_http_tls=True)
    new_text = cri_config.migrated(text, config_file, fmt, certs_dir, model.auth)
    listing = files.listing_from_files({k: v for k, (v, _m) in tree_files.items()})
    back = certs_d.read(listing, certs_dir)
    beside = cri_toml.read(new_text, config_file)
    back = back.with_(auth=beside.auth, headers=beside.headers)
    found = compare.differences(model, back)
    changes = losses.losses(model, back, found, fmt, "certs-d")
    return Plan(config_file, certs_dir, fmt, model, text, new_text, tree_files, changes)


def _diff(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=old_name, tofile=new_name)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def dry_run(p: Plan) -> str:
    """A unified diff of the config file and of every hosts.toml the migration would write."""
    out = [_diff(p.old_text, p.new_text, p.config_file, p.config_file)]
    for rel, (text, _mode) in p.files.items():
        target = os.path.join(p.certs_dir, rel)
        existing = ""
        if os.path.isfile(target):
            existing = files.read_text(target)
        out.append(_diff(existing, text, "/dev/null" if not existing else target, target))
    return mask_diff("".join(out))


def mask_diff(text: str) -> str:
    masked = []
    for line in text.splitlines(keepends=True):
        body = line[1:].strip().lower()
        if body.split("=", 1)[0].strip() in ("password", "auth", "identitytoken") and "=" in body:
            line = line[:1] + line[1:].split("=", 1)[0] + f'= "{secrets.MASK}"\n'
        masked.append(line)
    return secrets.redact("".join(masked))


@dataclass
class Applied:
    written: list[str]
    removed: list[str]
    backup: str | None


def apply(p: Plan, backup: bool = True, force: bool = False) -> Applied:
    """Write the tree first, then the config, so that config_path never names a missing tree."""
    if p.nothing_to_do:
        raise InputError(f"nothing to migrate: {p.nothing_to_do}", file=p.config_file)
    result = files.write_tree(p.certs_dir, p.files, force=force)
    saved = files.atomic_write(p.config_file, p.new_text.encode("utf-8"), 0o600, backup=backup)
    return Applied([*result.written, p.config_file], result.removed, saved)
