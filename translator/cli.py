"""The command line: each command parses its options, calls the library, renders the result.

Exit codes (SPEC.md): 0 success; 1 `diff` found a difference or `check` found an error (or a
warning with --strict), `resolve` finds no pull possible or `resolve --probe` no host that serves
the image; 2 bad usage or invalid input; 3 a loss refused by --strict.
Heavy modules are imported inside the commands that need them. Output goes through
`translator.console` (secrets masked, colour only on a terminal).

This module alone has no `from __future__ import annotations`: typer reads the parameters'
annotations at run time, and on Python 3.9 (the single-file build) the typer that still
supports it does not evaluate string annotations. So every annotation here must be valid on
Python 3.9 as it is (`Optional[str]`, not `str | None`); `make lint` (vermin) checks it.
Options are declared as defaults (`x: T = typer.Option(default, ...)`), not `Annotated[T, ...]`:
the same to typer, and 52 `Annotated` subscriptions cost 1 ms of every start-up.
"""

import contextlib
import functools
import gc
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, Optional, TypeVar

import typer

from . import __version__, console
from .errors import InputError, LossRefused, describe
from .record import replace

PROG = "registries-translator"
COMPLETE_VAR = "_REGISTRIES_TRANSLATOR_COMPLETE"
SHELLS = ("bash", "zsh", "fish")

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


# options several commands share: each call is a new declaration, as typer expects one per parameter
def from_option() -> Any:
    return typer.Option(None, "--from", help="Source format: " + FORMAT_HELP)


def as_json_option() -> Any:
    return typer.Option(False, "--json", help="Same as --format json.")


def certs_dir_option() -> Any:
    return typer.Option(None, "--certs-dir", help="crictl-info: where the tree its configPath names is on this "
                                                  "machine.")


def docker_certs_dir_option() -> Any:
    return typer.Option(None, "--docker-certs-dir", help="docker-daemon: Docker's certificate directory (default "
                                                         "/etc/docker/certs.d).")


def containerd_option() -> Any:
    return typer.Option(None, "--containerd", metavar="VERSION",
                        help="Read, write and judge as this containerd release does (1.6.20, 1.7 = its newest, "
                             "2.1.4); default: the newest release the tool knows.")


def no_color_option() -> Any:
    return typer.Option(False, "--no-color", help="No colour, even on a terminal (NO_COLOR does the same).")



def release_target(text: Optional[str]):
    """`--containerd VERSION` as a releases.Target; an unknown version is bad usage (exit 2)."""
    from . import releases

    try:
        return releases.target(text)
    except ValueError as exc:
        raise InputError(str(exc), fix="pass a released version such as 1.7.27 or 2.1") from None




def read_options(certs_dir: Optional[str], docker_certs_dir: Optional[str], containerd: Optional[str] = None,
                 cri_config: Optional[str] = None):
    """How to read every source of a command: where the trees beside it are, and which containerd."""
    from .formats import ReadOptions

    if cri_config == "-":
        raise InputError("--cri-config cannot be standard input", fix="give the containerd config.toml's path")
    return ReadOptions(certs_dir=certs_dir, docker_certs_dir=docker_certs_dir, target=release_target(containerd),
                       cri_config=cri_config)


