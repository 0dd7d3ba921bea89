"""Every code `check` can report, as data: its usual severity and what it means in a few words.

The readers and `check` emit these codes; `check --select/--ignore` accept only codes listed
here (a typo in a pre-commit config must not silently select nothing), and a test fails when
a code is emitted anywhere in the package without being listed. `FIXABLE` are the codes
`check --fix` can repair mechanically (translator/fixes.py).
"""

from __future__ import annotations

#: code -> (severity it is usually reported with, what it means)
CODES: dict[str, tuple[str, str]] = {
    # the file itself
    "syntax-error": ("error", "the file is not valid YAML, TOML or JSON; the runtime refuses it"),
    "unreadable": ("error", "the file cannot be read at all (permissions, not a regular file)"),
    "invalid-input": ("error", "a value the runtime refuses (a wrong type, a broken URL, an unsupported version)"),
    "unknown-key": ("warning", "a key the runtime does not know is silently ignored"),
    # registry keys and directories
    "mirror-key-has-path": ("error", "a mirrors key or directory with a path or scheme is never consulted"),
    "misplaced-section": ("warning", "configs: or auths: indented under mirrors: becomes a mirror key that does "
                                     "nothing"),
    "mirror-key-not-a-registry": ("warning", "no image reference names this registry"),
    "hub-alias-key": ("warning", "index.docker.io / registry-1.docker.io keys are never used; references "
                                 "normalise to docker.io"),
    "wildcard-directory": ("warning", "a directory named '*' is never used; the fallback is _default"),
    "not-a-host-directory": ("warning", "a certs.d directory that is not a registry host name"),
    "host-entry-not-directory": ("error", "a file where containerd looks for a host directory"),
    "shadowed-directory": ("warning", "host_port_ and host:port directories for one registry: one hides the "
                                      "other"),
    "empty-certs-dir": ("warning", "a certs.d directory with no host directory in it: nothing is configured"),
    "empty-host-dir-hides-default": ("warning", "a directory without hosts.toml or certificates hides _default"),
    # what depends on the containerd release (translator/releases.py)
    "hosts-toml-ignored": ("error", "containerd fails to decode this hosts.toml and ignores it, server included"),
    "config-version-unsupported": ("error", "a config version the release refuses, or reads as version 2"),
    "versionless-config-ignored": ("warning", "a file without version whose registry section the release ignores"),
    "legacy-tls-ignored": ("warning", "registry.configs.*.tls, dropped by containerd 2.x"),
    "default-dir-unsupported": ("warning", "_default, which containerd before 1.6.17 never reads"),
    "dial-timeout-unsupported": ("info", "dial_timeout, which containerd before 2.0.7 ignores"),
    "default-config-path": ("info", "containerd 2.2.2+ reads the default certs.d directories for this config"),
    "host-not-a-table": ("warning", "a host written as a dotted key or inline table: containerd 2.x never lists it"),
    "server-without-host": ("error", "a server URL with no host: containerd uses the default upstream"),
    "host-without-host": ("error", "a [host] URL with no host: every request to it fails"),
    # legacy CRI section
    "mirrors-with-config-path": ("error", "mirrors together with config_path: the CRI plugin fails to load"),
    "tls-with-config-path": ("error", "configs.*.tls together with config_path: containerd 1.x CRI fails to load"),
    "tls-ignored-in-v3": ("error", "configs.*.tls in a version 3 config is dropped by containerd 2.x"),
    "v1-file-with-v2-keys": ("warning", "a version 1 file with version 2 plugin keys: 1.x ignores them"),
    "short-plugin-key-in-v2": ("error", "version = 2 with [plugins.cri]: containerd 1.x refuses to start"),
    "v3-file-with-v2-keys": ("error", "a version 3 file with version 2 registry keys: they are ignored"),
    "registry-1-twice": ("warning", "registry-1.docker.io listed for docker.io is tried twice"),
    "legacy-root-path": ("warning", "a legacy endpoint path is used verbatim, without /v2"),
    "auths-deprecated": ("warning", "auths is deprecated and its host:port keys are misparsed"),
    "colon-config-path": ("warning", "a config_path list: transfer-service pulls find nothing"),
    "mirrors-deprecated": ("info", "containerd 2.x logs a deprecation warning for mirrors and configs"),
    "ctr-ignores-cri": ("info", "ctr and nerdctl ignore the CRI registry section"),
    # credentials and TLS
    "hub-auth-key": ("warning", "Docker Hub credentials or TLS keyed docker.io are looked up as "
                                "registry-1.docker.io"),
    "wildcard-auth": ("warning", "configs.\"*\".auth is never used"),
    "auth-keyed-by-registry": ("warning", "credentials follow the endpoint host:port, not the registry"),
    "http-with-tls": ("warning", "an http:// host with TLS settings goes HTTPS-first on newer containerd"),
    "server-tls-mismatch": ("warning", "the same URL as server and [host], with TLS on only one"),
    "client-empty-key": ("error", "client = [[cert, \"\"]]: the empty key becomes the host directory"),
    "lone-cert-or-key": ("error", "only one of cert_file and key_file"),
    "relative-cert-path": ("warning", "a relative certificate path resolves against a directory you may not "
                                      "expect"),
    "missing-cert-file": ("error", "a certificate file that does not exist on the node"),
    "plaintext-password-world-readable": ("warning", "credentials in a file others can read"),
    "wildcard-tls-dropped": ("warning", "k3s drops configs[\"*\"].tls beside mirrors[\"*\"]"),
    # endpoints and hosts
    "duplicate-endpoint": ("warning", "the same URL twice (an error in hosts.toml, where it makes the file "
                                      "ignored)"),
    "invalid-endpoint": ("warning", "an endpoint k3s cannot parse is skipped"),
    "host-without-scheme": ("warning", "a host key without a scheme gets https://"),
    "path-gets-v2": ("warning", "a hosts.toml path not ending in /v2 gets /v2 appended"),
    "no-host-table": ("warning", "hosts.toml without [host] is ignored by containerd 1.5-1.7.31"),
    "referrers-capability": ("warning", "the referrers capability makes containerd before 2.2 ignore the file"),
    "rewrite-on-vanilla": ("warning", "rewrite is honoured only by k3s's containerd"),
    "no-default-ignored": ("warning", "--no-default-endpoint does not apply to a registry with a configs entry"),
    # crictl info, Docker daemon.json, containers-registries.conf
    "config-path-not-here": ("warning", "the tree crictl info's configPath names is not on this machine"),
    "docker-invalid-mirror": ("error", "a registry-mirrors entry dockerd refuses: it does not start"),
    "docker-invalid-insecure": ("error", "an insecure-registries entry dockerd refuses: it does not start"),
    "docker-unknown-directive": ("error", "a removed or misspelled daemon.json key: dockerd does not start"),
    "insecure-with-scheme": ("warning", "an insecure-registries entry with http:// or https://, which dockerd strips"),
    "insecure-docker-hub": ("warning", "Docker Hub in insecure-registries: dockerd ignores it"),
    "hosts-toml-containerd-store-only": ("info", "only Docker's containerd image store reads hosts.toml"),
    "registries-conf-rejected": ("error", "a registries.conf containers/image refuses: every pull fails"),
    "registries-conf-v1": ("error", "a version 1 registries.conf: deprecated; write version 2"),
    "invalid-location": ("error", "a registries.conf location that is not a host: pulls matching it fail"),
    "duplicate-prefix": ("warning", "a prefix given twice in one registries.conf: only the first counts"),
    "hub-prefix-not-normalised": ("info", "a docker.io/<name> prefix matches only that namespace"),
    "no-unqualified-search": ("info", "no unqualified-search-registries: short names do not resolve"),
}

#: codes `check --fix` repairs by editing the file
FIXABLE = frozenset({"registry-1-twice", "hub-auth-key", "auths-deprecated", "unknown-key", "mirror-key-has-path",
                     "no-host-table"})


def parse_list(values: list[str] | None) -> set[str]:
    """`--select a,b --select c` -> {"a", "b", "c"}; raises ValueError naming an unknown code."""
    codes: set[str] = set()
    for value in values or []:
        for code in value.split(","):
            code = code.strip()
            if not code:
                continue
            if code not in CODES:
                close = [c for c in CODES if code in c or c in code]
                hint = f" (did you mean {', '.join(sorted(close)[:3])}?)" if close else ""
                raise ValueError(f"unknown check code {code!r}{hint}")
            codes.add(code)
    return codes
