"""`check`: each pitfall of SEMANTICS.md §7 is found with its code where it is, and not where it is not."""

from __future__ import annotations

import os

import pytest

from translator.check import check_path

V2 = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry'
V3 = 'version = 3\n[plugins."io.containerd.cri.v1.images".registry'


def write_source(tmp_path, source: str | dict[str, str], mode: int = 0o600) -> str:
    if isinstance(source, dict):
        root = tmp_path / "certs.d"
        for rel, text in source.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return str(root)
    name, text = source.split("\n", 1)
    path = tmp_path / name
    path.write_text(text)
    os.chmod(path, mode)
    return str(path)


# (code, severity, source that triggers it) -- a source is "file-name\ncontent" or a certs.d tree
PITFALLS = [
    ("mirror-key-has-path", "error", f'c.toml\n{V2}.mirrors."docker.io/library"]\n  endpoint = ["https://m"]\n'),
    ("mirror-key-has-path", "error", 'r.yaml\nmirrors:\n  "docker.io/library":\n    endpoint: ["https://m"]\n'),
    ("hub-alias-key", "warning", 'r.yaml\nmirrors:\n  index.docker.io:\n    endpoint: ["https://m.example.com"]\n'),
    ("hub-alias-key", "warning", {"index.docker.io/hosts.toml": '[host."https://m.example.com"]\n'}),
    ("mirrors-with-config-path", "error", f'c.toml\n{V2}]\n  config_path = "/etc/containerd/certs.d"\n'
                                          f'{V2[12:]}.mirrors."docker.io"]\n  endpoint = ["https://m.example.com"]\n'),
    # containerd 1.x fails to load the CRI plugin; 2.x (the default, newest release) drops the TLS instead
    ("tls-with-config-path", "warning", f'c.toml\n{V2}]\n  config_path = "/nonexistent"\n'
                                      f'{V2[12:]}.configs."m.example.com".tls]\n  ca_file = "/ca.pem"\n'),
    ("tls-ignored-in-v3", "error", f'c.toml\n{V3}.configs."m.example.com".tls]\n  ca_file = "/ca.pem"\n'),
    ("hub-auth-key", "warning", 'r.yaml\nconfigs:\n  docker.io:\n    auth: {username: u, password: p}\n'),
    ("hub-auth-key", "warning", f'c.toml\n{V2}.configs."https://index.docker.io/v1/".auth]\n  username = "u"\n'),
    ("wildcard-auth", "warning", 'r.yaml\nconfigs:\n  "*":\n    auth: {username: u, password: p}\n'),
    ("auth-keyed-by-registry", "warning", 'r.yaml\nmirrors:\n  docker.io:\n    endpoint: '
                                          '["https://r.example.com:5000"]\nconfigs:\n  r.example.com:\n'
                                          '    auth: {username: u, password: p}\n'),
    ("http-with-tls", "warning", {"docker.io/hosts.toml": '[host."http://m.example.com:5000"]\n  ca = "/ca.pem"\n'}),
    ("http-with-tls", "warning", 'r.yaml\nmirrors:\n  docker.io:\n    endpoint: ["http://m.example.com"]\n'
                                 'configs:\n  m.example.com:\n    tls: {insecure_skip_verify: true}\n'),
    ("no-host-table", "warning", {"docker.io/hosts.toml": 'server = "https://m.example.com"\n'}),
    ("empty-host-dir-hides-default", "warning", {"ghcr.io/.keep": "", "_default/hosts.toml": "[host]\n"}),
    # nothing but config_path: 2.1+ pulls through the transfer service, which does not split the list
    ("colon-config-path", "error", f'c.toml\n{V2}]\n  config_path = "/nonexistent/a:/nonexistent/b"\n'),
    ("client-empty-key", "error", {"docker.io/hosts.toml": '[host."https://m.example.com"]\n'
                                                           '  client = [["/c.pem", ""]]\n'}),
    ("lone-cert-or-key", "error", 'r.yaml\nconfigs:\n  m.example.com:\n    tls: {cert_file: /c.pem}\n'),
    ("lone-cert-or-key", "error", f'c.toml\n{V2}.configs."m.example.com".tls]\n  key_file = "/k.pem"\n'),
    ("ctr-ignores-cri", "info", f'c.toml\n{V2}.mirrors."docker.io"]\n  endpoint = ["https://m.example.com"]\n'),
    ("v1-file-with-v2-keys", "warning", 'c.toml\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n'
                                        '  endpoint = ["https://m.example.com"]\n'),
    ("short-plugin-key-in-v2", "error", 'c.toml\nversion = 2\n[plugins.cri.registry.mirrors."docker.io"]\n'
                                        '  endpoint = ["https://m.example.com"]\n'),
    ("v3-file-with-v2-keys", "error", 'c.toml\nversion = 3\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors.'
                                      '"docker.io"]\n  endpoint = ["https://m.example.com"]\n'),
    ("duplicate-endpoint", "warning", 'r.yaml\nmirrors:\n  docker.io:\n    endpoint: [m.example.com, '
                                      '"https://m.example.com/v2"]\n'),
    ("duplicate-endpoint", "error", {"docker.io/hosts.toml": '[host."https://m.example.com"]\n'
                                                             '[host."https://m.example.com/v2"]\n'}),
    ("duplicate-endpoint", "warning", f'c.toml\n{V2}.mirrors."quay.io"]\n  endpoint = ["https://m.example.com", '
                                      '"https://m.example.com/"]\n'.replace('/"]', '"]')),
    ("registry-1-twice", "warning", f'c.toml\n{V2}.mirrors."docker.io"]\n  endpoint = ["https://m.example.com", '
                                    '"https://registry-1.docker.io"]\n'),
    ("path-gets-v2", "warning", {"docker.io/hosts.toml": '[host."https://m.example.com/prefix"]\n'}),
    ("legacy-root-path", "warning", f'c.toml\n{V2}.mirrors."docker.io"]\n  endpoint = ["https://m.example.com/"]\n'),
    ("referrers-capability", "warning", {"docker.io/hosts.toml": '[host."https://m.example.com"]\n'
                                                                 '  capabilities = ["pull", "referrers"]\n'}),
    ("host-without-scheme", "warning", {"docker.io/hosts.toml": '[host."m.example.com"]\n'}),
    ("host-without-scheme", "error", {"docker.io/hosts.toml": '[host."httpcache.local"]\n'}),
    ("server-tls-mismatch", "warning", {"docker.io/hosts.toml": 'server = "https://m.example.com"\n'
                                                                '[host."https://m.example.com"]\n  ca = "/ca.pem"\n'}),
    ("unknown-key", "warning", 'r.yaml\nmirrors:\n  docker.io:\n    endpoints: ["https://m.example.com"]\n'),
    ("unknown-key", "warning", {"docker.io/hosts.toml": '[host."https://m.example.com"]\n  skip-verify = true\n'}),
    ("unknown-key", "warning", {"docker.io/hosts.toml": '[host."https://m.example.com"]\n  server = "https://x"\n'}),
    ("unknown-key", "warning", 'r.yaml\nconfigs:\n  m.example.com:\n    auth: {token: abc}\n'),
    ("rewrite-on-vanilla", "warning", {"docker.io/hosts.toml": '[host."https://m.example.com"]\n'
                                                               '  [host."https://m.example.com".rewrite]\n'
                                                               '    "^a/(.*)" = "b/$1"\n'}),
    ("auths-deprecated", "warning", f'c.toml\n{V2}.auths."https://gcr.io"]\n  username = "u"\n'),
    ("auths-deprecated", "error", f'c.toml\n{V2}.auths."10.0.0.1:5000"]\n  username = "u"\n'),
    ("relative-cert-path", "warning", 'r.yaml\nconfigs:\n  m.example.com:\n    tls: {ca_file: certs/ca.pem}\n'),
    ("relative-cert-path", "warning", f'c.toml\n{V2}.configs."m.example.com".tls]\n  ca_file = "ca.pem"\n'),
    ("relative-cert-path", "warning", {"docker.io/hosts.toml": '[host."https://m.example.com"]\n  ca = "ca.pem"\n'}),
    ("relative-cert-path", "error", {"docker.io/hosts.toml": '[host."https://m.example.com"]\n  ca = ""\n'}),
    ("relative-cert-path", "error", {"docker.io/hosts.toml": '[host."https://m.example.com"]\n'
                                                             '  client = ["/etc/c.pem", ""]\n'}),
    ("mirror-key-not-a-registry", "warning", f'c.toml\n{V2}.mirrors."my-app"]\n  endpoint = ["https://m.example.com"]\n'),
    ("missing-cert-file", "error", 'r.yaml\nconfigs:\n  m.example.com:\n    tls: {ca_file: /nonexistent/ca.pem}\n'),
    # seed 003's docker.io/library trick, made as a directory: containerd reads <host>/hosts.toml only
    ("mirror-key-has-path", "warning", {"docker.io/library/hosts.toml": '[host."https://m.example.com"]\n'}),
]


