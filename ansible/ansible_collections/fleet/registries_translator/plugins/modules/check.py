#!/usr/bin/python
"""Ansible module: `registries-translator check` on the node, as facts."""

from __future__ import annotations

DOCUMENTATION = r"""
module: check
short_description: Lint container-registry configuration on the node and return the findings as facts
description:
  - Runs C(registries-translator check) on the node with its own Python (3.9 or newer); the action plugin
    copies the single-file build there first. Never changes anything.
  - Sets the fact C(registries_translator_check) (errors, warnings, notes, exit_code, problems), so that a
    play can fail nodes with errors or summarise warnings across the fleet (C(hostvars)).
  - Checks that depend on the node (certificate files that must exist, modes of files that hold
    credentials) look under O(root), C(/) by default.
options:
  src:
    description: Files or certs.d directories on the node.
    type: list
    elements: path
    default: [/etc/containerd/config.toml]
  source_format: {description: Their format (detected when omitted)., type: str}
  containerd: {description: The node's containerd release (default the newest the tool knows)., type: str}
  select: {description: Only these codes., type: list, elements: str}
  ignore: {description: Not these codes., type: list, elements: str}
  root: {description: The node's root file system., type: path, default: /}
  certs_dir: {description: "crictl-info: where the tree its configPath names is.", type: path}
  docker_certs_dir: {description: "docker-daemon: Docker's certificate directory.", type: path}
  fail_on:
    description: Fail the task on C(error)s, on C(warning)s too, or C(never) (the facts are set only when the
      task does not fail, so use C(never) to summarise a fleet and fail afterwards).
    type: str
    choices: [error, warning, never]
    default: error
  pyz: {description: Set by the action plugin (see the migrate module)., type: path}
"""

EXAMPLES = r"""
- name: Lint every node's registry configuration as its own containerd reads it
  fleet.registries_translator.check:
    src: [/etc/containerd/config.toml]
    containerd: "{{ containerd_version | default(omit) }}"
    fail_on: never

- name: Fail the nodes whose configuration has errors
  ansible.builtin.assert:
    that: registries_translator_check.errors == 0
    fail_msg: "{{ registries_translator_check.problems | selectattr('severity', 'eq', 'error')
      | map(attribute='message') }}"
"""

RETURN = r"""
msg: {description: "The counts: N error(s), N warning(s), N note(s).", type: str, returned: always}
problems: {description: "Each finding: severity, code, message, fix, file, line, key, where (secrets masked).",
           type: list, elements: dict, returned: always}
ansible_facts:
  description: C(registries_translator_check) with files, containerd, errors, warnings, notes, exit_code (the CLI's
    exit code, 1 on errors) and problems.
  type: dict
  returned: always
"""

from ansible_collections.fleet.registries_translator.plugins.module_utils.translator_task import run  # noqa: E402

SPEC = {
    "src": {"type": "list", "elements": "path", "default": ["/etc/containerd/config.toml"]},
    "source_format": {"type": "str"},
    "select": {"type": "list", "elements": "str"},
    "ignore": {"type": "list", "elements": "str"},
    "root": {"type": "path", "default": "/"},
    "certs_dir": {"type": "path"},
    "docker_certs_dir": {"type": "path"},
    "fail_on": {"type": "str", "choices": ["error", "warning", "never"], "default": "error"},
}


def params(module):
    p = module.params
    names = ("source_format", "containerd", "select", "ignore", "root", "certs_dir", "docker_certs_dir")
    return {"src": p["src"], "strict": p["fail_on"] == "warning", **{name: p[name] for name in names}}


def main():
    run("check", SPEC, params)


if __name__ == "__main__":
    main()
