"""The task API for tools that configure many nodes (the Ansible collection under ansible/).

One call per task — `migrate`, `convert`, `check` — returns one JSON-able dict: whether a file's
content or mode would change (`changed`), the diff to show (the CLI's dry run: `migrate`'s unified
diff, `convert --dry-run`'s plan with each file's diff), what was written, and the findings. It
calls what the CLI calls and adds no rules of its own; `run` never raises: a failure is
`failed` with the CLI's `error:` line and exit code. Every text is masked (translator.secrets).
Runs on the node's own Python (3.9+), imported from the single-file build (`make dist`).
"""

from __future__ import annotations

import os
from typing import Any

from . import secrets
from .errors import InputError, LossRefused, describe

DEFAULT_CERTS_DIR = "/etc/containerd/certs.d"


def run(task: str, params: dict[str, Any]) -> dict[str, Any]:
    """TASK ("migrate", "convert" or "check") with PARAMS as keyword arguments; never raises."""
    tasks = {"migrate": migrate, "convert": convert, "check": check}
    try:
        if task not in tasks:
            raise InputError(f"unknown task {task!r}", fix="use migrate, convert or check")
        return tasks[task](**params)
    except Exception as exc:
        code, line = describe(exc)
        return {"failed": True, "changed": False, "rc": code, "msg": secrets.redact(line)}


def _target(containerd: str | None) -> Any:
    from . import releases

    try:
        return releases.target(containerd)
    except ValueError as exc:
        raise InputError(str(exc), fix="pass a released version such as 1.7.27 or 2.1") from None


def _problems(problems: Any) -> list[dict[str, Any]]:
    return [{k: secrets.redact(v) if isinstance(v, str) else v for k, v in p.as_dict().items()} for p in problems]


def _unified(old: str, new: str, old_name: str, new_name: str, toml: bool) -> str:
    """A unified diff of one file, masked by where its secrets are (TOML) or line by line."""
    from .migrate import _diff, mask_diff

    if toml:
        return secrets.redact(_diff(secrets.mask_toml(old), secrets.mask_toml(new), old_name, new_name))
    return mask_diff(_diff(old, new, old_name, new_name))


def migrate(config: str, certs_dir: str = DEFAULT_CERTS_DIR, *, containerd: str | None = None,
            write: bool = False, backup: bool = True, force: bool = False, private: bool = True) -> dict[str, Any]:
    """`migrate CONFIG --certs-dir DIR` (WRITE: `--write`). PRIVATE: a config that keeps credentials
    and that others can read is written owner-only (0600 at most); the CLI keeps its mode."""
    from . import files, report
    from . import migrate as migrate_module

    plan = migrate_module.plan(config, certs_dir, _target(containerd))
    result: dict[str, Any] = {
        "changed": False, "config": config, "certs_dir": plan.certs_dir, "format": plan.fmt,
        "problems": _problems(plan.model.problems), "losses": [report.masked(c) for c in plan.changes],
        "written": [], "removed": [], "backup": None, "diff": ""}
    if plan.nothing_to_do:
        if write:
            migrate_module.tidy(plan)
        result["msg"] = f"nothing to migrate: {config} {plan.nothing_to_do}"
        return result
    tighten = private and migrate_module.tightens(plan)
    diff = migrate_module.dry_run(plan)
    if tighten:
        diff += f"# {config}: mode {files.file_mode(config) or 0:04o} -> 0600 (it keeps credentials)\n"
    result.update(changed=True, diff=diff)
    if not write:
        refused = files.plan_tree(plan.certs_dir, plan.files, force=force).refused
        if refused:
            raise InputError("would not be written, nothing would be changed:\n  "
                             + "\n  ".join(f"{rel}: {why}" for rel, why in refused), file=plan.certs_dir)
        result["msg"] = f"would move {config}'s registry settings to {len(plan.files)} hosts.toml in {plan.certs_dir}"
        return result
    applied = migrate_module.apply(plan, backup=backup, force=force, tighten=tighten)
    result.update(written=applied.written, removed=applied.removed, backup=applied.backup)
    result["msg"] = f"moved {config}'s registry settings to {len(plan.files)} hosts.toml in {plan.certs_dir}"
    return result


