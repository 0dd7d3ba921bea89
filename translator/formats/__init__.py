"""The one table of formats: name -> how to detect, read, render and read back.

| name              | source                                   | rendered as                          |
|-------------------|------------------------------------------|--------------------------------------|
| registries-yaml   | k3s/RKE2 registries.yaml                 | one YAML file                        |
| cri-v1/v2/v3      | containerd config.toml registry section  | one TOML fragment                    |
| certs-d           | a certs.d directory of hosts.toml files  | {"<dir>/hosts.toml": (text, mode)}   |
| crictl-info       | `crictl info` JSON (containerd 1.5-1.7)  | (read only)                          |
| docker-daemon     | daemon.json + /etc/docker/certs.d        | JSON, and {"<host>/hosts.toml": ...} |
| registries-conf   | containers-registries.conf v2 + .conf.d  | one TOML file                        |

What each format cannot hold is declared in `translator.losses.CANNOT_HOLD`.
"""

from __future__ import annotations

import os

from .. import files
from ..errors import InputError
from ..model import Config
from ..record import field, record
from ..releases import DEFAULT_TARGET, Target

CRI_FORMATS = ("cri-v1", "cri-v2", "cri-v3")
FORMATS = ("registries-yaml", *CRI_FORMATS, "certs-d", "crictl-info", "docker-daemon", "registries-conf")
#: formats that are read but never written
READ_ONLY = ("crictl-info",)


@record
class ReadOptions:
    """How to read: k3s's flags and which containerd the tree is for."""

    no_default_endpoint: bool = False
    #: "vanilla" (upstream containerd) or "k3s" (k3s's containerd: rewrites, no-server = no fallback)
    flavor: str = "vanilla"
    #: a containerd config whose credentials and headers go with a certs.d source
    cri_config: str | None = None
    #: the containerd release to read as (`--containerd`; by default the newest known one)
    target: Target = DEFAULT_TARGET
    #: crictl-info: where the tree its configPath names is on this machine
    certs_dir: str | None = None
    #: docker-daemon: Docker's certificate directory (default /etc/docker/certs.d)
    docker_certs_dir: str | None = None
    #: registries-conf: namespace prefixes as k3s rewrites where that is exact
    keep_rewrites: bool = False
    #: read a certs.d tree only where containerd looks for this registry (`resolve` of one image)
    registry: str | None = None


DEFAULT_OPTIONS = ReadOptions()


@record(mutable=True)
class Rendered:
    """A written-out model: the text of a single-file format, or the files of a tree."""

    fmt: str
    text: str = ""
    files: dict[str, tuple[str, int]] = field(default_factory=dict)


def check_format(fmt: str | None) -> None:
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", fix="use one of " + ", ".join(FORMATS))


def check_target(fmt: str) -> None:
    check_format(fmt)
    if fmt in READ_ONLY:
        raise InputError(f"{fmt} is read only: it is what a runtime prints, not a file to write",
                         fix="convert to certs-d or cri-v2 instead")


def _detect_json(text: str, name: str) -> str | None:
    """crictl-info or docker-daemon for JSON that says so; None for anything else."""
    stripped = text.lstrip()
    if not stripped.startswith(('"registry"', "{")):
        return None  # most inputs: YAML or TOML, and no JSON reader is loaded for them
    from . import crictl_info

    if stripped.startswith('"registry"') and crictl_info.fragment_text(text) is not None:
        return "crictl-info"
    if not stripped.startswith("{"):
        return None
    import json

    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return _json_by_name(text, name)
    from . import docker_daemon

    if crictl_info.looks_like(document):
        return "crictl-info"
    if docker_daemon.looks_like(document) or os.path.basename(name) == "daemon.json":
        return "docker-daemon"
    return None


def _json_by_name(text: str, name: str) -> str | None:
    """The format of JSON that does not parse, from its name or its first keys, so that the
    error comes from the right reader (with its line)."""
    if os.path.basename(name) == "daemon.json" or '"registry-mirrors"' in text or '"insecure-registries"' in text:
        return "docker-daemon"
    if '"registry"' in text and ('"configPath"' in text or '"status"' in text):
        return "crictl-info"
    return None


def _is_registries_conf(tree: dict) -> bool:
    """`[[registry]]`, a v2 top-level key, or v1's `[registries.search]` (refused by the reader)."""
    if isinstance(tree.get("registry"), list):
        return True
    if any(k in tree for k in ("unqualified-search-registries", "short-name-mode", "aliases")):
        return True
    v1 = tree.get("registries")
    return isinstance(v1, dict) and any(k in v1 for k in ("search", "insecure", "block"))


