"""Make a simulated fleet on this machine for examples/ansible/migrate.yml: node roots and an inventory.

    python3 examples/ansible/simulated_fleet.py DIR [--read-only NODE]

Each node is a directory DIR/nodes/<name> holding what a real node holds under / — its containerd
config.toml (taken from golden/: real configs that blog posts had people write, and hand-made ones),
the certificate files it names, and for one node a certs.d tree it already uses — and an inventory
line with the local connection, its `node_root`, its containerd release and, where this machine has
one, an older Python (3.9, 3.10) as its interpreter, as on RHEL 9 or Ubuntu 22.04.
`--read-only NODE` bind-mounts that node's root read-only (root only); `--undo-read-only NODE` unmounts.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "golden")
#: node name -> (golden case whose config.toml it runs, containerd release, Python wanted)
NODES = {
    "node-seed000": ("cri-seed000-full-dump", "1.6.24", "3.9"),
    "node-seed002": ("cri-seed002-k3s-v1", "1.7", "3.10"),
    "node-seed004": ("cri-seed004-guide", "1.7", None),
    "node-auth": ("cri-v2-tls-and-auth", "1.7", "3.9"),
    "node-tls-2x": ("cri-v2-tls-on-2x", "2.1", None),
    "node-wildcard": ("cri-v2-wildcard", "1.7", "3.10"),
    "node-migrated": ("cd-seed001-hand-written", "1.7", None),
}
CERT_KEYS = re.compile(r'^\s*(?:ca_file|cert_file|key_file)\s*=\s*"([^"]+)"', re.MULTILINE)
MIGRATED_CONFIG = """version = 2
[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "{certs}"
"""


def python(version: str | None) -> str:
    """An interpreter of VERSION where one is installed, else this machine's python3."""
    if version:
        found = [shutil.which(f"python{version}") or ""]
        found += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
        for candidate in found:
            if candidate and subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
                return candidate
    installed = [p for p in ("/usr/bin/python3", shutil.which("python3")) if p and os.access(p, os.X_OK)]
    return installed[0] if installed else sys.executable


def make_node(nodes: str, name: str, case: str) -> str:
    root = os.path.join(nodes, name)
    etc = os.path.join(root, "etc", "containerd")
    os.makedirs(etc)
    source = os.path.join(GOLDEN, case)
    if os.path.isdir(os.path.join(source, "certs.d")):  # a node that already uses config_path
        shutil.copytree(os.path.join(source, "certs.d"), os.path.join(etc, "certs.d"))
        text = MIGRATED_CONFIG.format(certs=os.path.join(etc, "certs.d"))
    else:
        with open(os.path.join(source, "config.toml"), encoding="utf-8") as handle:
            text = handle.read()
    with open(os.path.join(etc, "config.toml"), "w", encoding="utf-8") as handle:
        handle.write(text)
    for path in CERT_KEYS.findall(text):  # the node has the files its config names (relative: from /)
        target = os.path.join(root, path.lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as handle:
            handle.write("-----BEGIN CERTIFICATE-----\nsimulated\n-----END CERTIFICATE-----\n")
    return root


def make_fleet(directory: str) -> str:
    """DIR/nodes/* and DIR/inventory.ini; returns the inventory's path."""
    nodes = os.path.join(os.path.abspath(directory), "nodes")
    lines = ["# A simulated fleet (examples/ansible/simulated_fleet.py): each node is a directory on this machine.",
             "[containerd_nodes]"]
    for name, (case, release, version) in NODES.items():
        root = make_node(nodes, name, case)
        lines.append(f"{name} ansible_connection=local ansible_python_interpreter={python(version)} "
                     f"node_root={root} containerd_version={release} restart_containerd=false")
    inventory = os.path.join(os.path.abspath(directory), "inventory.ini")
    with open(inventory, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return inventory


def read_only(directory: str, name: str, on: bool = True) -> None:
    """Bind-mount a node's root read-only (its disk fails every write with EROFS), or undo it."""
    root = os.path.join(os.path.abspath(directory), "nodes", name)
    if on:
        subprocess.run(["mount", "--bind", root, root], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", root], check=True)
    else:
        subprocess.run(["umount", root], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--read-only", metavar="NODE")
    parser.add_argument("--undo-read-only", metavar="NODE")
    args = parser.parse_args()
    if args.read_only or args.undo_read_only:
        read_only(args.directory, args.read_only or args.undo_read_only, on=bool(args.read_only))
        return
    print(make_fleet(args.directory))


if __name__ == "__main__":
    main()
