"""The command line: each command parses its options, calls the library, renders the result.

Exit codes (SPEC.md): 0 success; 1 `diff` found a difference or `check` found an error (or a
warning with --strict); 2 bad usage or invalid input; 3 a loss refused by --strict.
Heavy modules are imported inside the commands that need them.
"""

from __future__ import annotations

import functools
import gc
import sys
from collections.abc import Callable
from typing import Annotated, Optional, TypeVar

import typer

from . import secrets
from .errors import InputError, LossRefused

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    help="Translate container-registry configuration between k3s registries.yaml, containerd config.toml "
         "(versions 1, 2, 3) and certs.d hosts.toml trees, and report exactly what a translation keeps, "
         "changes or loses.",
)

F = TypeVar("F", bound=Callable[..., object])
FORMAT_HELP = ("registries-yaml, cri-v1, cri-v2, cri-v3, certs-d, crictl-info, docker-daemon or registries-conf "
               "(detected when omitted)")
CertsDir = Annotated[Optional[str], typer.Option("--certs-dir", help="crictl-info: where the tree its configPath "
                                                 "names is on this machine.")]
DockerCertsDir = Annotated[Optional[str], typer.Option("--docker-certs-dir", help="docker-daemon: Docker's "
                                                       "certificate directory (default /etc/docker/certs.d).")]


def read_options(certs_dir: str | None, docker_certs_dir: str | None) -> object:
    from .formats import ReadOptions

    return ReadOptions(certs_dir=certs_dir, docker_certs_dir=docker_certs_dir)


def err(text: str) -> None:
    sys.stderr.write(secrets.redact(text))
    sys.stderr.flush()