def detect_text(text: str, name: str) -> str:
    """The format of TEXT, from its content (and, when the content cannot tell, the name)."""
    json_format = _detect_json(text, name)
    if json_format is not None:
        return json_format
    toml_tree = None if cannot_be_toml(text) else _toml_tree(text, name)
    if toml_tree is not None:
        from . import cri_toml
    if toml_tree and _is_registries_conf(toml_tree):
        return "registries-conf"
    if toml_tree and ("version" in toml_tree or "plugins" in toml_tree):
        return cri_toml.detect(toml_tree, name)
    extension = os.path.splitext(name)[1].lower()
    if toml_tree is None and extension != ".toml":
        return "registries-yaml"  # not TOML: the YAML reader reports what is wrong with it, if anything
    yaml_root = _yaml_mapping(text)
    if toml_tree is not None and yaml_root:
        raise InputError("the file is valid TOML and valid YAML; cannot tell which format it is",
                         file=name, fix="pass --from")
    if toml_tree is not None and not yaml_root:
        if not toml_tree and extension in (".yaml", ".yml"):
            return "registries-yaml"
        if toml_tree or extension == ".toml":
            return cri_toml.detect(toml_tree, name)
        raise InputError("the file is empty; cannot tell which format it is", file=name, fix="pass --from")
    if yaml_root:
        return "registries-yaml"
    if extension == ".toml":
        from . import cri_toml

        cri_toml.parse_toml(text, name)  # raises the TOML error with its line
    if extension in (".yaml", ".yml"):
        from . import registries_yaml

        registries_yaml.read(text, name)  # raises the YAML error with its line
    raise InputError("neither a registries.yaml (YAML) nor a containerd config.toml (TOML)", file=name,
                     fix="pass --from to see the parser's error")


def cannot_be_toml(text: str) -> bool:
    """Whether TOML certainly refuses TEXT, seen from its first line that is not blank or a comment:
    a TOML document's first statement is a table header (`[`) or a key/value pair, whose `=` is on
    the key's line (TOML 1.0, "Keys"). A registries.yaml starts `mirrors:`, so detecting it needs
    no TOML parser (tomllib is 2-3 ms of start-up)."""
    for line in text.split("\n", 64):
        stripped = line.strip(" \t\r")
        if stripped and not stripped.startswith("#"):
            return not stripped.startswith("[") and "=" not in stripped
    return False  # blank, comments only, or a long first statement: let the parser say


def _toml_tree(text: str, name: str) -> dict | None:
    """TEXT parsed as TOML, or None if it is not TOML; the tree is handed to the reader that follows."""
    from ..compat import tomllib
    from .toml_out import check_depth, hand_over

    try:
        tree = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    except RecursionError:
        check_depth(text, name)  # names the line
        raise InputError("nests too deeply", file=name) from None
    check_depth(text, name, tree)  # TOML that parses may still nest too deeply for what reads it next
    hand_over(text, tree)  # the reader gets this tree instead of parsing the file again
    return tree


def _yaml_mapping(text: str) -> bool:
    import yaml

    from .yaml_in import compose

    try:
        node = compose(text, "-")
    except InputError:
        return False
    return isinstance(node, yaml.MappingNode)


def detect(path: str, text: str | None = None) -> str:
    if files.is_dir(path):
        return "registries-conf" if _is_drop_in_dir(path) else "certs-d"
    return detect_text(text if text is not None else files.read_text(path), path)


def read_text(text: str, fmt: str, name: str, options: ReadOptions = DEFAULT_OPTIONS) -> Config:
    """The model of TEXT in a single-file format FMT."""
    if fmt == "registries-yaml":
        from . import registries_yaml

        config = registries_yaml.read(text, name, no_default_endpoint=options.no_default_endpoint)
        return config.with_(release=options.target.release)
    if fmt in CRI_FORMATS:
        from . import cri_toml

        def load_tree(config_path: str) -> Config:
            return _load_config_path(config_path, options.target, options.registry)

        return cri_toml.read(text, name, fmt=fmt, flavor=options.flavor, load_tree=load_tree, target=options.target)
    if fmt == "crictl-info":
        from . import crictl_info

        return crictl_info.read(text, name, certs_dir=options.certs_dir,
                                load_tree=lambda path: _load_config_path(path, options.target, options.registry),
                                target=options.target)
    if fmt == "docker-daemon":
        from . import docker_daemon

        return docker_daemon.read(text, name, certs_dir=options.docker_certs_dir)
    if fmt == "registries-conf":
        from . import registries_conf

        return registries_conf.read_path(name, text, keep_rewrites=options.keep_rewrites)
    raise InputError(f"{fmt} is a directory format", file=name, fix="pass a certs.d directory")


def _load_config_path(config_path: str, target: Target = DEFAULT_TARGET, registry: str | None = None) -> Config:
    """The hosts of the certs.d tree(s) a config.toml's `config_path` names: the first root that
    has a directory for a registry wins, `_default` included (SEMANTICS.md §2.1)."""
    from . import certs_d

    hosts: dict = {}
    notes: list = []
    problems: list = []
    for root in config_path.split(":"):
        if not root or not os.path.isdir(root):
            continue
        tree = certs_d.read(files.read_tree(root, registry), root, target=target)
        if "*" in hosts:
            break
        for name, host in tree.hosts.items():
            hosts.setdefault(name, host)
        notes.extend(tree.notes)
        problems.extend(tree.problems)
    return Config(hosts=hosts, notes=tuple(notes), problems=tuple(problems), source_format="certs-d",
                  release=target.release)


