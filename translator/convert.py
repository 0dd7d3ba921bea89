"""Convert: read, write, read the output back, compare — the loss is measured, not tracked.

`convert` computes everything without touching the disk except to read its input; the CLI
then writes (or, under `--strict` with a loss, refuses to) through `translator.files`.
"""

from __future__ import annotations

import os

from . import compare, files, formats, losses, secrets
from .errors import InputError
from .formats import ReadOptions, Rendered
from .model import Change, Config
from .record import field, record
from .releases import DEFAULT_TARGET, Target

DEFAULT_CERTS_DIR = "/etc/containerd/certs.d"


@record
class ConvertOptions:
    to: str
    source_format: str | None = None
    output: str | None = None
    no_default_endpoint: bool = False
    keep_rewrites: bool = False
    config_path: str | None = None
    cri_config: str | None = None
    #: the containerd release the output is for (`--containerd`)
    target: Target = DEFAULT_TARGET
    #: crictl-info source: where its configPath tree is on this machine
    certs_dir: str | None = None
    #: docker-daemon: the certificate directory read with a source and written with a target
    docker_certs_dir: str | None = None


@record(mutable=True)
class Conversion:
    source: Config
    rendered: Rendered
    target: str
    cri_config_text: str | None = None
    changes: list[Change] = field(default_factory=list)
    #: the containerd config as it was read (or absent), so that a change meanwhile is not overwritten
    cri_fingerprint: files.Fingerprint = files.ABSENT
    #: RENDERED read back (the model the losses were measured against), which the disk must match
    back: Config | None = None

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
    if options.to == "cri-v3" and not options.target.release.reads_v3_config():
        behaviour = options.target.release.v3_config_behaviour()
        raise InputError(f"containerd {options.target.release} {'refuses' if behaviour == 'refused' else 'never uses'} "
                         "a version 3 config", fix="convert --to cri-v2, which every 1.x and 2.x release reads")
    rendered = formats.render(model, options.to, keep_rewrites=options.keep_rewrites,
                              no_default_endpoint=options.no_default_endpoint, target=options.target,
                              existing=cri_existing, with_certificates=options.docker_certs_dir is not None)
    cri_text = None
    if options.to == "certs-d" and options.cri_config:
        from . import cri_config

        cri_text = cri_config.for_tree(cri_existing, options.cri_config, config_path_for(options),
                                       model.auth, model.headers)
    flavor = "k3s" if options.keep_rewrites else "vanilla"
    back = formats.read_back(rendered, ReadOptions(no_default_endpoint=options.no_default_endpoint,
                                                   flavor=flavor, target=options.target), cri_text)
    found = compare.differences(model, back)
    changes = losses.losses(model, back, found, model.source_format, options.to)
    return Conversion(model, rendered, options.to, cri_text, changes, back=back)


def convert(source: str, options: ConvertOptions) -> Conversion:
    """Convert the configuration at SOURCE as OPTIONS say (SOURCE `-` is read once)."""
    formats.check_target(options.to)
    if options.cri_config == "-":
        raise InputError("--cri-config cannot be standard input: it is a file to read or write",
                         fix="give the containerd config.toml's path")
    beside = options.cri_config if options.to != "certs-d" else None
    model = formats.read(source, options.source_format,
                         ReadOptions(no_default_endpoint=options.no_default_endpoint, cri_config=beside,
                                     target=options.target, certs_dir=options.certs_dir,
                                     docker_certs_dir=options.docker_certs_dir, keep_rewrites=options.keep_rewrites))
    if options.to == "docker-daemon":
        existing = files.read_text(options.output) if options.output and files.exists(options.output) else None
        return convert_model(model, options, existing)
    existing = None
    fingerprint = files.ABSENT
    if options.to == "certs-d" and options.cri_config and files.exists(options.cri_config):
        if files.is_dir(options.cri_config):
            raise InputError("is a directory", file=options.cri_config, fix="pass the containerd config.toml")
        existing, fingerprint = files.read_text_fingerprinted(options.cri_config)
    if options.output and options.to != "certs-d" and files.is_dir(options.output):
        raise InputError(f"is a directory, but --to {options.to} writes one file", file=options.output,
                         fix="give a file name, e.g. -o " + os.path.join(options.output, _default_name(options.to)))
    conversion = convert_model(model, options, existing)
    conversion.cri_fingerprint = fingerprint
    return conversion