def guarded(command: F) -> F:
    """Turn every failure into an `error:` line and the right exit code; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> object:
        if kwargs.get("no_color"):
            console.disable()
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            signum = _interrupted_by or signal.SIGINT
            console.err(f"error: interrupted by {signal.Signals(signum).name}; every file is as it was or "
                "completely written\n")
            raise typer.Exit(128 + signum) from None
        except Exception as exc:
            code, line = describe(exc)
            console.err(line + "\n")
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


_interrupted_by: Optional[int] = None


def _on_signal(signum: int, _frame: object) -> None:
    """SIGTERM and SIGHUP stop a run the way Ctrl-C does: staged files are removed on the way out."""
    global _interrupted_by
    _interrupted_by = signum
    raise KeyboardInterrupt


def warn_problems(problems: object) -> None:
    for problem in problems:  # type: ignore[attr-defined]
        if problem.severity != "info":
            console.err(problem.text() + "\n")


def choose_format(value: Optional[str], as_json: bool, allowed: tuple[str, ...], option: str = "--format") -> str:
    """The one output format of a command: --format, or its synonym --json; text by default."""
    if value is not None and value not in allowed:
        raise InputError(f"{option} must be one of {', '.join(allowed)}, not {value!r}")
    if as_json:
        if value not in (None, "json"):
            raise InputError(f"--json contradicts {option} {value}")
        return "json"
    return value or "text"


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"{PROG} {__version__}\n")
        raise typer.Exit()


def _shell(value: Optional[str]) -> Optional[str]:
    if value is not None and value not in SHELLS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(SHELLS)}")
    return value


def _show_completion(value: Optional[str]) -> None:
    if _shell(value):
        from typer._completion_shared import get_completion_script

        sys.stdout.write(get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR, shell=value) + "\n")
        raise typer.Exit()


def _install_completion(value: Optional[str]) -> None:
    if _shell(value):
        from typer._completion_shared import install

        shell, path = install(shell=value, prog_name=PROG, complete_var=COMPLETE_VAR)
        sys.stdout.write(f"{shell} completion installed in {path}; it takes effect in a new shell\n")
        raise typer.Exit()


@app.callback()
def main_options(
    max_bytes: Optional[int] = typer.Option(None, "--max-bytes", help="Largest input file to read, in bytes (default "
                                                                      "4 MiB)."),
    no_color: bool = no_color_option(),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    show_completion: Optional[str] = typer.Option(None, "--show-completion", metavar="SHELL",
                                                  callback=_show_completion, is_eager=True,
                                                  help="Print the completion script for bash, zsh or fish."),
    install_completion: Optional[str] = typer.Option(None, "--install-completion", metavar="SHELL",
                                                     callback=_install_completion, is_eager=True,
                                                     help="Install completion for bash, zsh or fish."),
) -> None:
    if no_color:
        console.disable()
    if max_bytes is not None:
        from . import files

        files.set_max_bytes(max_bytes)


@app.command()
@guarded
def convert(
    src: str = typer.Argument(..., help="A file, a certs.d directory, or - for standard input."),
    to: str = typer.Option(..., "--to", help="Target format: " + FORMAT_HELP.split(" (")[0]),
    from_: Optional[str] = from_option(),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Output file, or directory for certs-d "
                                                                      "(default: standard output)."),
    strict: bool = typer.Option(False, "--strict", help="Exit 3 and write nothing if anything would be lost."),
    report: Optional[str] = typer.Option(None, "--report", help="Loss report on stderr: text, json or markdown."),
    format_: Optional[str] = typer.Option(None, "--format", help="Same as --report."),
    no_default_endpoint: bool = typer.Option(False, "--no-default-endpoint", help="k3s's "
                                                                                  "--disable-default-registry-endpoint."),
    keep_rewrites: bool = typer.Option(False, "--keep-rewrites", help="Write k3s rewrite tables (for k3s's own "
                                                                      "containerd)."),
    config_path: Optional[str] = typer.Option(None, "--config-path", help="config_path to set in --cri-config "
                                                                          "(default: the absolute -o directory)."),
    cri_config: Optional[str] = typer.Option(None, "--cri-config", help="containerd config.toml to create or update "
                                                                        "beside a certs-d output (config_path, "
                                                                        "credentials); for a certs-d source, where "
                                                                        "its credentials are read from."),
    force: bool = typer.Option(False, "--force", help="Replace hosts.toml files this tool did not generate."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be written, replaced or removed, and write "
                                                          "nothing."),
    certs_dir: Optional[str] = certs_dir_option(),
    docker_certs_dir: Optional[str] = docker_certs_dir_option(),
    containerd: Optional[str] = containerd_option(),
    no_color: bool = no_color_option(),
) -> None:
    """Convert a registry configuration to another format and report what does not survive."""
    from . import convert as conv
    from . import report as rep

    if report is not None and format_ is not None and report != format_:
        raise InputError(f"--report {report} contradicts --format {format_}")
    report = choose_format(report or format_, False, ("text", "json", "markdown"), "--report")
    options = conv.ConvertOptions(to=to, source_format=from_, output=output,
                                  no_default_endpoint=no_default_endpoint, keep_rewrites=keep_rewrites,
                                  config_path=config_path, cri_config=cri_config, certs_dir=certs_dir,
                                  docker_certs_dir=docker_certs_dir, target=release_target(containerd))
    conversion = conv.convert(src, options)
    warn_problems(conversion.source.problems)
    source = f"{src} ({conversion.source.source_format})"
    if report == "json":
        console.err(rep.as_json(conversion.changes), kind="plain")
    elif report == "markdown":
        console.err(rep.loss_markdown(conversion.changes, source, to))
    else:
        console.err(rep.loss_text(conversion.changes, source, to))
    if strict and conversion.changes:
        raise LossRefused(f"--strict: {len(conversion.changes)} change(s) would be lost; nothing was written")
    if dry_run:
        console.out(conv.plan_text(conv.plan(conversion, options, force=force)), kind="diff")
        return
    written = conv.write(conversion, options, force=force)
    if not output:
        console.out_raw(conv.output_text(conversion))
    verified = conv.verify_written(conversion, options) if written.paths and (output or cri_config) else ""
    if report == "json":
        return  # standard error holds the one JSON document
    for path in written.removed:
        console.err(f"removed stale generated file {path}\n")
    for line in written.notices:
        console.err(line + "\n")
    if verified:
        console.err(verified + "\n")


@app.command()
@guarded
def show(
    src: str = typer.Argument(..., help="A file, a certs.d directory, or - for standard input."),
    from_: Optional[str] = from_option(),
    format_: Optional[str] = typer.Option(None, "--format", help="text (YAML, the default) or json."),
    as_json: bool = as_json_option(),
    cri_config: Optional[str] = typer.Option(None, "--cri-config", help="The containerd config.toml whose "
                                                                        "credentials and headers go with a certs.d "
                                                                        "source."),
    certs_dir: Optional[str] = certs_dir_option(),
    docker_certs_dir: Optional[str] = docker_certs_dir_option(),
    containerd: Optional[str] = containerd_option(),
    no_color: bool = no_color_option(),
) -> None:
    """Print the normalized model: what the reader understood (YAML, or JSON with --format json)."""
    from . import formats
    from . import show as show_module

    fmt = choose_format(format_, as_json, ("text", "yaml", "json"))
    config = formats.read(src, from_, read_options(certs_dir, docker_certs_dir, containerd, cri_config))
    warn_problems(config.problems)
    if fmt == "json":
        console.out(show_module.render_json(config), kind="plain")
    else:
        console.out(show_module.render(config), kind="plain")


@app.command()
@guarded
def diff(
    a: str = typer.Argument(..., help="The configuration before (file, certs.d directory or -)."),
    b: str = typer.Argument(..., help="The configuration after."),
    from_a: Optional[str] = typer.Option(None, "--from-a", help="Format of A: " + FORMAT_HELP),
    from_b: Optional[str] = typer.Option(None, "--from-b", help="Format of B: " + FORMAT_HELP),
    format_: Optional[str] = typer.Option(None, "--format", help="text, json or markdown (a PR comment)."),
    as_json: bool = as_json_option(),
    certs_dir: Optional[str] = certs_dir_option(),
    docker_certs_dir: Optional[str] = docker_certs_dir_option(),
    containerd: Optional[str] = containerd_option(),
    no_color: bool = no_color_option(),
) -> None:
    """Compare what two configurations mean for pulls; exit 1 when they differ."""
    from . import diff as diff_module

    fmt = choose_format(format_, as_json, ("text", "json", "markdown"))
    if a == "-" and b == "-":
        raise InputError("standard input can be only one side of a diff")
    result = diff_module.diff_paths(a, b, from_a, from_b, read_options(certs_dir, docker_certs_dir, containerd))
    warn_problems(result.a.problems + result.b.problems)
    if fmt == "json":
        console.out(diff_module.render_json(result), kind="plain")
    elif fmt == "markdown":
        console.out(diff_module.render_markdown(result, a, b), kind="plain")
    else:
        console.out(diff_module.render_text(result, a, b))
    if not result.same:
        raise typer.Exit(1)


@app.command()
@guarded
def resolve(
    image: str = typer.Argument(..., help="An image reference as a user types it (alpine:3, "
                                          "host:5000/a/b@sha256:...)."),
    config: str = typer.Option(..., "--config", help="The configuration: a file, a certs.d directory, or -."),
    from_: Optional[str] = from_option(),
    format_: Optional[str] = typer.Option(None, "--format", help="text or json."),
    as_json: bool = as_json_option(),
    probe: bool = typer.Option(False, "--probe", help="Ask each host what containerd would ask and say what happens; "
                                                      "exit 1 when no host serves the manifest."),
    timeout: float = typer.Option(5.0, "--timeout", help="With --probe: seconds for each call (connect, then each "
                                                         "read)."),
    blob: bool = typer.Option(False, "--blob", help="With --probe: also fetch the first bytes of one layer, as "
                                                    "containerd does after resolving."),
    cri_config: Optional[str] = typer.Option(None, "--cri-config", help="The containerd config.toml whose "
                                                                        "credentials and headers go with a certs.d "
                                                                        "source."),
    certs_dir: Optional[str] = certs_dir_option(),
    docker_certs_dir: Optional[str] = docker_certs_dir_option(),
    containerd: Optional[str] = containerd_option(),
    no_color: bool = no_color_option(),
) -> None:
    """Print, in order, the hosts containerd will try for IMAGE, the URL it requests from each, and why.

    Exit 1 when the runtime cannot use the configuration at all (no pull happens).
    """
    from . import formats
    from . import resolve as resolve_module
    from .reference import parse as parse_reference

    fmt = choose_format(format_, as_json, ("text", "json"))
    # a certs.d tree is read where containerd looks for this image's registry, and nowhere else
    options = replace(read_options(certs_dir, docker_certs_dir, containerd, cri_config),
                                  registry=parse_reference(image).registry)
    model = formats.read(config, from_, options)
    warn_problems(model.problems)
    result = resolve_module.resolve(image, model)
    if (probe or blob) and not result.error:
        if not 0 < timeout <= 300:
            raise InputError(f"--timeout must be more than 0 and at most 300 seconds, not {timeout:g}")
        try:
            from . import probe as probe_module
        except ImportError as exc:
            raise InputError(f"--probe needs the {exc.name} package", fix="pip install 'urllib3>=2'") from None
        text, served = probe_module.run(image, model, result, timeout=timeout, blob=blob, as_json=fmt == "json")
        console.out(text, kind="plain" if fmt == "json" else "report")
        if not served:
            raise typer.Exit(1)
        return
    if fmt == "json":
        import json

        console.out(json.dumps(result.as_dict(), indent=2, ensure_ascii=False) + "\n", kind="plain")
    else:
        console.out(resolve_module.render_text(result))
    if result.error:
        raise typer.Exit(1)


@app.command()
@guarded
def check(
    srcs: list[str] = typer.Argument(..., metavar="SRC...", help="Files, certs.d directories, or - for standard "
                                                                 "input; several at once for pre-commit hooks."),
    from_: Optional[str] = from_option(),
    format_: Optional[str] = typer.Option(None, "--format", help="text, json or markdown (a PR comment)."),
    as_json: bool = as_json_option(),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 on warnings too."),
    select: Optional[list[str]] = typer.Option(None, "--select", help="Only these codes (comma-separated, "
                                                                      "repeatable)."),
    ignore: Optional[list[str]] = typer.Option(None, "--ignore", help="Not these codes (comma-separated, repeatable)."),
    statistics: bool = typer.Option(False, "--statistics", help="Count the problems per code instead of listing them."),
    fix: bool = typer.Option(False, "--fix", help="Repair what can be repaired mechanically, in place, with a "
                                                  "FILE.bak backup."),
    show_diff: bool = typer.Option(False, "--diff", help="With --fix: print the repairs as a unified diff and change "
                                                         "nothing."),
    root: Optional[str] = typer.Option(None, "--root", help="The node's root file system as seen from here, for "
                                                            "checks that depend on the node (certificate files, "
                                                            "modes)."),
    certs_dir: Optional[str] = certs_dir_option(),
    docker_certs_dir: Optional[str] = docker_certs_dir_option(),
    containerd: Optional[str] = containerd_option(),
    upgrade_to: Optional[str] = typer.Option(None, "--upgrade-to", metavar="VERSION",
                                             help="Report every change in where pulls go, and every new problem, "
                                                  "when the node moves from --containerd to this release."),
    no_color: bool = no_color_option(),
) -> None:
    """Lint configurations for the known pitfalls: every problem in every file, like a linter.

    Exit 1 when there is an error (or a warning, with --strict), 0 otherwise; 2 for bad usage or a
    file that does not exist. `# registries-translator: ignore[CODE]` on a line (or above it)
    silences that place.
    """
    from . import codes, lint
    from . import report as rep

    fmt = choose_format(format_, as_json, ("text", "json", "markdown"))
    try:
        options = lint.LintOptions(fmt=from_, select=frozenset(codes.parse_list(select)),
                                   ignore=frozenset(codes.parse_list(ignore)), root=root,
                                   read=read_options(certs_dir, docker_certs_dir, containerd))
    except ValueError as exc:
        raise InputError(str(exc), fix="see the codes in README.md") from None
    if show_diff and not fix:
        raise InputError("--diff shows what --fix would change", fix="pass --fix --diff")
    if upgrade_to is not None:
        from . import upgrade

        if containerd is None:
            raise InputError("--upgrade-to compares two releases", fix="pass the node's current release with "
                                                                       "--containerd, e.g. --containerd 1.7")
        report = upgrade.upgrade(srcs, from_, options.read.target, release_target(upgrade_to))
        console.out(upgrade.render(report, fmt), kind="plain" if fmt != "text" else "report")
        raise typer.Exit(report.exit_code)
    result = lint.lint(srcs, options)
    if fix:
        from . import fixes

        applied = fixes.fix_all(result.problems, from_, write=not show_diff)
        if show_diff:
            console.out(applied.diff, kind="diff")
            raise typer.Exit(1 if applied.diff else 0)
        for line in applied.messages:
            console.err(line + "\n")
        if applied.changed:
            result = lint.lint(srcs, options)
    for missing in result.missing:
        console.err(f"error: {missing}\n")
    if fmt == "json":
        console.out(rep.problems_json(result.problems, lint.statistics(result.problems) if statistics else None),
                    kind="plain")
    elif fmt == "markdown":
        console.out(rep.problems_markdown(result.problems), kind="plain")
    elif statistics:
        console.out(rep.statistics_text(lint.statistics(result.problems)))
    else:
        console.out(rep.problems_text(result.problems))
        console.out(rep.summary(result.problems))
    code = result.exit_code(strict)
    if code:
        raise typer.Exit(code)


@app.command()
@guarded
def migrate(
    config: str = typer.Argument(..., help="The containerd config.toml with legacy registry mirrors."),
    certs_dir: str = typer.Option("/etc/containerd/certs.d", "--certs-dir", help="Where the hosts.toml tree goes; "
                                                                                 "also the config_path written into "
                                                                                 "CONFIG."),
    write: bool = typer.Option(False, "--write", help="Write the tree and the config (default: print a diff of what "
                                                      "would change)."),
    no_backup: bool = typer.Option(False, "--no-backup", help="Do not keep CONFIG.bak."),
    force: bool = typer.Option(False, "--force", help="Replace hosts.toml files this tool did not generate."),
    containerd: Optional[str] = containerd_option(),
    no_color: bool = no_color_option(),
) -> None:
    """Move legacy registry mirrors to config_path and a certs.d tree, keeping what containerd pulls."""
    from . import migrate as migrate_module
    from . import report as rep

    if write and config == "-":
        raise InputError("cannot write back to standard input", file="-",
                         fix="pass the config.toml's path to --write, or drop --write for a dry run")
    plan = migrate_module.plan(config, certs_dir, release_target(containerd))
    warn_problems(plan.model.problems)
    if plan.nothing_to_do:
        if write:
            migrate_module.tidy(plan)
        console.err(f"nothing to migrate: {config} {plan.nothing_to_do}\n")
        return
    console.err(rep.loss_text(plan.changes, f"{config} ({plan.fmt})", f"certs-d in {plan.certs_dir}"))
    if not write:
        console.out(migrate_module.dry_run(plan), kind="diff")
        console.err(migrate_module.plan_text(plan, force=force))
        return
    applied = migrate_module.apply(plan, backup=not no_backup, force=force)
    for path in applied.written:
        console.err(f"wrote {path}\n")
    for path in applied.removed:
        console.err(f"removed stale generated file {path}\n")
    if applied.backup and applied.backup_existed:
        console.err(f"left {applied.backup} as it was: it keeps the original from an earlier run\n")
    elif applied.backup:
        console.err(f"kept the original as {applied.backup}\n")


def entry() -> None:
    """The console script and `python -m translator`: `main()`, then the process ends at once with its
    exit code. The interpreter's own shutdown (freeing every module and object, a last full garbage
    collection) costs a tenth of a start-up and grows with the model, and does nothing a finished run
    needs: every file is closed and renamed into place inside the command, every line printed was
    flushed as it was written (standard output and error are flushed once more here), the tool
    starts no threads and registers nothing to run at exit. In-process callers use `main()`."""
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = _exit_status(exc.code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what was lost was said by the command already
            code = code or 2
    os._exit(code)


def _exit_status(code: object) -> int:
    """The status `sys.exit(CODE)` ends a process with (a message for anything but an int or None)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"{code}\n")
    return 1