@pytest.mark.parametrize("code,severity,source", PITFALLS, ids=[f"{p[0]}-{i}" for i, p in enumerate(PITFALLS)])
def test_pitfall_is_found(tmp_path, code: str, severity: str, source) -> None:
    problems = check_path(write_source(tmp_path, source))
    found = [p for p in problems if p.code == code]
    assert found, [p.text() for p in problems]
    assert found[0].severity == severity
    assert found[0].where and found[0].message


CLEAN = [
    'r.yaml\nmirrors:\n  docker.io:\n    endpoint: ["https://m.example.com", "https://n.example.com/v2"]\n'
    '  r.example.com:5000:\n    endpoint: ["https://r.example.com:5000"]\nconfigs:\n  r.example.com:5000:\n'
    '    auth: {username: u, password: p}\n  registry-1.docker.io:\n    auth: {username: u, password: p}\n',
    {"docker.io/hosts.toml": 'server = "https://registry-1.docker.io"\n\n[host]\n\n'
                             '[host."https://m.example.com/v2"]\n  capabilities = ["pull", "resolve"]\n'},
    f'c.toml\n{V2}]\n  config_path = "/nonexistent"\n'
    f'{V2[12:]}.configs."registry-1.docker.io".auth]\n  username = "u"\n',
]


