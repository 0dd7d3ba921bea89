"""Convert: read, write, read the output back, compare — the loss is measured, not tracked.

`convert` computes everything without touching the disk except to read its input; the CLI
then writes (or, under `--strict` with a loss, refuses to) through `translator.files`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import compare, files, formats, losses, secrets
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


@dataclass
class Conversion:
    source: Config
    rendered: Rendered
    target: str
    cri_config_text: str | None = None
    changes: list[Change] = field(default_factory=list)
    #: the containerd config as it was read (or absent), so that a change meanwhile is not overwritten
    cri_fingerprint: files.Fingerprint = files.ABSENT

    @property
    def lossless(self) -> bool:
        return not self.changes


def config_path_for(options: ConvertOptions) -> str:
    if options.config_path:
        return options.config_path
    if options.output:
        return os.path.abspath(options.output)
    return DEFAULT_CERTS_DIR


def convert_model(model: Config, options: ConvertOptions, cri_existing: str | None = None) -> Conversion:
    """Render MODEL as the target format, read it back, and measure what changed."""
    formats.check_format(options.to)
    rendered = formats.render(model, options.to, keep_rewrites=options.keep_rewrites,
                              no_default_endpoint=options.no_default_endpoint)
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
    """Convert the configuration at SOURCE as OPTIONS say."""
    formats.check_format(options.to)
    source_format = options.source_format
    if source_format is None:
        source_format = formats.detect(source)
    beside = options.cri_config if (source_format == "certs-d" and options.to != "certs-d") else None
    model = formats.read(source, source_format,
                         ReadOptions(no_default_endpoint=options.no_default_endpoint, cri_config=beside))
    existing = None
    fingerprint = files.ABSENT
    if options.to == "certs-d" and options.cri_config and files.exists(options.cri_config):
        if files.is_dir(options.cri_config):
            raise InputError("is a directory", file=options.cri_config, fix="pass the containerd config.toml")
        existing, fingerprint = files.read_text_fingerprinted(options.cri_config)
    conversion = convert_model(model, options, existing)
    conversion.cri_fingerprint = fingerprint
    return conversion


@dataclass
class Written:
    paths: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)
    #: `.bak` files that were there already and were kept as they were (they hold the original)
    kept_backups: list[str] = field(default_factory=list)


def write(conversion: Conversion, options: ConvertOptions, force: bool = False) -> Written:
    """Write a conversion's output — the tree or file, and the containerd config beside a tree —
    as one: both are locked and staged before either is replaced (translator.files_write)."""
    written = Written()
    rendered = conversion.rendered
    with files.write_batch() as batch:
        outputs = []
        if rendered.fmt == "certs-d":
            if options.output:
                tree = batch.tree(options.output, rendered.files, force=force)
                written.paths.extend(tree.written)
                written.removed.extend(tree.removed)
        elif options.output:
            outputs.append(batch.file(options.output, rendered.text.encode("utf-8"),
                                      secret=secrets.holds_credentials(conversion.source), backup=True))
        if conversion.cri_config_text is not None and options.cri_config:
            outputs.append(batch.file(options.cri_config, conversion.cri_config_text.encode("utf-8"), secret=True,
                                      edit=True, backup=True, expect=conversion.cri_fingerprint))
        batch.commit()
    for output in outputs:
        written.paths.append(output.path)
        if output.backup and output.backup_existed:
            written.kept_backups.append(output.backup)
        elif output.backup:
            written.backups.append(output.backup)
    return written


def output_text(conversion: Conversion) -> str:
    """What `convert` prints on standard output when there is no -o."""
    from .formats import certs_d_writer

    if conversion.rendered.fmt == "certs-d":
        return certs_d_writer.listing_text(conversion.rendered.files)
    return conversion.rendered.text