def _default_name(fmt: str) -> str:
    return "registries.yaml" if fmt == "registries-yaml" else "config.toml"


@record(mutable=True)
class Written:
    paths: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)
    #: `.bak` files that were there already and were kept as they were (they hold the original)
    kept_backups: list[str] = field(default_factory=list)
    #: things the user should know about what was written (a file made 0600, ...)
    notices: list[str] = field(default_factory=list)


def _tightened(conversion: Conversion, path: str) -> bool:
    """True when the existing containerd config beside a tree receives credentials while others can
    read it: it is made owner-only (0600 at most), and the user is told."""
    has_secret = any(a.password or a.auth or a.identitytoken for a in conversion.source.auth.values())
    current = files.file_mode(path)
    return bool(has_secret and current is not None and current & 0o077)


def write(conversion: Conversion, options: ConvertOptions, force: bool = False) -> Written:
    """Write a conversion's output — the tree or file, and the containerd config beside a tree —
    as one: both are locked and staged before either is replaced (translator.files_write)."""
    written = Written()
    rendered = conversion.rendered
    docker_certificates = rendered.fmt == "docker-daemon" and rendered.files and options.docker_certs_dir
    cri_beside = conversion.cri_config_text is not None and options.cri_config
    if not (options.output or docker_certificates or cri_beside):
        return written  # standard output only: no lock, nothing staged (and the writer is not loaded)
    with files.write_batch() as batch:
        outputs = []
        if rendered.fmt == "certs-d":
            if options.output:
                tree = batch.tree(options.output, rendered.files, force=force)
                written.paths.extend(tree.written)
                written.removed.extend(tree.removed)
        elif docker_certificates:
            tree = batch.tree(options.docker_certs_dir, rendered.files, force=force)
            written.paths.extend(tree.written)
            written.removed.extend(tree.removed)
        if rendered.fmt != "certs-d" and options.output:
            outputs.append(batch.file(options.output, rendered.text.encode("utf-8"),
                                      secret=secrets.holds_credentials(conversion.source), backup=True))
        if cri_beside:
            tighten = _tightened(conversion, options.cri_config)
            outputs.append(batch.file(options.cri_config, conversion.cri_config_text.encode("utf-8"), secret=True,
                                      edit=not tighten, backup=True, expect=conversion.cri_fingerprint))
            if tighten:
                written.notices.append(f"{options.cri_config} now holds credentials: made it 0600 (owner only)")
        batch.commit()
    for output in outputs:
        written.paths.append(output.path)
        if output.backup and output.backup_existed:
            written.kept_backups.append(output.backup)
        elif output.backup:
            written.backups.append(output.backup)
    return written


