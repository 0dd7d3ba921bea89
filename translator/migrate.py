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

from . import compare, cri_config, files, losses, secrets
from .errors import InputError
from .files import ABSENT, Fingerprint
from .formats import certs_d, certs_d_writer, cri_toml
from .model import Change, Config
from .record import field, record
from .releases import DEFAULT_TARGET, Target


@record(mutable=True)
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
    #: CONFIG as it was read: `apply` refuses to overwrite it if it changed meanwhile
    fingerprint: Fingerprint = ABSENT


def plan(config_file: str, certs_dir: str, target: Target = DEFAULT_TARGET) -> Plan:
    certs_dir = os.path.abspath(certs_dir)  # config_path is one absolute directory: containerd's cwd is not ours
    text, fingerprint = files.read_text_fingerprinted(config_file)
    tree = cri_toml.parse_toml(text, config_file)
    fmt = cri_toml.detect(tree, config_file)
    model = cri_toml.read(text, config_file, fmt=fmt, target=target)
    section = cri_toml._dig(tree, cri_toml.registry_path(fmt))
    section = section if isinstance(section, dict) else {}
    legacy = bool(section.get("mirrors")) or bool(section.get("auths")) or any(
        isinstance(c, dict) and "tls" in c for c in section.get("configs", {}).values())
    if not legacy:
        reason = (f"already uses config_path = {section['config_path']!r}" if section.get("config_path")
                  else "has no legacy registry settings (mirrors, auths or configs.*.tls)")
        return Plan(config_file, certs_dir, fmt, model, text, text, nothing_to_do=reason, fingerprint=fingerprint)
    tree_files = certs_d_writer.render(model, drop_http_tls=True, target=target)
    new_text = cri_config.migrated(text, config_file, fmt, certs_dir, model.auth)
    listing = files.listing_from_files({k: v for k, (v, _m) in tree_files.items()})
    back = certs_d.read(listing, certs_dir, target=target)
    beside = cri_toml.read(new_text, config_file, target=target)
    back = back.with_(auth=beside.auth, headers=beside.headers, release=target.release, semantics="hosts")
    found = compare.differences(model, back)
    changes = losses.losses(model, back, found, fmt, "certs-d")
    return Plan(config_file, certs_dir, fmt, model, text, new_text, tree_files, changes, fingerprint=fingerprint)


def _diff(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=old_name, tofile=new_name)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def dry_run(p: Plan) -> str:
    """A unified diff of the config file and of every hosts.toml the migration would write, each
    side masked by where its secrets are (secrets.mask_toml), then through `redact`."""
    out = [_diff(secrets.mask_toml(p.old_text), secrets.mask_toml(p.new_text), p.config_file, p.config_file)]
    for rel, (text, _mode) in p.files.items():
        target = os.path.join(p.certs_dir, rel)
        existing = ""
        if os.path.isfile(target):
            existing = files.read_text(target)
        out.append(_diff(secrets.mask_toml(existing), secrets.mask_toml(text),
                         "/dev/null" if not existing else target, target))
    return secrets.redact("".join(out))


def plan_text(p: Plan, force: bool = False) -> str:
    """What `--write` would do to the tree and the config, or refuse, in a few lines."""
    tree = files.plan_tree(p.certs_dir, p.files, force=force)
    lines = [f"with --write: {p.certs_dir}: {len(tree.create)} to create, {len(tree.replace)} to replace, "
             f"{len(tree.unchanged)} unchanged, {len(tree.prune)} generated file(s) to remove"]
    lines += [f"  would remove {path} (generated, no longer part of the tree)" for path in tree.prune]
    lines += [f"  would refuse {rel}: {why}" for rel, why in tree.refused]
    if tree.refused:
        lines.append("  --write would change nothing while these remain (--force replaces hand-written files)")
    lines.append(f"with --write: {p.config_file} gets config_path = {p.certs_dir!r}, its original kept as "
                 f"{p.config_file}.bak unless --no-backup")
    return "\n".join(lines) + "\n"


def mask_diff(text: str) -> str:
    """A unified diff with the value of every secret key masked line by line: for a diff of a file
    that is not TOML (registries.yaml), or that could not be masked before diffing."""
    masked = []
    for line in text.splitlines(keepends=True):
        body = line[1:].strip().lower()
        for separator in ("=", ":"):
            key = body.split(separator, 1)[0].strip().strip("\"'")
            if separator in body and key in ("password", "auth", "identitytoken", "identity_token"):
                line = line[:1] + line[1:].split(separator, 1)[0] + f'{separator} "{secrets.MASK}"\n'
                break
        masked.append(line)
    return secrets.redact("".join(masked))


BOM = b"\xef\xbb\xbf"


@record(mutable=True)
class Applied:
    written: list[str]
    removed: list[str]
    backup: str | None
    #: the `.bak` was there already and was kept as it was (it holds the original)
    backup_existed: bool = False


def tidy(p: Plan) -> None:
    """With nothing to migrate, still remove what a killed `migrate --write` left beside the tree
    and the config (best effort: this run was asked to change nothing else)."""
    import contextlib

    with contextlib.suppress(InputError, OSError), files.write_batch() as batch:
        batch.tidy(p.certs_dir, tree=True)
        batch.tidy(p.config_file)


def tightens(p: Plan) -> bool:
    """True when the migrated config keeps credentials (auth, a secret header) and others can read
    it: `apply(tighten=True)` then writes it owner-only (0600 at most)."""
    mode = files.file_mode(p.config_file)
    return bool(mode is not None and mode & 0o077 and secrets.holds_credentials(p.model.with_(hosts={})))


def apply(p: Plan, backup: bool = True, force: bool = False, tighten: bool = False) -> Applied:
    """Write the tree and the config as one (both locked and staged before either is replaced);
    the tree is swapped in first, so that config_path never names a missing tree. A config
    changed since `plan` read it is not overwritten. It keeps its mode, unless TIGHTEN and
    `tightens(p)` (the Ansible modules ask for that; the CLI does not)."""
    if p.nothing_to_do:
        raise InputError(f"nothing to migrate: {p.nothing_to_do}", file=p.config_file)
    tighten = tighten and tightens(p)
    data = p.new_text.encode("utf-8")
    if tighten and (files.read_nofollow(p.config_file) or b"").startswith(BOM):
        data = BOM + data  # what an edit does by itself (edit=True keeps the mode, so it is not one here)
    with files.write_batch() as batch:
        tree = batch.tree(p.certs_dir, p.files, force=force)
        config = batch.file(p.config_file, data, secret=True, edit=not tighten, backup=backup,
                            expect=p.fingerprint)
        batch.commit()
    return Applied([*tree.written, p.config_file], tree.removed, config.backup, config.backup_existed)
