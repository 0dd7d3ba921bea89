"""The golden driver: every case under golden/ fans out to every format and every check.

A case directory holds exactly one source (`registries.yaml`, `config.toml`, `certs.d/`,
`crictl-info.json`, `daemon.json` or `registries.conf`), an `about.md` saying which rules it
covers (and, for a real file, a `SOURCE` naming where it comes from), an optional `args` line
of extra `convert` flags, and the expected outputs. Beside a source may sit what its format
reads with it: `registries.conf.d/` (drop-ins), `docker-certs.d/` (Docker's certificate
directory, `--docker-certs-dir`) or `crictl-certs.d/` (the tree a crictl-info `configPath`
names, `--certs-dir`).

| file                         | what it holds                                            |
|------------------------------|----------------------------------------------------------|
| show.yaml                    | the model the reader built (`show`)                      |
| to-<format>.<ext>            | the source converted to each format                      |
| to-docker-daemon.certs.txt   | the certificate directory written beside daemon.json     |
| losses-to-<format>.json      | the loss report of that conversion (absent: lossless)    |
| check.txt                    | `check` findings                                         |
| migrate.diff                 | `migrate`'s dry run (config.toml sources with mirrors)   |

`python -m tests.golden_driver --regenerate` (make golden) rewrites the expected files for
review; it never touches sources. Read `git diff golden/` before committing.
"""

from __future__ import annotations

import os
import shlex
import sys

from translator import check, convert, formats, migrate, releases, report, show
from translator.errors import InputError
from translator.formats import ReadOptions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "golden")
SOURCES = ("registries.yaml", "config.toml", "certs.d", "crictl-info.json", "daemon.json", "registries.conf",
           "registries.conf.d")
#: read with a source, never a source themselves, never produced
BESIDE = ("docker-certs.d", "crictl-certs.d", "SOURCE")
TARGETS = {"registries-yaml": "yaml", "cri-v1": "toml", "cri-v2": "toml", "cri-v3": "toml", "certs-d": "txt",
           "docker-daemon": "json", "registries-conf": "conf"}
DOCKER_CERTS = "/etc/docker/certs.d"
CASE_PLACEHOLDER = "$CASE"
MACHINE_DEPENDENT = ("missing-cert-file", "plaintext-password-world-readable")


def cases() -> list[str]:
    return sorted(d for d in os.listdir(GOLDEN) if os.path.isdir(os.path.join(GOLDEN, d)) and d != "diff")


def source_of(case: str) -> str:
    found = [s for s in SOURCES if os.path.exists(os.path.join(GOLDEN, case, s))]
    if found == ["registries.conf", "registries.conf.d"]:
        found = ["registries.conf"]  # its drop-ins are read with it
    if len(found) != 1:
        raise AssertionError(f"golden/{case} must hold exactly one of {', '.join(SOURCES)}, found {found}")
    return found[0]


def args_of(case: str) -> list[str]:
    path = os.path.join(GOLDEN, case, "args")
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return shlex.split(handle.read())


def release_of(case: str) -> releases.Target:
    """`--containerd VERSION` in the case's args: the release the case is read and written for."""
    args = args_of(case)
    if "--containerd" in args:
        return releases.target(args[args.index("--containerd") + 1])
    return releases.DEFAULT_TARGET


def options_for(case: str, target: str, source_path: str) -> convert.ConvertOptions:
    args = args_of(case)
    return convert.ConvertOptions(
        to=target, no_default_endpoint="--no-default-endpoint" in args, keep_rewrites="--keep-rewrites" in args,
        cri_config="config.toml" if "--cri-config" in args and target == "certs-d" else None,
        config_path="/etc/containerd/certs.d", docker_certs_dir=DOCKER_CERTS if target == "docker-daemon" else None,
        target=release_of(case))


def read_options(case: str) -> ReadOptions:
    """How a case's source is read: its flags, and the directories beside it (never this machine's)."""
    args = args_of(case)
    case_dir = os.path.join("golden", case)
    return ReadOptions(no_default_endpoint="--no-default-endpoint" in args, keep_rewrites="--keep-rewrites" in args,
                       docker_certs_dir=os.path.join(case_dir, "docker-certs.d"),
                       certs_dir=os.path.join(case_dir, "crictl-certs.d")
                       if os.path.isdir(os.path.join(GOLDEN, case, "crictl-certs.d")) else None,
                       target=release_of(case))


