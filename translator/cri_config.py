"""Editing a containerd config.toml in place: every line outside what must change kept as it was.

Used by `convert --cri-config` (set `config_path`, credentials and global headers beside a
certs.d tree) and by `migrate` (also remove `mirrors`, `auths` and `configs.*.tls`). The
edit is made line by line (translator.toml_edit), then the result is parsed and compared
with the original: nothing outside the registry table may differ, and the registry table
must hold exactly what was meant. A file whose registry settings are written in a way the
line editor cannot follow (inline tables, dotted keys) is edited with tomlkit instead, and
checked the same way; a bug here must never reach a node's config.toml.
"""

from __future__ import annotations

from . import toml_edit
from .compat import tomllib
from .errors import InputError
from .formats import cri_toml, cri_toml_writer, toml_out
from .model import Auth

NEW_VERSION = "cri-v2"  # the only version both containerd 1.x and 2.x read


def _auth_fields(auth: Auth) -> dict[str, str]:
    return {k: v for k, v in auth.as_dict().items() if v}


def _without_registry(tree: dict, fmt: str) -> dict:
    plugins = dict(tree.get("plugins", {}))
    plugin = dict(plugins.get(cri_toml.PLUGIN[fmt], {}))
    plugin.pop("registry", None)
    if plugin:
        plugins[cri_toml.PLUGIN[fmt]] = plugin
    else:
        plugins.pop(cri_toml.PLUGIN[fmt], None)
    result = dict(tree)
    if plugins:
        result["plugins"] = plugins
    else:
        result.pop("plugins", None)
    return result


def _registry(tree: dict, fmt: str) -> dict:
    found = cri_toml._dig(tree, cri_toml.registry_path(fmt))
    return found if isinstance(found, dict) else {}


def _verify(original: str, edited: str, fmt: str, name: str, wanted: dict) -> bool:
    """True when EDITED differs from ORIGINAL only inside the registry table, which holds WANTED."""
    try:
        before, after = tomllib.loads(original), tomllib.loads(edited)
    except tomllib.TOMLDecodeError:
        return False
    if _without_registry(before, fmt) != _without_registry(after, fmt):
        return False
    registry = _registry(after, fmt)
    if registry.get("config_path") != wanted["config_path"]:
        return False
    if wanted.get("migrated") and (registry.get("mirrors") or registry.get("auths") or any(
            isinstance(c, dict) and "tls" in c for c in registry.get("configs", {}).values())):
        return False
    configs = registry.get("configs", {})
    for key, fields in wanted["auth"].items():
        if configs.get(key, {}).get("auth") != fields:
            return False
    headers = registry.get("headers", {})
    return all(headers.get(k) == v for k, v in wanted["headers"].items())


def _edit_lines(text: str, fmt: str, config_path: str, auth: dict[str, dict], headers: dict[str, list],
                migrate: bool) -> str:
    registry = cri_toml.registry_path(fmt)
    size = len(registry)
    tree = tomllib.loads(text)
    current = _registry(tree, fmt)
    document = toml_edit.Document(text)

    def legacy(path: tuple[str, ...]) -> bool:
        if path[:size] != registry or len(path) <= size:
            return False
        if path[size] in ("mirrors", "auths"):
            return True
        return path[size] == "configs" and len(path) > size + 2 and path[size + 2] == "tls"

    if migrate:
        document.remove(legacy)
    changed_auth = {k: v for k, v in auth.items() if current.get("configs", {}).get(k, {}).get("auth") != v}
    changed_headers = {k: v for k, v in headers.items() if current.get("headers", {}).get(k) != v}
    for key in changed_auth:
        document.remove(lambda p, key=key: p[:size + 3] == (*registry, "configs", key, "auth"))
    for key in changed_headers:
        document.remove(lambda p, key=key: p == (*registry, "headers", key))
    group = [t for t in document.tables() if t.path[:size] == registry and t.start - 1 not in document.deleted]
    if group:
        anchor = document.table_span(group[-1])[1]
    elif document.first_removed is not None:
        anchor = document.first_removed
    else:
        anchor = len(document.lines)
    indent = group[-1].indent if group else ""
    document.set_key(registry, "config_path", config_path, anchor)
    for key, fields in changed_auth.items():
        document.add_table((*registry, "configs", key, "auth"), fields, anchor, indent)
    if changed_headers:
        table = document.header((*registry, "headers"))
        if table is not None and table.start - 1 not in document.deleted:
            document.insert(table.start, [document.key_indent(table) + toml_out.assignment(k, v)
                                          for k, v in changed_headers.items()])
        else:
            document.add_table((*registry, "headers"), changed_headers, anchor, indent)
    return document.text()