def main() -> None:
    # A run builds one large, acyclic model and exits: the cyclic collector's passes over it cost
    # more than half of a 10,000-registry conversion at the default thresholds, and still 1.5 s of
    # composing 100,000 registries' YAML at (50000, 20, 100) (the 10k->100k growth), and find nothing
    # (peak RSS of a 100k conversion is the same without it). Restored for in-process callers.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _run()
    finally:
        if collecting:
            gc.enable()


def _run() -> None:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    commands = app.registered_commands
    if COMPLETE_VAR in os.environ:  # the shell asks for completions: only then load typer's completion
        from typer.completion import completion_init

        completion_init()
    else:
        app.registered_commands = _invoked(commands, sys.argv[1:])
    try:
        app(prog_name=PROG)
    finally:
        app.registered_commands = commands


def _invoked(commands: list, args: list[str]) -> list:
    """Only the command ARGS name, when they name one: typer builds every command's click parameters
    on each run (3 ms of start-up for six commands, 1 ms for one). The group and its options stay as
    they are; anything else (`--help`, a typo, no command) gets every command."""
    from typer.main import get_command_name

    position = 0
    while position < len(args):  # the group's own options come first
        if args[position] == "--no-color" or args[position].startswith("--max-bytes="):
            position += 1
        elif args[position] == "--max-bytes":
            position += 2
        else:
            break
    if position >= len(args):
        return commands
    named = [c for c in commands if (c.name or get_command_name(c.callback.__name__)) == args[position]]
    return named or commands
