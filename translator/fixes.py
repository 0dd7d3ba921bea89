"""`check --fix`: the mechanical repairs, made in place without touching anything else.

Only repairs whose intent is certain are made:

| code | registries.yaml | config.toml | hosts.toml |
|---|---|---|---|
| `registry-1-twice` | | drop `registry-1.docker.io` from the docker.io list (the upstream is appended anyway) | |
| `hub-auth-key` | re-key `configs.docker.io` as `registry-1.docker.io` | the same | |
| `auths-deprecated` | | move `auths."https://h"` to `configs."h".auth` | |
| `unknown-key` | known misspellings (`skip_verify`, `endpoints`, `token` …) | the same | `skip-verify`, `ca_file` … |
| `mirror-key-has-path` | delete the key (never consulted) | the same | |
| `no-host-table` | | | add a bare `[host]` |

A repair is made only where the problem is reported (`--select`, `--ignore` and ignore comments
apply) and only when the right key is not there already. TOML is edited with tomlkit, then
parsed and compared with the same repair made on the parsed data: any other difference stops
the repair of that file. YAML is edited as text at the places the parser reports, then read
again. Every file is written whole (FILE.bak keeps the original) and re-checked.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from typing import Any

from . import endpoints as ep_rules
from . import files, gourl
from .compat import tomllib
from .errors import InputError, Problem
from .lint import _ignored_codes
from .record import field, record

HUB_KEYS = ("docker.io", "index.docker.io", "https://index.docker.io/v1/")

#: (where the key sits, the misspelling) -> the key the runtime reads
YAML_RENAMES = {
    ("mirror", "endpoints"): "endpoint", ("mirror", "rewrites"): "rewrite",
    ("tls", "skip_verify"): "insecure_skip_verify", ("tls", "insecure-skip-verify"): "insecure_skip_verify",
    ("tls", "insecure"): "insecure_skip_verify", ("tls", "ca"): "ca_file",
    ("auth", "token"): "identity_token", ("auth", "identitytoken"): "identity_token",
}
CRI_RENAMES = {
    ("mirror", "endpoints"): "endpoint", ("tls", "skip_verify"): "insecure_skip_verify",
    ("tls", "insecure-skip-verify"): "insecure_skip_verify", ("auth", "identity_token"): "identitytoken",
}
HOSTS_RENAMES = {"skip-verify": "skip_verify", "insecure_skip_verify": "skip_verify", "ca_file": "ca",
                 "headers": "header"}


@record(mutable=True)
class FixResult:
    diff: str = ""
    messages: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


@record(mutable=True)
class _Edit:
    """What one file's repair did: the new text and a line per repair."""

    text: str
    done: list[str] = field(default_factory=list)


def _kind(path: str, fmt: str | None) -> str:
    if os.path.basename(path) == "hosts.toml":
        return "hosts"
    from . import formats

    detected = fmt if fmt and fmt != "certs-d" else formats.detect(path)
    return "yaml" if detected == "registries-yaml" else detected if detected.startswith("cri-") else ""


# --- TOML: edit the lines, prove it on the parsed data -----------------------------------------
# A repair is a list of operations on key paths. Each is applied twice: to the text, line by line
# (translator.toml_edit keeps every other line byte for byte), and to the parsed data; the edited
# text must parse to exactly the edited data, or the file is left alone.

Path = tuple[str, ...]


@record
class _Op:
    kind: str            # "rename" (a key or a whole table), "delete", "set", "add"
    path: Path
    value: Any = None    # the new last part (rename), the new value (set), the items (add)


def _dig(tree: dict, path: Path, create: bool = False) -> Any:
    node: Any = tree
    for part in path:
        if not isinstance(node, dict):
            return None
        if part not in node:
            if not create:
                return None
            node[part] = {}
        node = node[part]
    return node