def _edit_tomlkit(text: str, fmt: str, config_path: str, auth: dict[str, dict], headers: dict[str, list],
                  migrate: bool) -> str:
    import tomlkit

    document = tomlkit.parse(text)
    node = document
    for part in cri_toml.registry_path(fmt):
        if part not in node:
            node[part] = tomlkit.table()
        node = node[part]
    if migrate:
        for key in ("mirrors", "auths"):
            if key in node:
                del node[key]
        for host in list(node.get("configs", {}).keys()):
            entry = node["configs"][host]
            if hasattr(entry, "keys") and "tls" in entry:
                del entry["tls"]
    node["config_path"] = config_path
    for key, fields in auth.items():
        configs = node.setdefault("configs", tomlkit.table())
        entry = configs.setdefault(key, tomlkit.table())
        entry["auth"] = fields
    if headers:
        table = node.setdefault("headers", tomlkit.table())
        for key, values in headers.items():
            table[key] = values
    return tomlkit.dumps(document)


def _edit(text: str, name: str, fmt: str, config_path: str, auth: dict[str, Auth],
          headers: dict[str, tuple[str, ...]], migrate: bool) -> str:
    wanted = {"config_path": config_path, "auth": {k: _auth_fields(a) for k, a in auth.items()},
              "headers": {k: list(v) for k, v in headers.items()}, "migrated": migrate}
    for editor in (_edit_lines, _edit_tomlkit):
        try:
            edited = editor(text, fmt, config_path, wanted["auth"], wanted["headers"], migrate)
        except Exception:
            continue
        if _verify(text, edited, fmt, name, wanted):
            return edited
    raise InputError("cannot edit the registry section of this file without changing other settings; "
                     "nothing was written", file=name, fix="edit it by hand, or report the file's layout")


def new_config(config_path: str, auth: dict[str, Auth], headers: dict[str, tuple[str, ...]]) -> str:
    """A new containerd config (version 2) that points CRI at CONFIG_PATH and holds the credentials."""
    section: dict[str, object] = {"config_path": config_path}
    if auth:
        section["configs"] = {k: {"auth": _auth_fields(a)} for k, a in auth.items()}
    if headers:
        section["headers"] = {k: list(v) for k, v in headers.items()}
    document = cri_toml_writer.nest(NEW_VERSION, section)
    comment = ["# Generated by registries-translator: the CRI registry settings for a certs.d tree.",
               "# containerd config version 2, read by containerd 1.x and 2.x."]
    return toml_out.verified(toml_out.document(document, comment), document)


def for_tree(existing: str | None, name: str, config_path: str, auth: dict[str, Auth],
             headers: dict[str, tuple[str, ...]]) -> str:
    """The containerd config that goes with a certs.d tree: EXISTING updated, or a new one."""
    if existing is None or not existing.strip():
        return new_config(config_path, auth, headers)
    tree = cri_toml.parse_toml(existing, name)
    fmt = cri_toml.detect(tree, name)
    section = _registry(tree, fmt)
    if section.get("mirrors"):
        raise InputError("has registry.mirrors: setting config_path beside them makes the CRI plugin fail "
                         "to load", file=name, fix=f"run `registries-translator migrate {name}` first")
    if fmt != "cri-v3" and any(isinstance(c, dict) and "tls" in c for c in section.get("configs", {}).values()):
        raise InputError("has registry.configs.*.tls: containerd 1.x refuses it beside config_path",
                         file=name, fix=f"run `registries-translator migrate {name}` first")
    return _edit(existing, name, fmt, config_path, auth, headers, migrate=False)


def migrated(text: str, name: str, fmt: str, certs_dir: str, auth: dict[str, Auth]) -> str:
    """TEXT with the legacy registry settings replaced by `config_path = CERTS_DIR`; credentials
    (`auths` folded into `configs.<host>.auth`) and global headers kept."""
    return _edit(text, name, fmt, certs_dir, auth, {}, migrate=True)
