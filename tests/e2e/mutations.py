"""Prove that each end-to-end scenario can fail: break the translation it covers, run it, expect a failure.

    python -m tests.e2e.mutations [NAME ...]        (make mutate; as root, like make e2e)

Each mutation copies the working tree to a temporary directory, replaces one piece of the
translator's source (the text must be found, so a refactoring that moves it makes this script
fail loudly instead of testing nothing), and runs the scenarios that should catch it. A mutation
that every one of its scenarios survives is a scenario that proves nothing: the script exits 1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass(frozen=True)
class Mutation:
    name: str
    what: str            # the broken behaviour, in a user's words
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


MUTATIONS = (
    Mutation("no-override-path", "hosts.toml entries lose override_path", "translator/formats/certs_d_writer.py",
             '        if override:\n            lines.append(toml_out.assignment("override_path", True, "  "))\n'
             '            table["override_path"] = True\n',
             "", ("test_endpoint_path_becomes_override_path",)),
    Mutation("no-ca", "hosts.toml loses the ca of an endpoint", "translator/formats/certs_d_writer.py",
             "    if endpoint.ca:\n", "    if False:\n",
             ("test_tls_with_a_private_ca", "test_migrate_keeps_requests_and_order")),
    Mutation("no-client-pair", "hosts.toml loses the client certificate", "translator/formats/certs_d_writer.py",
             "    if endpoint.client:\n", "    if False:\n", ("test_tls_client_certificate",)),
    Mutation("no-credentials", "--cri-config and migrate write no configs.*.auth", "translator/cri_config.py",
             '"auth": {k: _auth_fields(a) for k, a in auth.items()}', '"auth": {}',
             ("test_credentials_go_to_the_cri_config", "test_migrate_keeps_requests_and_order")),
    Mutation("wildcard-directory", "the '*' registry is written to a '*' directory, not _default",
             "translator/endpoints.py", '    return "_default" if name == "*" else name\n', "    return name\n",
             ("test_wildcard_becomes_default_directory",)),
    Mutation("hub-directory", "docker.io is written to an index.docker.io directory", "translator/endpoints.py",
             '    return "_default" if name == "*" else name\n',
             '    return "_default" if name == "*" else ("index.docker.io" if name == "docker.io" else name)\n',
             ("test_docker_hub_mirror_over_http",)),
    Mutation("reversed-order", "hosts.toml lists the mirrors in reverse order", "translator/formats/certs_d_writer.py",
             "    for entry in tables:\n", "    for entry in reversed(tables):\n",
             ("test_migrate_keeps_requests_and_order",)),
    Mutation("lost-legacy-path", "a legacy endpoint's path is read as /v2", "translator/endpoints.py",
             '    path = url.path or "/v2"\n', '    path = "/v2"\n', ("test_migrate_keeps_requests_and_order",)),
    Mutation("yaml-path-without-v2", "registries.yaml written without the /v2 that k3s needs",
             "translator/formats/registries_yaml_writer.py", "    return k3s_url(url)\n",
             '    return k3s_url(url).removesuffix("/v2")\n', ("test_certs_d_round_trip_through_registries_yaml",)),
)


def copy_tree(dest: str) -> None:
    ignore = shutil.ignore_patterns(".git", ".venv", "*.egg-info", ".pytest_cache", ".ruff_cache", ".hypothesis",
                                    "__pycache__")
    shutil.copytree(ROOT, dest, ignore=ignore)


def mutate(tree: str, mutation: Mutation) -> None:
    path = os.path.join(tree, mutation.file)
    with open(path) as handle:
        text = handle.read()
    if text.count(mutation.old) != 1:
        raise SystemExit(f"{mutation.name}: the text to replace is not found exactly once in {mutation.file}; "
                         "update tests/e2e/mutations.py")
    text = text.replace(mutation.old, mutation.new)
    with open(path, "w") as handle:
        handle.write(text)


def run(tree: str, tests: tuple[str, ...]) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": tree}
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests/e2e/test_e2e.py",
               "-k", " or ".join(tests)]
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=600)
    lines = result.stdout.strip().splitlines() or [""]
    cause = next((line[1:].strip() for line in lines if line.startswith("E ")), "")
    return result.returncode, lines[-1] + (f"; {cause[:160]}" if cause else "")


def main(names: list[str]) -> int:
    chosen = [m for m in MUTATIONS if not names or m.name in names]
    survivors = []
    with tempfile.TemporaryDirectory(prefix="rt-mutations-") as work:
        pristine = os.path.join(work, "pristine")
        copy_tree(pristine)
        code, summary = run(pristine, tuple(t for m in chosen for t in m.tests))
        print(f"{'unmutated':22} {'passes' if code == 0 else 'FAILS'}   ({summary})", flush=True)
        if code != 0:
            print("the scenarios fail without any mutation; fix them first")
            return 1
        for mutation in chosen:
            tree = os.path.join(work, mutation.name)
            copy_tree(tree)
            mutate(tree, mutation)
            start = time.monotonic()
            code, summary = run(tree, mutation.tests)
            verdict = "caught" if code == 1 else ("SURVIVED" if code == 0 else f"error {code}")
            print(f"{mutation.name:22} {verdict:8} {time.monotonic() - start:5.1f}s  {mutation.what}  ({summary})",
                  flush=True)
            if code != 1:
                survivors.append(mutation.name)
            shutil.rmtree(tree, ignore_errors=True)
    if survivors:
        print(f"not caught: {', '.join(survivors)}")
        return 1
    print(f"all {len(chosen)} mutations caught")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