def _apply_data(tree: dict, ops: list[_Op]) -> None:
    for op in ops:
        parent = _dig(tree, op.path[:-1], create=op.kind == "add")
        last = op.path[-1]
        if op.kind == "rename":
            parent[op.value] = parent.pop(last)
        elif op.kind == "delete":
            parent.pop(last, None)
        elif op.kind == "set":
            parent[last] = op.value
        elif op.kind == "add":
            parent.setdefault(last, {}).update(op.value)


def _apply_text(text: str, ops: list[_Op]) -> str:
    from . import toml_edit
    from .formats import toml_lines, toml_out

    document = toml_edit.Document(text)
    for op in ops:
        size = len(op.path)
        if op.kind == "delete":
            document.remove(lambda p, path=op.path, size=size: p[:size] == path)
        elif op.kind == "rename":
            renamed = (*op.path[:-1], op.value)
            for entry in document.entries:
                if entry.path[:size] != op.path:
                    continue
                line = document.lines[entry.start - 1]
                if entry.kind == "key" and len(entry.path) == size:  # `old = value`: rewrite the key only
                    _head, sep, rest = line.partition("=")
                    document.replaced[entry.start - 1] = f"{entry.indent}{toml_out.key(op.value)} {sep}{rest}"
                elif entry.kind == "table":
                    tail = line.split("]", 1)[1] if "]" in line else "\n"
                    header = toml_out.header(*renamed, *entry.path[size:])
                    document.replaced[entry.start - 1] = f"{entry.indent}{header}{tail if tail.strip() else chr(10)}"
                elif entry.kind == "key":
                    parts = toml_lines.key_parts(line)
                    if len(entry.path) - len(parts) < size:  # the key itself spells the renamed part
                        raise ValueError("a dotted key through a renamed table")
        elif op.kind == "set":
            entry = document.key(op.path)
            if entry is None:
                raise ValueError("no such key")
            line = document.lines[entry.start - 1]
            comment = line[line.rfind("#"):].rstrip("\n") if entry.start == entry.end and "#" in line.split("]")[-1] \
                else ""
            document.replaced[entry.start - 1] = (entry.indent + toml_out.assignment(op.path[-1], op.value)
                                                  + (f"  {comment}" if comment else "") + "\n")
            document.deleted.update(range(entry.start, entry.end))
        elif op.kind == "add":
            tables = [t for t in document.tables() if t.path[:len(op.path) - 2] == op.path[:-2]]
            if tables:
                document.add_table(op.path, op.value, document.table_span(tables[-1])[1], tables[-1].indent)
            else:
                last = document.lines[-1] if document.lines else "\n"
                document.insert(len(document.lines), ([""] if last.strip() else [])
                                + [toml_out.header(*op.path)]
                                + [toml_out.assignment(k, v) for k, v in op.value.items()])
    return document.text()


