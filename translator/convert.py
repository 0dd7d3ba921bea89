"""Convert: read, write, read the output back, compare — the loss is measured, not tracked.

`convert` computes everything without touching the disk except to read its input; the CLI
then writes (or, under `--strict` with a loss, refuses to) through `translator.files`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import compare, files, formats, losses
from .errors import InputError
from .formats import ReadOptions, Rendered
from .model import Change, Config

DEFAULT_CERTS_DIR = "/etc/containerd/certs.d"


@dataclass(frozen=True)
class ConvertOptions:
    to: str
    source_format: str | None = None
    output: str | None = None
    no_default_endpoint: bool = False
    keep_rewrites: bool = False
    config_path: str | None = None
    cri_config: str | None = None
    #: crictl-info source: where its configPath tree is on this machine
    certs_dir: str | None = None
    #: docker-daemon: the certificate directory read with a source and written with a target
    docker_certs_dir: str | None = None


@dataclass
class Conversion:
    source: Config
    rendered: Rendered
    target: str
    cri_config_text: str | None = None
    changes: list[Change] = field(default_factory=list)

    @property
    def lossless(self) -> bool:
        return not self.changes


def config_path_for(options: ConvertOptions) -> str:
    """The `config_path` for the containerd config beside a tree: always one absolute directory
    (containerd resolves a relative one against its own working directory)."""
    if options.config_path:
        if not os.path.isabs(options.config_path):
            raise InputError(f"--config-path {options.config_path!r} is relative; containerd would resolve it "
                             "against its own working directory", fix="give the absolute directory on the node")
        return options.config_path
    if options.output:
        return os.path.abspath(options.output)
    return DEFAULT_CERTS_DIR


def convert_model(model: Config, options: ConvertOptions, cri_existing: str | None = None) -> Conversion:
    """Render MODEL as the target format, read it back, and measure what changed."""
    formats.check_target(options.to)
    rendered = formats.render(model, options.to, keep_rewrites=options.keep_rewrites,
                              no_default_endpoint=options.no_default_endpoint, existing=cri_existing,
                              with_certificates=options.docker_certs_dir is not None)
    cri_text = None
    if options.to == "certs-d" and options.cri_config:
        from . import cri_config

        cri_text = cri_config.for_tree(cri_existing, options.cri_config, config_path_for(options),
                                       model.auth, model.headers)
    flavor = "k3s" if options.keep_rewrites else "vanilla"
    back = formats.read_back(rendered, ReadOptions(no_default_endpoint=options.no_default_endpoint,
                                                   flavor=flavor), cri_text)
    found = compare.differences(model, back)
    changes = losses.losses(model, back, found, model.source_format, options.to)
    return Conversion(model, rendered, options.to, cri_text, changes)


def convert(source: str, options: ConvertOptions) -> Conversion:
    """Convert the configuration at SOURCE as OPTIONS say (SOURCE `-` is read once)."""
    formats.check_target(options.to)
    if options.cri_config == "-":
        raise InputError("--cri-config cannot be standard input: it is a file to read or write",
                         fix="give the containerd config.toml's path")
    beside = options.cri_config if options.to != "certs-d" else None
    model = formats.read(source, options.source_format,
                         ReadOptions(no_default_endpoint=options.no_default_endpoint, cri_config=beside,
                                     certs_dir=options.certs_dir, docker_certs_dir=options.docker_certs_dir,
                                     keep_rewrites=options.keep_rewrites))
    if options.to == "docker-daemon":
        existing = files.read_text(options.output) if options.output and files.exists(options.output) else None
        return convert_model(model, options, existing)
    existing = None
    if options.to == "certs-d" and options.cri_config and files.exists(options.cri_config):
        if files.is_dir(options.cri_config):
            raise InputError("is a directory", file=options.cri_config, fix="pass the containerd config.toml")
        existing = files.read_text(options.cri_config)
    if options.output and options.to != "certs-d" and files.is_dir(options.output):
        raise InputError(f"is a directory, but --to {options.to} writes one file", file=options.output,
                         fix="give a file name, e.g. -o " + os.path.join(options.output, _default_name(options.to)))
    return convert_model(model, options, existing)


def _default_name(fmt: str) -> str:
    return "registries.yaml" if fmt == "registries-yaml" else "config.toml"


@dataclass
class Written:
    paths: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)
    #: things the user should know about what was written (a file made 0600, ...)
    notices: list[str] = field(default_factory=list)


def holds_credentials(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in ("password", "identitytoken", "identity_token", "auth"))


def _cri_mode(conversion: Conversion, path: str) -> tuple[int, bool]:
    """The mode for the containerd config beside a tree, and whether an existing file's mode is
    tightened: a file that receives credentials is made 0600 whatever it was."""
    has_secret = any(a.password or a.auth or a.identitytoken for a in conversion.source.auth.values())
    current = files.file_mode(path)
    if has_secret and current is not None and current & 0o077:
        return 0o600, True
    return (current if current is not None else 0o600), False


def write(conversion: Conversion, options: ConvertOptions, force: bool = False) -> Written:
    """Write a conversion's output: the tree or file, and the containerd config beside a tree."""
    written = Written()
    rendered = conversion.rendered
    if rendered.fmt == "certs-d":
        if options.output:
            result = files.write_tree(options.output, rendered.files, force=force)
            written.paths.extend(result.written)
            written.removed.extend(result.removed)
    elif rendered.fmt == "docker-daemon" and rendered.files and options.docker_certs_dir:
        result = files.write_tree(options.docker_certs_dir, rendered.files, force=force)
        written.paths.extend(result.written)
        written.removed.extend(result.removed)
    if rendered.fmt != "certs-d" and options.output:
        mode = 0o600 if conversion.source.auth else 0o644
        backup = files.atomic_write(options.output, rendered.text.encode("utf-8"), mode,
                                    backup=files.exists(options.output))
        written.paths.append(options.output)
        if backup:
            written.backups.append(backup)
    if conversion.cri_config_text is not None and options.cri_config:
        mode, tightened = _cri_mode(conversion, options.cri_config)
        backup = files.atomic_write(options.cri_config, conversion.cri_config_text.encode("utf-8"), mode,
                                    backup=files.exists(options.cri_config), force_mode=tightened)
        written.paths.append(options.cri_config)
        if tightened:
            written.notices.append(f"{options.cri_config} now holds credentials: made it 0600 (owner only)")
        if backup:
            written.backups.append(backup)
    return written


