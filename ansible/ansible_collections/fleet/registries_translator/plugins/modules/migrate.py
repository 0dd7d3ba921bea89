#!/usr/bin/python
"""Ansible module: `registries-translator migrate` on the node."""

from __future__ import annotations

DOCUMENTATION = r"""
module: migrate
short_description: Move containerd's legacy registry mirrors to config_path and a certs.d tree
description:
  - Runs C(registries-translator migrate) on the node with the node's own Python (3.9 or newer); the
    action plugin copies the single-file build there first, so nothing else has to be installed.
  - The legacy C(registry.mirrors), C(configs.*.tls) and C(auths) of a containerd C(config.toml) become
    C(hosts.toml) files under O(certs_dir), and the config gets C(config_path) instead, keeping every
    other line, comment and table and the credentials. What containerd pulls from, and in which order,
    stays the same; anything that does not is returned in RV(losses).
  - Check mode and C(--diff) show the unified diff that C(migrate)'s dry run prints (secrets masked).
    C(changed) is true only when a file's content or mode would change; a migrated config is left alone.
  - The tree and the config are written whole or not at all, locked, the config kept as C(CONFIG.bak).
    A failure (a read-only disk, a config changed meanwhile) changes nothing and fails with the CLI's
    C(error:) line.
options:
  config:
    description: The containerd C(config.toml) on the node.
    type: path
    default: /etc/containerd/config.toml
  certs_dir:
    description: Where the C(hosts.toml) tree goes; also the C(config_path) written into O(config).
    type: path
    default: /etc/containerd/certs.d
  containerd:
    description: The node's containerd release (C(1.6.24), C(1.7), C(2.1)); read and write as it does. Default
      the newest release the tool knows. Usually an inventory variable.
    type: str
  backup:
    description: Keep the original as C(CONFIG.bak) (an existing one is never overwritten).
    type: bool
    default: true
  force:
    description: Replace C(hosts.toml) files that registries-translator did not generate.
    type: bool
    default: false
  private:
    description: Write a config that keeps credentials, and that others can read, owner-only (0600 at most).
      The CLI keeps the mode.
    type: bool
    default: true
  pyz:
    description: Set by the action plugin. On the controller, the single-file build to copy (default
      C($REGISTRIES_TRANSLATOR_PYZ), then this collection's C(files/), then C(dist/) of the checkout).
    type: path
"""

EXAMPLES = r"""
- name: Migrate legacy registry mirrors (containerd_version from the inventory)
  fleet.registries_translator.migrate:
    config: /etc/containerd/config.toml
    certs_dir: /etc/containerd/certs.d
    containerd: "{{ containerd_version | default(omit) }}"
  notify: restart containerd
"""

RETURN = r"""
msg: {description: What was (or would be) done, or the CLI's error line., type: str, returned: always}
written: {description: Files written., type: list, elements: str, returned: always}
removed: {description: Generated files removed as no longer part of the tree., type: list, elements: str,
          returned: always}
backup: {description: The C(.bak) kept of the config, if any., type: str, returned: always}
losses: {description: What containerd would do differently after the migration (path, kind, before, after,
         reason; secrets masked)., type: list, elements: dict, returned: always}
problems: {description: What the reader noticed in the config (severity, code, message, file, line, key)., type: list,
           elements: dict, returned: always}
rc: {description: The CLI's exit code on failure (2)., type: int, returned: failure}
"""

from ansible_collections.fleet.registries_translator.plugins.module_utils.translator_task import run  # noqa: E402

SPEC = {
    "config": {"type": "path", "default": "/etc/containerd/config.toml"},
    "certs_dir": {"type": "path", "default": "/etc/containerd/certs.d"},
    "backup": {"type": "bool", "default": True},
    "force": {"type": "bool", "default": False},
    "private": {"type": "bool", "default": True},
}


def params(module):
    p = module.params
    return {"config": p["config"], "certs_dir": p["certs_dir"], "containerd": p["containerd"],
            "backup": p["backup"], "force": p["force"], "private": p["private"]}


def main():
    run("migrate", SPEC, params)


if __name__ == "__main__":
    main()