def _cri_ops(tree: dict, fmt: str, codes: set[str], skip: Callable[[str, Path], bool]) -> tuple[list[_Op], list[str]]:
    from .formats.cri_toml import registry_path

    base = registry_path(fmt)
    registry = _dig(tree, base)
    ops: list[_Op] = []
    done: list[str] = []
    if not isinstance(registry, dict):
        return ops, done
    mirrors = registry.get("mirrors") if isinstance(registry.get("mirrors"), dict) else {}
    configs = registry.get("configs") if isinstance(registry.get("configs"), dict) else {}
    hub = mirrors.get("docker.io") if isinstance(mirrors.get("docker.io"), dict) else {}
    endpoint = hub.get("endpoint")
    path = (*base, "mirrors", "docker.io", "endpoint")
    if "registry-1-twice" in codes and isinstance(endpoint, list) and not skip("registry-1-twice", path):
        kept = [e for e in endpoint if _legacy_host(str(e)) != ep_rules.DOCKER_HUB_HOST]
        if len(kept) != len(endpoint):
            ops.append(_Op("set", path, kept))
            done.append("removed registry-1.docker.io from the docker.io endpoint list (containerd appends it)")
    if "mirror-key-has-path" in codes:
        for key in [k for k in mirrors if ep_rules.name_problem(k)]:
            if not skip("mirror-key-has-path", (*base, "mirrors", key)):
                ops.append(_Op("delete", (*base, "mirrors", key)))
                done.append(f"deleted mirrors.{key!r}, which containerd never consults")
    if "hub-auth-key" in codes and ep_rules.DOCKER_HUB_HOST not in configs:
        for key in [k for k in configs if k in HUB_KEYS][:1]:
            if not skip("hub-auth-key", (*base, "configs", key)):
                ops.append(_Op("rename", (*base, "configs", key), ep_rules.DOCKER_HUB_HOST))
                done.append(f"re-keyed configs.{key!r} as 'registry-1.docker.io'")
    auths = registry.get("auths")
    if "auths-deprecated" in codes and isinstance(auths, dict) and not skip("auths-deprecated", (*base, "auths")):
        moves = {}
        for key, auth in auths.items():
            host = _auths_host(key)
            if host is None or not isinstance(auth, dict):
                done.append(f"left auths.{key!r}: which host it means cannot be told")
                moves = {}
                break
            moves[host] = auth
        if moves:
            ops.append(_Op("delete", (*base, "auths")))
            for host, auth in moves.items():
                current = configs.get(host, {}).get("auth") if isinstance(configs.get(host), dict) else None
                if current is not None:  # containerd lets auths overwrite configs.<host>.auth
                    ops.append(_Op("delete", (*base, "configs", host, "auth")))
                ops.append(_Op("add", (*base, "configs", host, "auth"), dict(auth)))
                done.append(f"moved the auths entry for {host} to configs.{host!r}.auth")
    if "unknown-key" in codes:
        places: list[tuple[str, Any, Path]] = [("mirror", m, (*base, "mirrors", k)) for k, m in mirrors.items()]
        for key, config in configs.items():
            for sub in ("tls", "auth"):
                if isinstance(config, dict) and isinstance(config.get(sub), dict):
                    places.append((sub, config[sub], (*base, "configs", key, sub)))
        ops_, done_ = _renames(places, {k: v for k, v in CRI_RENAMES.items()}, skip)
        ops += ops_
        done += done_
    return ops, done


def _renames(places: list[tuple[str, Any, Path]], renames: dict, skip: Callable) -> tuple[list[_Op], list[str]]:
    ops, done = [], []
    for where, table, path in places:
        if not isinstance(table, dict):
            continue
        for key in list(table):
            new = renames.get((where, key))
            if new and new not in table and not skip("unknown-key", (*path, key)):
                ops.append(_Op("rename", (*path, key), new))
                done.append(f"renamed {key!r} to {new!r}" + (f" in {'.'.join(path[-2:])}" if path else ""))
    return ops, done


def _hosts_ops(tree: dict, codes: set[str], skip: Callable[[str, Path], bool]) -> tuple[list[_Op], list[str]]:
    ops: list[_Op] = []
    done: list[str] = []
    if "unknown-key" in codes:
        places: list[tuple[str, Any, Path]] = [("root", tree, ())]
        hosts = tree.get("host") if isinstance(tree.get("host"), dict) else {}
        places += [("root", table, ("host", url)) for url, table in hosts.items()]
        ops, done = _renames(places, {("root", k): v for k, v in HOSTS_RENAMES.items()}, skip)
    if "no-host-table" in codes and "host" not in tree and not skip("no-host-table", ()):
        ops.append(_Op("add", ("host",), {}))
        done.append("added a bare [host] table, which containerd 1.5-1.7.31 require")
    return ops, done


def _legacy_host(endpoint: str) -> str:
    try:
        return ep_rules.url_hostport(ep_rules.legacy_entry_url(endpoint))
    except (InputError, gourl.URLError):
        return ""