def _is_drop_in_dir(path: str) -> bool:
    return os.path.basename(os.path.normpath(path)) == "registries.conf.d"


def read(path: str, fmt: str | None = None, options: ReadOptions = DEFAULT_OPTIONS) -> Config:
    """The model of the configuration at PATH (a file, a certs.d directory, a registries.conf.d
    directory, or `-`)."""
    check_format(fmt)
    if fmt is None and files.is_dir(path) and _is_drop_in_dir(path):
        fmt = "registries-conf"
    if files.is_dir(path) and fmt != "registries-conf":
        from . import certs_d

        if fmt not in (None, "certs-d"):
            raise InputError(f"is a directory, so it cannot be {fmt}", file=path, fix="pass --from certs-d")
        config = certs_d.read(files.read_tree(path, options.registry), path, flavor=options.flavor,
                              target=options.target)
        config = config.with_(release=options.target.release, semantics="hosts")
        if options.cri_config:
            files.require_file(options.cri_config)  # a directory here is a mistake, not a tree
            beside = read(options.cri_config, None, ReadOptions(target=options.target))
            config = config.with_(auth=beside.auth, headers=beside.headers,
                                  problems=config.problems + beside.problems)
        return config
    if fmt in (None, "certs-d") and os.path.basename(path) == "hosts.toml":
        from . import certs_d

        label, listing = files.read_host_file(path)
        config = certs_d.read(listing, label, flavor=options.flavor, target=options.target)
        return config.with_(release=options.target.release, semantics="hosts")
    if fmt == "registries-conf" and files.is_dir(path):
        from . import registries_conf

        return registries_conf.read_path(path, keep_rewrites=options.keep_rewrites)
    if fmt == "certs-d":
        if not files.exists(path):
            raise InputError("no such directory", file=path)
        raise InputError("is not a directory", file=path, fix="pass the certs.d directory or one hosts.toml")
    text = files.read_text(path)
    return read_text(text, fmt or detect(path, text), path, options)


def render(config: Config, fmt: str, *, keep_rewrites: bool = False, no_default_endpoint: bool = False,
           target: Target = DEFAULT_TARGET, existing: str | None = None,
           with_certificates: bool = False) -> Rendered:
    """CONFIG written out as FMT (certs-d files without the containerd config that goes beside them;
    docker-daemon's certificate directory only WITH_CERTIFICATES; EXISTING: a daemon.json to keep)."""
    if fmt == "registries-yaml":
        from . import registries_yaml_writer

        return Rendered(fmt, text=registries_yaml_writer.write(config, no_default_endpoint))
    if fmt in CRI_FORMATS:
        from . import cri_toml_writer

        return Rendered(fmt, text=cri_toml_writer.write(config, fmt, keep_rewrites=keep_rewrites))
    if fmt == "certs-d":
        from . import certs_d_writer

        flavor = "k3s" if keep_rewrites else "vanilla"
        drop = config.source_format in CRI_FORMATS
        return Rendered(fmt, files=certs_d_writer.render(config, flavor=flavor, drop_http_tls=drop, target=target))
    if fmt == "docker-daemon":
        from . import docker_daemon_writer

        tree = docker_daemon_writer.certificate_files(config) if with_certificates else {}
        return Rendered(fmt, text=docker_daemon_writer.write(config, existing), files=tree)
    if fmt == "registries-conf":
        from . import registries_conf_writer

        return Rendered(fmt, text=registries_conf_writer.write(config))
    check_target(fmt)
    raise InputError(f"unknown format {fmt!r}", fix="use one of " + ", ".join(FORMATS))


def read_back(rendered: Rendered, options: ReadOptions, cri_text: str | None = None) -> Config:
    """The model of something this tool rendered, read without touching the disk."""
    if rendered.fmt == "certs-d":
        from . import certs_d
        from .toml_out import forget_handed_over

        listing = files.listing_from_files({k: v for k, (v, _m) in rendered.files.items()})
        try:
            config = certs_d.read(listing, "(output)", flavor=options.flavor, target=options.target)
        finally:
            forget_handed_over()
        config = config.with_(release=options.target.release, semantics="hosts")
        if cri_text is not None:
            from . import cri_toml

            beside = cri_toml.read(cri_text, "(cri config)", target=options.target)
            config = config.with_(auth=beside.auth, headers=beside.headers)
        return config
    if rendered.fmt == "docker-daemon":
        from . import docker_daemon

        listing = files.listing_from_files({k: v for k, (v, _m) in rendered.files.items()})
        return docker_daemon.read(rendered.text, "(output)", certs=listing)
    if rendered.fmt == "registries-conf":
        from . import registries_conf

        return registries_conf.read(rendered.text, "(output)")
    return read_text(rendered.text, rendered.fmt, "(output)", options)