@pytest.mark.parametrize("source", CLEAN)
def test_clean_configs_have_no_warnings(tmp_path, source) -> None:
    problems = [p for p in check_path(write_source(tmp_path, source)) if p.severity != "info"]
    assert problems == [], [p.text() for p in problems]


def test_world_readable_password(tmp_path) -> None:
    text = "r.yaml\nconfigs:\n  m.example.com:\n    auth: {username: u, password: p4ssw0rd}\n"
    loose = check_path(write_source(tmp_path, text, mode=0o644))
    assert any(p.code == "plaintext-password-world-readable" for p in loose)
    strict = check_path(write_source(tmp_path, text, mode=0o600))
    assert not any(p.code == "plaintext-password-world-readable" for p in strict)
    header = {"docker.io/hosts.toml": '[host."https://m.example.com"]\n  [host."https://m.example.com".header]\n'
                                      '    Authorization = "Basic dTpw"\n'}
    root = write_source(tmp_path, header)
    os.chmod(os.path.join(root, "docker.io", "hosts.toml"), 0o644)
    assert any(p.code == "plaintext-password-world-readable" for p in check_path(root))
    os.chmod(os.path.join(root, "docker.io", "hosts.toml"), 0o600)
    assert not any(p.code == "plaintext-password-world-readable" for p in check_path(root))


def test_existing_certificate_files_are_fine(tmp_path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    problems = check_path(write_source(tmp_path, f"r.yaml\nconfigs:\n  m.example.com:\n    tls: {{ca_file: {ca}}}\n"))
    assert not any(p.code == "missing-cert-file" for p in problems)