@dataclass
class Plan:
    """What `convert` would write, before anything is written (`--dry-run`, like `terraform plan`)."""

    tree: files.TreePlan | None = None
    single: tuple[str, str] | None = None          # (path, "create" | "replace" | "unchanged")
    cri: tuple[str, str, str] | None = None        # (path, old text, new text)


def plan(conversion: Conversion, options: ConvertOptions, force: bool = False) -> Plan:
    result = Plan()
    rendered = conversion.rendered
    if rendered.fmt == "certs-d" and options.output:
        result.tree = files.plan_tree(options.output, rendered.files, force=force)
    elif rendered.fmt == "docker-daemon" and rendered.files and options.docker_certs_dir:
        result.tree = files.plan_tree(options.docker_certs_dir, rendered.files, force=force)
    if rendered.fmt != "certs-d" and options.output:
        if not files.exists(options.output):
            result.single = (options.output, "create")
        else:
            same = files.read_text(options.output) == rendered.text
            result.single = (options.output, "unchanged" if same else "replace")
    if conversion.cri_config_text is not None and options.cri_config:
        old = files.read_text(options.cri_config) if files.exists(options.cri_config) else ""
        result.cri = (options.cri_config, old, conversion.cri_config_text)
    return result


def plan_text(p: Plan) -> str:
    """The plan in words, then the change to the containerd config as a unified diff (secrets masked)."""
    import difflib

    from .migrate import mask_diff

    lines: list[str] = []
    if p.tree is not None:
        tree = p.tree
        where = tree.root + ("" if tree.exists else " (new directory)")
        lines.append(f"certs.d tree {where}:")
        lines.extend(f"  + create  {rel}" for rel in tree.create)
        lines.extend(f"  ~ replace {rel}" for rel in tree.replace)
        lines.extend(f"    keep    {rel} (unchanged)" for rel in tree.unchanged)
        lines.extend(f"  - remove  {path} (generated, no longer part of the tree)" for path in tree.prune)
        lines.extend(f"  ! refuse  {rel}: {why}" for rel, why in tree.refused)
        if tree.refused:
            lines.append("  the write would be refused as a whole: nothing would be changed")
        counts = (len(tree.create), len(tree.replace), len(tree.prune))
        lines.append(f"plan: {counts[0]} to create, {counts[1]} to replace, {counts[2]} to remove"
                     + (f", {len(tree.refused)} refused" if tree.refused else ""))
    if p.single is not None:
        path, action = p.single
        lines.append(f"{action} {path}")
    out = "\n".join(lines) + ("\n" if lines else "")
    if p.cri is not None:
        path, old, new = p.cri
        if old == new:
            out += f"{path}: unchanged\n"
        else:
            diff = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=path if old else "/dev/null", tofile=path)
            out += mask_diff("".join(line if line.endswith("\n") else line + "\n" for line in diff))
    return out + "nothing was written (--dry-run)\n"


def _docker_on_disk(conversion: Conversion, options: ConvertOptions) -> Config:
    """daemon.json as written, with the certificate files this conversion wrote (and no others:
    what else the directory holds is the node's, not the conversion's)."""
    from .formats import docker_daemon

    written = {}
    if options.docker_certs_dir:
        written = {rel: files.read_text(os.path.join(options.docker_certs_dir, rel))
                   for rel in conversion.rendered.files}
    text = files.read_text(options.output) if options.output else conversion.rendered.text
    return docker_daemon.read(text, options.output or "-", certs=files.listing_from_files(written))


def verify_written(conversion: Conversion, options: ConvertOptions) -> str:
    """Read what was written back from the disk, compare it with what the conversion computed,
    and say so in one line."""
    target = options.output or options.cri_config or ""
    read_options = ReadOptions(no_default_endpoint=options.no_default_endpoint,
                               flavor="k3s" if options.keep_rewrites else "vanilla",
                               cri_config=options.cri_config if conversion.rendered.fmt == "certs-d" else None)
    if conversion.rendered.fmt == "certs-d" and not options.output:
        return f"wrote {options.cri_config}"
    if conversion.rendered.fmt == "docker-daemon":
        on_disk = _docker_on_disk(conversion, options)
    else:
        on_disk = formats.read(target, conversion.rendered.fmt if conversion.rendered.fmt != "certs-d" else "certs-d",
                               read_options)
    expected = formats.read_back(conversion.rendered, read_options, conversion.cri_config_text)
    if compare.differences(expected, on_disk):
        raise InputError("what was written does not read back as the conversion computed; compare it with "
                         "`registries-translator diff`", file=target)
    if conversion.changes:
        return (f"verified: {target} read back from disk holds the conversion above "
                f"({len(conversion.changes)} reported change(s))")
    return f"verified: {target} read back from disk means the same as the source for pulls"


def output_text(conversion: Conversion) -> str:
    """What `convert` prints on standard output when there is no -o."""
    from .formats import certs_d_writer

    if conversion.rendered.fmt == "certs-d":
        return certs_d_writer.listing_text(conversion.rendered.files)
    return conversion.rendered.text