def _convert_diff(p: Any, conversion: Any) -> str:
    """`convert --dry-run`'s plan, then the diff of every file of the tree that changes."""
    from . import convert as conv
    from . import files

    out = [conv.plan_text(p)]
    tree = p.tree
    if tree is not None:
        for rel in [*tree.create, *tree.replace]:
            target = os.path.join(tree.root, rel)
            old = files.read_text(target) if rel in tree.replace else ""
            out.append(_unified(old, conversion.rendered.files[rel][0], target if old else "/dev/null", target, True))
        for target in tree.prune:
            out.append(_unified(files.read_text(target), "", target, "/dev/null", True))
    if p.single is not None and p.single[1] != "unchanged":
        path = p.single[0]
        old = files.read_text(path) if p.single[1] == "replace" else ""
        toml = conversion.rendered.fmt.startswith("cri-") or conversion.rendered.fmt == "registries-conf"
        out.append(_unified(old, conversion.rendered.text, path if old else "/dev/null", path, toml))
    return "".join(out)


def convert(src: str, to: str, dest: str | None = None, *, source_format: str | None = None,
            cri_config: str | None = None, config_path: str | None = None, keep_rewrites: bool = False,
            no_default_endpoint: bool = False, certs_dir: str | None = None, docker_certs_dir: str | None = None,
            containerd: str | None = None, strict: bool = False, force: bool = False,
            write: bool = False) -> dict[str, Any]:
    """`convert SRC --to TO -o DEST [--cri-config FILE]` (WRITE: written; otherwise `--dry-run`).
    Nothing is rewritten when no file's content or mode would change."""
    from . import convert as conv
    from . import report

    if not dest and not cri_config:
        raise InputError("nothing to write", fix="give dest (and, for certs-d, cri_config)")
    options = conv.ConvertOptions(to=to, source_format=source_format, output=dest,
                                  no_default_endpoint=no_default_endpoint, keep_rewrites=keep_rewrites,
                                  config_path=config_path, cri_config=cri_config, certs_dir=certs_dir,
                                  docker_certs_dir=docker_certs_dir, target=_target(containerd))
    conversion = conv.convert(src, options)
    if strict and conversion.changes:
        raise LossRefused(f"--strict: {len(conversion.changes)} change(s) would be lost; nothing was written")
    p = conv.plan(conversion, options, force=force)
    result: dict[str, Any] = {
        "changed": p.changes_anything, "format": conversion.source.source_format, "to": to,
        "problems": _problems(conversion.source.problems), "losses": [report.masked(c) for c in conversion.changes],
        "written": [], "removed": [], "backups": [], "diff": _convert_diff(p, conversion) if p.changes_anything else ""}
    if not p.changes_anything:
        result["msg"] = f"{dest or cri_config} already holds this conversion"
        return result
    if p.tree is not None and p.tree.refused:
        raise InputError("would not be written, nothing would be changed:\n  "
                         + "\n  ".join(f"{rel}: {why}" for rel, why in p.tree.refused), file=p.tree.root)
    if not write:
        result["msg"] = f"would write {dest or cri_config}"
        return result
    written = conv.write(conversion, options, force=force)
    result["verified"] = conv.verify_written(conversion, options)
    result.update(written=written.paths, removed=written.removed, backups=written.backups, msg=result["verified"])
    return result


def check(src: list[str], *, source_format: str | None = None, containerd: str | None = None,
          select: list[str] | None = None, ignore: list[str] | None = None, strict: bool = False,
          root: str | None = "/", certs_dir: str | None = None,
          docker_certs_dir: str | None = None) -> dict[str, Any]:
    """`check SRC... --root ROOT` as facts: every problem, the counts and the CLI's exit code. ROOT
    is "/" by default: a task runs on the node, where certificate files and modes are."""
    from . import codes, lint
    from .formats import ReadOptions

    try:
        options = lint.LintOptions(fmt=source_format, select=frozenset(codes.parse_list(select)),
                                   ignore=frozenset(codes.parse_list(ignore)), root=root,
                                   read=ReadOptions(certs_dir=certs_dir, docker_certs_dir=docker_certs_dir,
                                                    target=_target(containerd)))
    except ValueError as exc:
        raise InputError(str(exc), fix="see the codes in README.md") from None
    result = lint.lint(list(src), options)
    if result.missing:
        raise InputError("; ".join(str(m) for m in result.missing))
    problems = _problems(result.problems)
    counts = {s: sum(1 for p in result.problems if p.severity == s) for s in ("error", "warning", "info")}
    facts = {"files": list(src), "containerd": containerd, "errors": counts["error"], "warnings": counts["warning"],
             "notes": counts["info"], "exit_code": result.exit_code(strict), "problems": problems}
    summary = f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)"
    return {"changed": False, "check": facts, "problems": problems, "msg": summary}
