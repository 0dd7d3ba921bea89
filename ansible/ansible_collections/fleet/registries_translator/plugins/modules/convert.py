#!/usr/bin/python
"""Ansible module: `registries-translator convert` on the node."""

from __future__ import annotations

DOCUMENTATION = r"""
module: convert
short_description: Convert container-registry configuration on the node, and report what does not survive
description:
  - Runs C(registries-translator convert SRC --to TO -o DEST [--cri-config FILE]) on the node with its own
    Python (3.9 or newer); the action plugin copies the single-file build there first.
  - A node leaving k3s, for example, gets a certs.d tree from its C(registries.yaml) and the C(config_path)
    and credentials that go with it in containerd's C(config.toml).
  - Check mode and C(--diff) show C(convert --dry-run)'s plan (create, replace, remove) and the diff of each
    file, secrets masked. Nothing is rewritten, and C(changed) is false, when no file's content or mode would
    change.
  - Written whole or not at all, locked; a replaced single file or config is kept as C(.bak); files that hold
    credentials are written 0600.
options:
  src:
    description: The source on the node (a file or a certs.d directory). Exactly one of O(src) and O(content).
    type: path
  content:
    description: The source itself, for instance a C(registries.yaml) templated from vaulted variables. Never
      logged; written 0600 to the task's temporary directory on the node and removed with it.
    type: str
  source_format:
    description: The source's format (detected when omitted); required with O(content) unless it is YAML or TOML
      that tells.
    type: str
  to:
    description: Target format (certs-d, cri-v1, cri-v2, cri-v3, registries-yaml, docker-daemon, registries-conf).
    type: str
    required: true
  dest:
    description: The output file, or the directory for certs-d.
    type: path
  cri_config:
    description: For certs-d, the containerd C(config.toml) to create or update beside the tree (C(config_path),
      credentials); for a certs-d source, where its credentials are read from.
    type: path
  config_path:
    description: The C(config_path) to write into O(cri_config) (default the absolute O(dest)).
    type: str
  keep_rewrites: {description: Write k3s rewrite tables (for k3s's own containerd)., type: bool, default: false}
  no_default_endpoint: {description: "k3s's --disable-default-registry-endpoint.", type: bool, default: false}
  certs_dir: {description: "crictl-info source: where the tree its configPath names is.", type: path}
  docker_certs_dir: {description: "docker-daemon: Docker's certificate directory.", type: path}
  containerd: {description: The node's containerd release (default the newest the tool knows)., type: str}
  strict: {description: Fail, writing nothing, when anything would be lost., type: bool, default: false}
  force: {description: Replace hosts.toml files registries-translator did not generate., type: bool, default: false}
  pyz: {description: Set by the action plugin (see the migrate module)., type: path}
"""

EXAMPLES = r"""
- name: A node leaving k3s - its registries.yaml as a certs.d tree for vanilla containerd
  fleet.registries_translator.convert:
    src: /etc/rancher/k3s/registries.yaml
    to: certs-d
    dest: /etc/containerd/certs.d
    cri_config: /etc/containerd/config.toml
    containerd: "{{ containerd_version | default(omit) }}"
"""

RETURN = r"""
msg: {description: What was (or would be) done, or the CLI's error line., type: str, returned: always}
written: {description: Files written., type: list, elements: str, returned: always}
removed: {description: Generated files removed., type: list, elements: str, returned: always}
backups: {description: C(.bak) files taken., type: list, elements: str, returned: always}
losses: {description: What the target cannot hold (path, kind, before, after, reason; masked)., type: list,
         elements: dict, returned: always}
problems: {description: What the reader noticed in the source., type: list, elements: dict, returned: always}
verified: {description: The outcome of reading what was written back from the disk., type: str, returned: changed}
"""

import os  # noqa: E402

from ansible_collections.fleet.registries_translator.plugins.module_utils.translator_task import run  # noqa: E402

SPEC = {
    "src": {"type": "path"},
    "content": {"type": "str", "no_log": True},
    "source_format": {"type": "str"},
    "to": {"type": "str", "required": True},
    "dest": {"type": "path"},
    "cri_config": {"type": "path"},
    "config_path": {"type": "str"},
    "keep_rewrites": {"type": "bool", "default": False},
    "no_default_endpoint": {"type": "bool", "default": False},
    "certs_dir": {"type": "path"},
    "docker_certs_dir": {"type": "path"},
    "strict": {"type": "bool", "default": False},
    "force": {"type": "bool", "default": False},
}


def params(module):
    p = module.params
    src = p["src"]
    if (src is None) == (p["content"] is None):
        module.fail_json(msg="give exactly one of src and content")
    if src is None:
        src = os.path.join(module.tmpdir, "source")
        descriptor = os.open(src, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(p["content"])
    names = ("to", "dest", "source_format", "cri_config", "config_path", "keep_rewrites", "no_default_endpoint",
             "certs_dir", "docker_certs_dir", "containerd", "strict", "force")
    return {"src": src, **{name: p[name] for name in names}}


def main():
    run("convert", SPEC, params)


if __name__ == "__main__":
    main()