@record(mutable=True)
class Plan:
    """What `convert` would write, before anything is written (`--dry-run`, like `terraform plan`)."""

    tree: files.TreePlan | None = None
    single: tuple[str, str] | None = None          # (path, "create" | "replace" | "unchanged")
    cri: tuple[str, str, str] | None = None        # (path, old text, new text)
    #: the containerd config now holds credentials and others can read it: written 0600
    cri_tightened: bool = False

    @property
    def changes_anything(self) -> bool:
        """Whether writing would change any file's content or mode (a tree left alone is not rewritten)."""
        tree = self.tree
        if tree is not None and (tree.create or tree.replace or tree.prune or tree.modes or tree.refused):
            return True
        if self.single is not None and self.single[1] != "unchanged":
            return True
        return self.cri is not None and (self.cri[1] != self.cri[2] or self.cri_tightened)


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
            tightened = secrets.holds_credentials(conversion.source) and (files.file_mode(options.output) or 0) & 0o077
            result.single = (options.output, "unchanged" if same and not tightened else "replace")
    if conversion.cri_config_text is not None and options.cri_config:
        old = files.read_text(options.cri_config) if files.exists(options.cri_config) else ""
        result.cri = (options.cri_config, old, conversion.cri_config_text)
        result.cri_tightened = _tightened(conversion, options.cri_config)
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
        lines.extend(f"  ~ mode    {rel} (owner only: it holds credentials)" for rel in tree.modes)
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
        if p.cri_tightened:
            out += f"{path}: made 0600 (owner only): it holds credentials\n"
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
                               cri_config=options.cri_config if conversion.rendered.fmt == "certs-d" else None,
                               target=options.target)
    if conversion.rendered.fmt == "certs-d" and not options.output:
        return f"wrote {options.cri_config}"
    if not os.path.isdir(target) and not os.path.isfile(target):
        return f"wrote {target}"  # a device such as /dev/stdout: written in place, nothing to read back
    if _written_as_rendered(target, conversion, options):
        return _verified_line(target, conversion)
    if conversion.rendered.fmt == "docker-daemon":
        on_disk = _docker_on_disk(conversion, options)
    else:
        on_disk = formats.read(target, conversion.rendered.fmt if conversion.rendered.fmt != "certs-d" else "certs-d",
                               read_options)
    expected = conversion.back
    if expected is None:
        expected = formats.read_back(conversion.rendered, read_options, conversion.cri_config_text)
    if conversion.rendered.fmt == "certs-d":  # hand-written directories kept in the tree are not ours to check
        from .endpoints import name_for_directory

        ours = {name_for_directory(rel.split("/", 1)[0])[0] for rel in conversion.rendered.files}
        on_disk = on_disk.with_(hosts={k: v for k, v in on_disk.hosts.items() if k in ours})
        expected = expected.with_(hosts={k: v for k, v in expected.hosts.items() if k in ours})
    if compare.differences(expected, on_disk):
        raise InputError("what was written does not read back as the conversion computed; compare it with "
                         "`registries-translator diff`", file=target)
    return _verified_line(target, conversion)


def _verified_line(target: str, conversion: Conversion) -> str:
    if conversion.changes:
        return (f"verified: {target} read back from disk holds the conversion above "
                f"({len(conversion.changes)} reported change(s))")
    return f"verified: {target} read back from disk means the same as the source for pulls"


def _written_as_rendered(target: str, conversion: Conversion, options: ConvertOptions) -> bool:
    """Whether the disk holds exactly the bytes this conversion rendered and read back (see
    `_tree_as_rendered`); a daemon.json with its certificate directory, or a tree beside a
    containerd config, is always read and compared in full."""
    if conversion.back is None or conversion.rendered.fmt == "docker-daemon":
        return False
    if conversion.rendered.fmt == "certs-d":
        return not options.cri_config and _tree_as_rendered(target, conversion)
    return files.holds(target, conversion.rendered.text.encode("utf-8"))


def _tree_as_rendered(target: str, conversion: Conversion) -> bool:
    """Whether every host directory this conversion wrote holds, read back from the disk, exactly
    the bytes it rendered and nothing else. Those bytes were already read as the runtime reads
    them (the losses were measured on them), so the same bytes at the same place mean the same;
    anything else is read and compared in full."""
    listing = files.read_tree(target, limited=False)  # the tool's own output: never refused for its size
    for rel, (text, _mode) in conversion.rendered.files.items():
        directory, _, name = rel.partition("/")
        entry = listing.entries.get(directory)
        if name != "hosts.toml" or entry is None or entry.kind != "dir" or entry.names:
            return False
        if entry.hosts_toml != text.encode("utf-8"):
            return False
    return True


def output_text(conversion: Conversion) -> str:
    """What `convert` prints on standard output when there is no -o."""
    from .formats import certs_d_writer

    if conversion.rendered.fmt == "certs-d":
        return certs_d_writer.listing_text(conversion.rendered.files)
    return conversion.rendered.text
