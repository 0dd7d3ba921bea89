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
    # one row of the release table at a time (tests/e2e/test_release_facts.py)
    Mutation('row-localhost-fill', "1.6.20's localhost upstream filled over https", "translator/releases.py",
             'Fact("localhost_upstream", (("1.6.9", "1.6.24"), ("1.7.0", "1.7.7")), _LOCALHOST_HTTP_SKIP,',
             'Fact("localhost_upstream", (("1.6.9", "1.6.24"), ("1.7.0", "1.7.7")), _LOCALHOST_HTTPS,', ('test_localhost_upstream_is_plain_http',)),  # noqa: E501
    Mutation('row-https-first', '1.6.20 tries an http:// host with TLS over HTTPS first', "translator/releases.py",
             'Fact("https_first_ports", (("1.5.0", "1.6.24"), ("1.7.0", "1.7.6")), _HF_NEVER,',
             'Fact("https_first_ports", (("1.5.0", "1.6.24"), ("1.7.0", "1.7.6")), _HF_ANY,', ('test_http_host_with_ca_stays_plain_http',)),  # noqa: E501
    Mutation('row-default-dir', '1.6.20 ignores _default', "translator/releases.py",
             'Fact("default_dir", (("1.6.17", _OPEN),), True,',
             'Fact("default_dir", (("1.6.17", _OPEN),), False,', ('test_default_directory_is_read',)),
    Mutation('row-referrers', '1.6.20 accepts the referrers capability', "translator/releases.py",
             'Fact("referrers", (("1.5.0", "2.1.9"),), False,',
             'Fact("referrers", (("1.5.0", "2.1.9"),), True,', ('referrers',)),
    Mutation('row-host-table', '1.6.20 reads a hosts.toml without [host]', "translator/releases.py",
             'Fact("requires_host_table", (("1.5.0", "1.6.39"), ("1.7.0", "1.7.31")), True,',
             'Fact("requires_host_table", (("1.5.0", "1.6.39"), ("1.7.0", "1.7.31")), False,', ('no_host_table',)),
    Mutation('row-dial-timeout', '1.6.20 reads dial_timeout', "translator/releases.py",
             'Fact("dial_timeout", (("1.5.0", "2.0.6"),), False,',
             'Fact("dial_timeout", (("1.5.0", "2.0.6"),), True,', ('test_dial_timeout_is_an_unknown_key',)),
    Mutation('row-config-v3', '1.6.20 reads the version 3 registry table', "translator/releases.py",
             'Fact("config_v3", (("1.5.0", "1.6.31"), ("1.7.0", "1.7.16")), "unused",',
             'Fact("config_v3", (("1.5.0", "1.6.31"), ("1.7.0", "1.7.16")), "read",', ('test_version_3_registry_table_is_unused',)),  # noqa: E501
    Mutation('row-versionless', '1.6.20 reads full plugin keys in a version-less file', "translator/releases.py",
             'Fact("versionless_v2_keys", (("1.5.0", "1.7.34"),), "ignored",',
             'Fact("versionless_v2_keys", (("1.5.0", "1.7.34"),), "migrated",', ('test_version_less_file_ignores_full_plugin_keys',)),  # noqa: E501
    Mutation('row-short-key', '1.6.20 starts with [plugins.cri] in a version 2 file', "translator/releases.py",
             'Fact("short_key_in_v2", (("1.5.0", "1.7.34"),), "refused",',
             'Fact("short_key_in_v2", (("1.5.0", "1.7.34"),), "ignored",', ('test_short_plugin_key_in_version_2_refuses_to_start',)),  # noqa: E501
    Mutation('row-tls-conflict', '1.6.20 loads configs.*.tls beside config_path', "translator/releases.py",
             'Fact("tls_config_path_conflict", (("1.5.0", "1.7.34"),), True,',
             'Fact("tls_config_path_conflict", (("1.5.0", "1.7.34"),), False,', ('test_legacy_tls_applies_and_conflicts_with_config_path',)),  # noqa: E501
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
               "tests/e2e/test_release_facts.py", "-k", " or ".join(tests)]
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