def _portable(text: str, case_dir: str) -> str:
    return text.replace(os.path.abspath(case_dir), CASE_PLACEHOLDER)


def produce(case: str) -> dict[str, str]:
    """Every expected file of CASE, computed now: {file name: content}."""
    case_dir = os.path.join(GOLDEN, case)
    source = source_of(case)
    source_path = os.path.join("golden", case, source)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return _produce(case, case_dir, source, source_path)
    finally:
        os.chdir(cwd)


def _produce(case: str, case_dir: str, source: str, source_path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        model = formats.read(source_path, None, read_options(case))
    except InputError as exc:
        out["error.txt"] = f"error: {exc}\n"
        return out
    out["show.yaml"] = show.render(model)
    for target, extension in TARGETS.items():
        options = options_for(case, target, source_path)
        try:
            conversion = convert.convert_model(model, options, None)
        except InputError as exc:  # a format the case's containerd release cannot read
            out[f"to-{target}.error.txt"] = f"error: {exc}\n"
            continue
        out[f"to-{target}.{extension}"] = convert.output_text(conversion)
        if conversion.cri_config_text is not None:
            out[f"to-{target}.cri-config.toml"] = conversion.cri_config_text
        if target == "docker-daemon" and conversion.rendered.files:
            from translator.formats import certs_d_writer

            out[f"to-{target}.certs.txt"] = certs_d_writer.listing_text(conversion.rendered.files)
        if conversion.changes:
            out[f"losses-to-{target}.json"] = report.as_json(conversion.changes)
    # findings that depend on the machine (files present, permissions) are tested in test_check.py
    problems = [p for p in check.check_config(model, source_path) if p.code not in MACHINE_DEPENDENT]
    out["check.txt"] = report.problems_text(problems) + report.summary(problems)
    if source == "config.toml":
        plan = migrate.plan(source_path, "/etc/containerd/certs.d", release_of(case))
        if not plan.nothing_to_do:
            out["migrate.diff"] = migrate.dry_run(plan)
    return {name: _portable(text, case_dir) for name, text in out.items()}


DIFF = os.path.join(GOLDEN, "diff")


def diff_cases() -> list[str]:
    return sorted(d for d in os.listdir(DIFF) if os.path.isdir(os.path.join(DIFF, d)))


def diff_sides(case: str) -> tuple[str, str]:
    """The two configurations of a diff case: `a.*` and `b.*`, files or certs.d directories."""
    names = sorted(os.listdir(os.path.join(DIFF, case)))
    a = next(n for n in names if n == "a" or n.startswith("a."))
    b = next(n for n in names if n == "b" or n.startswith("b."))
    return os.path.join("golden", "diff", case, a), os.path.join("golden", "diff", case, b)


def produce_diff(case: str) -> dict[str, str]:
    """diff.txt, diff.md and diff.json of a diff case, computed now."""
    from translator import diff

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        a, b = diff_sides(case)
        result = diff.diff_paths(a, b)
        return {"diff.txt": diff.render_text(result, a, b), "diff.md": diff.render_markdown(result, a, b),
                "diff.json": diff.render_json(result)}
    finally:
        os.chdir(cwd)


def expected_files(case: str) -> set[str]:
    case_dir = os.path.join(GOLDEN, case)
    return {n for n in os.listdir(case_dir) if n not in (*SOURCES, *BESIDE, "about.md", "args")}


def regenerate(selected: list[str]) -> None:
    for case in diff_cases():
        if selected and f"diff/{case}" not in selected:
            continue
        for name, text in produce_diff(case).items():
            with open(os.path.join(DIFF, case, name), "w") as handle:
                handle.write(text)
        print(f"golden/diff/{case}")
    for case in [c for c in selected if not c.startswith("diff/")] or ([] if selected else cases()):
        produced = produce(case)
        case_dir = os.path.join(GOLDEN, case)
        for stale in expected_files(case) - set(produced):
            os.unlink(os.path.join(case_dir, stale))
        for name, text in produced.items():
            with open(os.path.join(case_dir, name), "w") as handle:
                handle.write(text)
        print(f"golden/{case}: {len(produced)} files")


if __name__ == "__main__":
    if "--regenerate" not in sys.argv:
        sys.exit("usage: python -m tests.golden_driver --regenerate [CASE...]")
    regenerate([a for a in sys.argv[1:] if a != "--regenerate"])