def _auths_host(key: str) -> str | None:
    """The endpoint host an `auths` key means: the URL's host, or the key itself without a scheme."""
    if "://" in key:
        try:
            host = gourl.parse(key).host
        except gourl.URLError:
            return None
        return host or None
    return key if ep_rules.valid_hostport(key) else None


def _toml_fix(text: str, name: str, plan: Callable[[dict, Callable], tuple[list[_Op], list[str]]]) -> _Edit | None:
    import copy

    from .formats import toml_lines

    lines = text.splitlines()
    index = toml_lines.index(text)

    def skip(code: str, path: Path) -> bool:
        line = toml_lines.line_of(index, *path)
        if not line:
            return False
        ignored = _ignored_codes(lines, line)
        return ignored is not None and (not ignored or code in ignored)

    tree = tomllib.loads(text)
    ops, done = plan(tree, skip)
    if not ops:
        return _Edit(text, done) if done else None
    expected = copy.deepcopy(tree)
    _apply_data(expected, ops)
    try:
        new_text = _apply_text(text, ops)
        if tomllib.loads(new_text) != expected:
            raise ValueError("the edit means something else")
    except (ValueError, KeyError, tomllib.TOMLDecodeError):
        return _Edit(text, [f"could not repair {name} without changing other settings; repair it by hand"])
    return _Edit(new_text, done)


# --- YAML: edit the text at the places the parser reports ------------------------------------