def guarded(command: F) -> F:
    """Turn every failure into an `error:` line and the right exit code; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            err(f"error: {exc}\n")
            raise typer.Exit(2) from None
        except LossRefused as exc:
            err(f"error: {exc}\n")
            raise typer.Exit(3) from None
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except RecursionError:
            err("error: the input nests too deeply\n")
            raise typer.Exit(2) from None
        except MemoryError:
            err("error: the input is too large to process\n")
            raise typer.Exit(2) from None
        except Exception as exc:
            err(f"error: internal error ({type(exc).__name__}: {exc}); please report it\n")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def warn_problems(problems: object) -> None:
    for problem in problems:  # type: ignore[attr-defined]
        if problem.severity != "info":
            err(problem.text() + "\n")


def choice(value: str | None, allowed: tuple[str, ...], option: str) -> None:
    if value is not None and value not in allowed:
        raise InputError(f"{option} must be one of {', '.join(allowed)}, not {value!r}")


@app.callback()
def main_options(
    max_bytes: Annotated[Optional[int], typer.Option("--max-bytes", help="Largest input file to read, in bytes "
                                                  "(default 4 MiB).")] = None,
) -> None:
    if max_bytes is not None:
        from . import files

        files.set_max_bytes(max_bytes)


@app.command()
@guarded
def convert(
    src: Annotated[str, typer.Argument(help="A file, a certs.d directory, or - for standard input.")],
    to: Annotated[str, typer.Option("--to", help="Target format: " + FORMAT_HELP.split(" (")[0])],
    from_: Annotated[Optional[str], typer.Option("--from", help="Source format: " + FORMAT_HELP)] = None,
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Output file, or directory for certs-d "
                                               "(default: standard output).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 3 and write nothing if anything would be "
                                         "lost.")] = False,
    report: Annotated[str, typer.Option("--report", help="Loss report on stderr: text, json or "
                                        "markdown.")] = "text",
    no_default_endpoint: Annotated[bool, typer.Option("--no-default-endpoint", help="k3s's "
                                                      "--disable-default-registry-endpoint.")] = False,
    keep_rewrites: Annotated[bool, typer.Option("--keep-rewrites", help="Write k3s rewrite tables (for "
                                                "k3s's own containerd).")] = False,
    config_path: Annotated[Optional[str], typer.Option("--config-path", help="config_path to set in "
                                                    "--cri-config (default: the absolute -o directory).")] = None,
    cri_config: Annotated[Optional[str], typer.Option("--cri-config", help="containerd config.toml to create or "
                                                   "update beside a certs-d output (config_path, "
                                                   "credentials); for a certs-d source, where its "
                                                   "credentials are read from.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace hosts.toml files this tool did not "
                                        "generate.")] = False,
    certs_dir: CertsDir = None,
    docker_certs_dir: DockerCertsDir = None,
) -> None:
    """Convert a registry configuration to another format and report what does not survive."""
    from . import convert as conv
    from . import report as rep

    choice(report, ("text", "json", "markdown"), "--report")
    options = conv.ConvertOptions(to=to, source_format=from_, output=output,
                                  no_default_endpoint=no_default_endpoint, keep_rewrites=keep_rewrites,
                                  config_path=config_path, cri_config=cri_config, certs_dir=certs_dir,
                                  docker_certs_dir=docker_certs_dir)
    conversion = conv.convert(src, options)
    warn_problems(conversion.source.problems)
    source = f"{src} ({conversion.source.source_format})"
    if report == "json":
        err(rep.as_json(conversion.changes))
    elif report == "markdown":
        err(rep.loss_markdown(conversion.changes, source, to))
    else:
        err(rep.loss_text(conversion.changes, source, to))
    if strict and conversion.changes:
        raise LossRefused(f"--strict: {len(conversion.changes)} change(s) would be lost; nothing was written")
    written = conv.write(conversion, options, force=force)
    if not output:
        sys.stdout.write(conv.output_text(conversion))
    for path in written.removed:
        err(f"removed stale generated file {path}\n")


@app.command()
@guarded
def show(
    src: Annotated[str, typer.Argument(help="A file, a certs.d directory, or - for standard input.")],
    from_: Annotated[Optional[str], typer.Option("--from", help="Source format: " + FORMAT_HELP)] = None,
    certs_dir: CertsDir = None,
    docker_certs_dir: DockerCertsDir = None,
) -> None:
    """Print the normalized model as YAML: what the reader understood."""
    from . import formats
    from . import show as show_module

    config = formats.read(src, from_, read_options(certs_dir, docker_certs_dir))
    warn_problems(config.problems)
    sys.stdout.write(show_module.render(config))


@app.command()
@guarded
def diff(
    a: Annotated[str, typer.Argument(help="The configuration before (file, certs.d directory or -).")],
    b: Annotated[str, typer.Argument(help="The configuration after.")],
    from_a: Annotated[Optional[str], typer.Option("--from-a", help="Format of A: " + FORMAT_HELP)] = None,
    from_b: Annotated[Optional[str], typer.Option("--from-b", help="Format of B: " + FORMAT_HELP)] = None,
    format_: Annotated[str, typer.Option("--format", help="text, json or markdown (a PR comment).")] = "text",
    certs_dir: CertsDir = None,
    docker_certs_dir: DockerCertsDir = None,
) -> None:
    """Compare what two configurations mean for pulls; exit 1 when they differ."""
    from . import diff as diff_module

    choice(format_, ("text", "json", "markdown"), "--format")
    result = diff_module.diff_paths(a, b, from_a, from_b, read_options(certs_dir, docker_certs_dir))
    warn_problems(result.a.problems + result.b.problems)
    if format_ == "json":
        sys.stdout.write(diff_module.render_json(result))
    elif format_ == "markdown":
        sys.stdout.write(diff_module.render_markdown(result, a, b))
    else:
        sys.stdout.write(diff_module.render_text(result, a, b))
    if not result.same:
        raise typer.Exit(1)


@app.command()
@guarded
def resolve(
    image: Annotated[str, typer.Argument(help="An image reference as a user types it (alpine:3, "
                                         "host:5000/a/b@sha256:...).")],
    config: Annotated[str, typer.Option("--config", help="The configuration: a file, a certs.d directory, "
                                        "or -.")],
    from_: Annotated[Optional[str], typer.Option("--from", help="Source format: " + FORMAT_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (SPEC.md's shape).")] = False,
    certs_dir: CertsDir = None,
    docker_certs_dir: DockerCertsDir = None,
) -> None:
    """Print, in order, the hosts containerd will try for IMAGE and the URL it requests from each."""
    import json

    from . import formats
    from . import resolve as resolve_module

    model = formats.read(config, from_, read_options(certs_dir, docker_certs_dir))
    warn_problems(model.problems)
    result = resolve_module.resolve(image, model)
    if as_json:
        sys.stdout.write(secrets.redact(json.dumps(result.as_dict(), indent=2, ensure_ascii=False)) + "\n")
    else:
        sys.stdout.write(resolve_module.render_text(result))


@app.command()
@guarded
def check(
    srcs: Annotated[list[str], typer.Argument(
        metavar="SRC...",
        help="Files, certs.d directories, or - for standard input; several at once for pre-commit hooks.")],
    from_: Annotated[Optional[str], typer.Option("--from", help="Source format: " + FORMAT_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: {\"problems\": [...]}.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too.")] = False,
    certs_dir: CertsDir = None,
    docker_certs_dir: DockerCertsDir = None,
) -> None:
    """Lint a configuration for the known pitfalls (exit 1 on errors, or warnings with --strict).

    With several sources every one is checked: an unreadable one prints its `error:` line and makes
    the exit code 2, the others are still reported.
    """
    from . import check as check_module
    from . import report as rep

    options = read_options(certs_dir, docker_certs_dir)
    unreadable = False
    if len(srcs) == 1:
        problems = check_module.check_path(srcs[0], from_, options)  # unreadable: `error:` and exit 2 (guarded)
    else:
        problems = []
        for src in srcs:
            try:
                problems.extend(check_module.check_path(src, from_, options))
            except InputError as exc:
                err(f"error: {exc}\n")
                unreadable = True
    if as_json:
        sys.stdout.write(rep.problems_json(problems))
    else:
        sys.stdout.write(rep.problems_text(problems))
        sys.stdout.write(check_module.summary(problems))
    code = 2 if unreadable else check_module.exit_code(problems, strict)
    if code:
        raise typer.Exit(code)


@app.command()
@guarded
def migrate(
    config: Annotated[str, typer.Argument(help="The containerd config.toml with legacy registry mirrors.")],
    certs_dir: Annotated[str, typer.Option("--certs-dir", help="Where the hosts.toml tree goes; also the "
                                           "config_path written into CONFIG.")] = "/etc/containerd/certs.d",
    write: Annotated[bool, typer.Option("--write", help="Write the tree and the config (default: print a "
                                        "diff of what would change).")] = False,
    no_backup: Annotated[bool, typer.Option("--no-backup", help="Do not keep CONFIG.bak.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace hosts.toml files this tool did not "
                                        "generate.")] = False,
) -> None:
    """Move legacy registry mirrors to config_path and a certs.d tree, keeping what containerd pulls."""
    from . import migrate as migrate_module
    from . import report as rep

    plan = migrate_module.plan(config, certs_dir)
    warn_problems(plan.model.problems)
    if plan.nothing_to_do:
        err(f"nothing to migrate: {config} {plan.nothing_to_do}\n")
        return
    err(rep.loss_text(plan.changes, f"{config} ({plan.fmt})", f"certs-d in {certs_dir}"))
    if not write:
        sys.stdout.write(migrate_module.dry_run(plan))
        return
    applied = migrate_module.apply(plan, backup=not no_backup, force=force)
    for path in applied.written:
        err(f"wrote {path}\n")
    for path in applied.removed:
        err(f"removed stale generated file {path}\n")
    if applied.backup:
        err(f"kept the original as {applied.backup}\n")


def main() -> None:
    # A run builds one large, acyclic model and exits: the cyclic collector's passes over it cost
    # more than half of a 10,000-registry conversion at the default thresholds, and find nothing.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    app()
