"""The peer of `make bench` (a reference figure, no target): a certs.d tree rendered the way
kubespray writes one, a Jinja2 template rendered once per registry and written to
<dir>/hosts.toml. Run as `python bench/peer.py REGISTRIES_YAML OUT`.

It parses the registries.yaml with libyaml and renders server, mirrors and CA; it reports no
losses, validates nothing and reads nothing back, so it is a peer to compare with, not a floor.
"""

import sys

TEMPLATE = """\
server = "{{ item.server }}"
{% if item.ca %}ca = ["{{ item.ca | join('", "') }}"]
{% endif %}
{% for mirror in item.mirrors %}
[host."{{ mirror.host }}"]
  capabilities = ["{{ mirror.capabilities | join('", "') }}"]
  skip_verify = {{ mirror.skip_verify | default(false) | string | lower }}
  override_path = {{ mirror.override_path | default(false) | string | lower }}
{% endfor %}
"""


def render(source: str, out: str) -> None:
    """Render one hosts.toml per registry of SOURCE under the new directory OUT."""
    import os

    import jinja2
    import yaml

    with open(source, "rb") as handle:
        config = yaml.load(handle, Loader=yaml.CSafeLoader) or {}
    configs = config.get("configs") or {}
    template = jinja2.Environment(keep_trailing_newline=True).from_string(TEMPLATE)
    os.mkdir(out)
    for name, mirror in (config.get("mirrors") or {}).items():
        tls = (configs.get(name) or {}).get("tls") or {}
        item = {
            "server": f"https://{name}",
            "ca": [tls["ca_file"]] if tls.get("ca_file") else [],
            "mirrors": [{"host": endpoint, "capabilities": ["pull", "resolve"], "override_path": True}
                        for endpoint in mirror.get("endpoint") or []],
        }
        directory = os.path.join(out, name)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "hosts.toml"), "w") as handle:
            handle.write(template.render(item=item))


if __name__ == "__main__":
    render(sys.argv[1], sys.argv[2])