def _yaml_fix(text: str, name: str, codes: set[str]) -> _Edit | None:
    import yaml

    from .formats.yaml_in import compose

    root = compose(text, name)
    if not isinstance(root, yaml.MappingNode):
        return None
    lines = text.splitlines()
    edits: list[tuple[int, int, str]] = []
    done: list[str] = []

    def skip(code: str, node: yaml.Node) -> bool:
        ignored = _ignored_codes(lines, node.start_mark.line + 1)
        return ignored is not None and (not ignored or code in ignored)

    def rename(knode: yaml.Node, new: str) -> None:
        start, end = knode.start_mark.index, knode.end_mark.index
        quote = text[start] if text[start] in "'\"" else ""
        edits.append((start, end, f"{quote}{new}{quote}"))

    def keys(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            return {}
        return {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}

    top = keys(root)
    mirrors = top.get("mirrors", (None, None))[1]
    configs = top.get("configs", (None, None))[1]
    if "mirror-key-has-path" in codes and isinstance(mirrors, yaml.MappingNode):
        for pos, (knode, vnode) in enumerate(mirrors.value):
            if ep_rules.name_problem(str(knode.value)) and not skip("mirror-key-has-path", knode):
                if mirrors.flow_style:
                    done.append(f"left mirrors.{knode.value!r}: written in flow style; delete it by hand")
                    continue
                following = mirrors.value[pos + 1][0] if pos + 1 < len(mirrors.value) else None
                edits.append(_entry_span(text, knode, vnode, following))
                done.append(f"deleted mirrors.{knode.value!r}, which is never consulted")
    config_keys = keys(configs)
    if "hub-auth-key" in codes and ep_rules.DOCKER_HUB_HOST not in config_keys:
        for key in HUB_KEYS[:2]:
            if key in config_keys and not skip("hub-auth-key", config_keys[key][0]):
                rename(config_keys[key][0], ep_rules.DOCKER_HUB_HOST)
                done.append(f"re-keyed configs.{key!r} as 'registry-1.docker.io'")
                break
    if "unknown-key" in codes:
        places = [("mirror", v) for _k, v in keys(mirrors).values()]
        for _k, value in config_keys.values():
            for sub in ("tls", "auth"):
                if sub in keys(value):
                    places.append((sub, keys(value)[sub][1]))
        for where, table in places:
            present = keys(table)
            for key, (knode, _v) in present.items():
                new = YAML_RENAMES.get((where, key))
                if new and new not in present and not skip("unknown-key", knode):
                    rename(knode, new)
                    done.append(f"renamed {key!r} to {new!r} (line {knode.start_mark.line + 1})")
    if not edits:
        return _Edit(text, done) if done else None
    new_text = text
    for start, end, replacement in sorted(edits, reverse=True):
        new_text = new_text[:start] + replacement + new_text[end:]
    return _Edit(new_text, done)


def _entry_span(text: str, knode: Any, vnode: Any, following: Any) -> tuple[int, int, str]:
    """The whole lines of one block-mapping entry: from its key's line to the next key's line."""
    start = text.rfind("\n", 0, knode.start_mark.index) + 1
    if following is not None:
        end = text.rfind("\n", 0, following.start_mark.index) + 1
    else:
        last = _last_index(vnode)
        newline = text.find("\n", last)
        end = len(text) if newline == -1 else newline + 1
    return start, end, ""


def _last_index(node: Any) -> int:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return max([_last_index(v) for _k, v in node.value] + [node.start_mark.index])
    if isinstance(node, yaml.SequenceNode):
        return max([_last_index(v) for v in node.value] + [node.start_mark.index])
    return max(node.end_mark.index - 1, node.start_mark.index)


# --- driving ---------------------------------------------------------------------------------

def _repair(path: str, fmt: str | None, codes: set[str]) -> _Edit | None:
    text = files.read_text(path)
    kind = _kind(path, fmt)
    if kind == "yaml":
        return _yaml_fix(text, path, codes)
    if kind.startswith("cri-"):
        return _toml_fix(text, path, lambda tree, skip: _cri_ops(tree, kind, codes, skip))
    if kind == "hosts":
        return _toml_fix(text, path, lambda tree, skip: _hosts_ops(tree, codes, skip))
    return None


def _verified(path: str, new_text: str, fmt: str | None) -> bool:
    """The repaired text still reads as a configuration of the same format."""
    from . import formats
    from .formats import certs_d, toml_out

    try:
        if os.path.basename(path) == "hosts.toml":
            toml_out.parse(new_text, path)
            listing = files.listing_from_files({"x.example.com/hosts.toml": new_text})
            certs_d.read(listing, path)
        else:
            formats.read_text(new_text, _kind(path, fmt) if _kind(path, fmt) != "yaml" else "registries-yaml", path)
    except InputError:
        return False
    return True


def fix_all(problems: list[Problem], fmt: str | None, write: bool = True) -> FixResult:
    """Repair every fixable problem in PROBLEMS, file by file; with WRITE false, only the diff."""
    from .codes import FIXABLE
    from .migrate import mask_diff

    by_file: dict[str, set[str]] = {}
    for problem in problems:
        if problem.code in FIXABLE and problem.file and problem.file != "-" and files.exists(problem.file) \
                and not files.is_dir(problem.file):
            by_file.setdefault(problem.file, set()).add(problem.code)
    result = FixResult()
    diffs = []
    for path, codes in by_file.items():
        edit = _repair(path, fmt, codes)
        if edit is None:
            continue
        old_text = files.read_text(path)
        if edit.text == old_text:
            result.messages.extend(f"{path}: {line}" for line in edit.done)
            continue
        if not _verified(path, edit.text, fmt):
            result.messages.append(f"{path}: the repair would not read back; nothing was changed")
            continue
        diffs.append("".join(difflib.unified_diff(old_text.splitlines(keepends=True),
                                                  edit.text.splitlines(keepends=True), fromfile=path, tofile=path)))
        if write:
            files.atomic_write(path, edit.text.encode("utf-8"), edit=True, backup=True)
            result.changed.append(path)
            result.messages.extend(f"fixed {path}: {line}" for line in edit.done)
            result.messages.append(f"kept the original as {path}.bak")
    result.diff = mask_diff("".join(d if d.endswith("\n") else d + "\n" for d in diffs)) if diffs else ""
    return result
