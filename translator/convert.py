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
    if options.config_path:
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
    """Convert the configuration at SOURCE as OPTIONS say."""
    formats.check_target(options.to)
    source_format = options.source_format
    text = None
    if source_format is None:
        text = None if files.is_dir(source) else files.read_text(source)
        source_format = formats.detect(source, text)
    beside = options.cri_config if (source_format == "certs-d" and options.to != "certs-d") else None
    read_options = ReadOptions(no_default_endpoint=options.no_default_endpoint, cri_config=beside,
                               certs_dir=options.certs_dir, docker_certs_dir=options.docker_certs_dir,
                               keep_rewrites=options.keep_rewrites)
    if text is not None and os.path.basename(source) != "hosts.toml":
        model = formats.read_text(text, source_format, source, read_options)
    else:
        model = formats.read(source, source_format, read_options)
    if options.to == "docker-daemon":
        existing = files.read_text(options.output) if options.output and files.exists(options.output) else None
        return convert_model(model, options, existing)
    existing = None
    if options.to == "certs-d" and options.cri_config and files.exists(options.cri_config):
        if files.is_dir(options.cri_config):
            raise InputError("is a directory", file=options.cri_config, fix="pass the containerd config.toml")
        existing = files.read_text(options.cri_config)
    return convert_model(model, options, existing)


@dataclass
class Written:
    paths: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)


def holds_credentials(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in ("password", "identitytoken", "identity_token", "auth"))


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
        backup = files.atomic_write(options.cri_config, conversion.cri_config_text.encode("utf-8"), 0o600,
                                    backup=files.exists(options.cri_config))
        written.paths.append(options.cri_config)
        if backup:
            written.backups.append(backup)
    return written


def output_text(conversion: Conversion) -> str:
    """What `convert` prints on standard output when there is no -o."""
    from .formats import certs_d_writer

    if conversion.rendered.fmt == "certs-d":
        return certs_d_writer.listing_text(conversion.rendered.files)
    return conversion.rendered.text
