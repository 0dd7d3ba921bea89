"""crictl-info: the registry settings containerd actually loaded, as `crictl info` prints them.

`crictl info` asks the CRI runtime for its status with `verbose`; containerd 1.x answers with
its whole CRI config as JSON, and crictl prints it under `config` (its JSON field names are
camelCase where the TOML ones are snake_case):

    {"status": {...},
     "config": {"registry": {
        "configPath": "",
        "mirrors": {"docker.io": {"endpoint": ["https://mirror.example.com"]}},
        "configs": {"mirror.example.com": {
            "auth": {"username": "u", "password": "p", "auth": "", "identitytoken": ""},
            "tls": {"insecure_skip_verify": false, "caFile": "/etc/ssl/m.pem", "certFile": "", "keyFile": ""}}},
        "auths": null, "headers": null}}}

Runtimes: containerd 1.5-1.7 (1.4 has no `configPath`). containerd 2.x prints only the runtime
part of its CRI config, without the image service's `registry`, so its output is refused with
a pointer to config.toml — unless it has the image part as `imageconfig` (containerd#13709),
which is then what counts. Also accepted: the `config` object alone, the `registry` object
alone, a CRI `info` map whose `config` is still a JSON string, and a pasted `"registry": {…}`
fragment (blog posts quote it so). The settings are read by the legacy CRI rules of a
version 2 config.toml (cri_toml.py); with a `configPath`, the tree it names is read, from
`--certs-dir` when the tree is somewhere else on this machine. Credentials appear in this
output in clear; they are masked in every report. Read only: there is no writer.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import files
from ..errors import InputError, Problem
from ..model import Config
from ..releases import Target, parse_version
from . import json_in

NAME = "crictl-info"
#: JSON field name -> config.toml key (pkg/cri/config/config.go json tags, containerd 1.5-1.7)
JSON_TO_TOML = {"configPath": "config_path", "caFile": "ca_file", "certFile": "cert_file", "keyFile": "key_file",
                "identityToken": "identitytoken", "insecureSkipVerify": "insecure_skip_verify"}
REGISTRY_KEYS = ("configPath", "mirrors", "configs", "auths", "headers")
CRICTL_KEYS = ("status", "config", "cniconfig", "golang", "lastCNILoadStatus", "info", "imageconfig")


def _as_object(value: object) -> object:
    """A CRI info value that is still a JSON string (the raw StatusResponse.info map)."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            return json_in.parse(value, "-")
        except InputError:
            return value
    return value


def find_registry(document: object) -> tuple[dict, tuple[str, ...]] | None:
    """The registry object of a crictl info document and its JSON path, or None."""
    if not isinstance(document, dict):
        return None
    if "registry" in document and isinstance(document["registry"], dict):
        return document["registry"], ("registry",)
    if any(key in document for key in REGISTRY_KEYS) and not any(k in document for k in CRICTL_KEYS):
        return document, ()
    for outer in ("imageconfig", "imageConfig", "config", "info", "status"):
        inner = _as_object(document.get(outer))
        if inner is document or not isinstance(inner, dict):
            continue
        found = find_registry(inner)
        if found is not None:
            return found[0], (outer, *found[1])
    return None


def looks_like(document: object) -> bool:
    """For detection: a crictl info document (with or without a registry section)."""
    if not isinstance(document, dict):
        return False
    if find_registry(document) is not None and "mirrors" not in document:
        return True
    return "config" in document and any(k in document for k in ("status", "cniconfig", "golang", "lastCNILoadStatus"))


def fragment_text(text: str) -> str | None:
    """`"registry": {…},` as pasted from a terminal (often cut short), made a JSON object with
    the braces it lacks; None for anything else."""
    stripped = text.strip().rstrip(",")
    if not stripped.startswith('"registry"'):
        return None
    depth = 0
    in_string = escaped = False
    for c in stripped:
        if in_string:
            escaped = not escaped and c == "\\"
            in_string = escaped or c != '"'
        elif c == '"':
            in_string = True
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
    return "{" + stripped + "}" * max(depth, 0) + "}"


def _plain(value: object) -> object:
    """JSON as config.toml would have held it: Go's nil maps and pointers (null) left out, field
    names in their TOML spelling."""
    if isinstance(value, dict):
        return {JSON_TO_TOML.get(k, k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse(text: str, name: str) -> tuple[dict, tuple[str, ...], str]:
    """(registry object, its JSON path, the text the lines refer to). A `"registry": {…}`
    fragment as blog posts quote it is completed; anything else must be valid JSON."""
    source = text
    if not text.lstrip().startswith(("{", "[")):
        repaired = fragment_text(text)
        if repaired is not None:
            source = repaired
    document = json_in.parse(source, name)
    found = find_registry(document)
    if found is None:
        if isinstance(document, dict) and "config" in document:
            raise InputError("this crictl info has no registry settings: containerd 2.x prints only the runtime "
                             "part of its CRI config (the image part, `imageconfig`, only where containerd#13709 is "
                             "in), and CRI-O none", file=name,
                             fix="read containerd's config.toml and certs.d tree (or CRI-O's registries.conf) instead")
        raise InputError("no config.registry object: this is not `crictl info` output", file=name,
                         fix="pass the output of `crictl info` (containerd 1.5-1.7), or the right --from")
    return found[0], found[1], source


def read(text: str, name: str, *, certs_dir: str | None = None,
         load_tree: Callable[[str], Config] | None = None, target: Target | None = None) -> Config:
    """The model containerd built from the registry settings shown in TEXT. Only containerd 1.x prints
    them, so without `--containerd` the newest 1.7 release reads them."""
    from . import cri_toml  # its TOML machinery only when there is something to read

    problems: list[Problem] = []
    registry, path, source = parse(text, name)
    lines = {tuple(JSON_TO_TOML.get(p, p) for p in key): line for key, line in json_in.index(source).items()}
    base = tuple(JSON_TO_TOML.get(p, p) for p in path)
    tree: dict = _plain(registry)  # type: ignore[assignment]
    for part in reversed(base):
        tree = {part: tree}
    if not base:
        base = ("registry",)
        tree = {"registry": tree}
    if target is None or not target.explicit:
        target = Target(parse_version("1.7"))
    reader = cri_toml._Reader("", name, "cri-v2", "vanilla", target)
    reader.base = base
    reader.lines = lines
    tree_loader = load_tree
    config_path = registry.get("configPath") or ""
    if config_path and load_tree is not None:
        where = certs_dir or config_path
        if not any(files.is_dir(root) for root in where.split(":") if root):
            problems.append(Problem("warning", "config-path-not-here", f"configPath {config_path} is not a "
                                    "directory on this machine, so its hosts are unknown here",
                                    "pass --certs-dir with a copy of the node's tree", file=name,
                                    line=json_in.line_of(lines, *base, "config_path"),
                                    key=".".join((*base, "config_path"))))
        tree_loader = lambda _path: load_tree(where)  # noqa: E731 - the one place the path is swapped
    config = reader.build(tree, tree_loader)
    return config.with_(source_format=NAME, problems=config.problems + tuple(problems), release=target.release)
