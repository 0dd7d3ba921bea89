"""`check`: the known pitfalls of SEMANTICS.md §7, each with a stable code, a place and a fix.

Most findings come from the readers, which see the keys and lines; this module adds what
needs the whole model (credentials keyed by a host that is never contacted, registry names
no image reference can produce) or the file system (certificate files that do not exist,
a password in a file others can read). Input the readers refuse is reported under its code
too, so that `check` lists a problem where `convert` stops.
"""

from __future__ import annotations

import os

from . import endpoints as ep_rules
from . import files, formats
from .errors import InputError, Problem
from .model import WILDCARD, Config


def _contacted(config: Config) -> dict[str, set[str]]:
    """{endpoint host: the registries that contact it}."""
    hosts: dict[str, set[str]] = {}
    for host in config.hosts.values():
        for endpoint in host.endpoints:
            if endpoint.url:
                hosts.setdefault(endpoint.hostport, set()).add(host.name)
    return hosts


def model_problems(config: Config, name: str) -> list[Problem]:
    problems = []
    contacted = _contacted(config)
    by_host: dict[str, list[str]] = {}  # bare host -> contacted host:port, indexed once (10k keys x 10k hosts)
    for contacted_host in sorted(contacted):
        by_host.setdefault(ep_rules.split_host_port(contacted_host)[0], []).append(contacted_host)
    for registry in config.hosts:
        if registry == WILDCARD or registry.startswith("["):
            continue
        if "." not in registry and ":" not in registry and registry != "localhost":
            problems.append(Problem("warning", "mirror-key-not-a-registry",
                                    f"no image reference names registry {registry!r}: a first component without "
                                    "'.' or ':' is a Docker Hub namespace", "use the registry's full host name",
                                    file=name, key=registry))
    for key in config.auth:
        if key == WILDCARD or key in ep_rules.HUB_ALIASES or key == ep_rules.DOCKER_HUB:
            continue
        host, _port = ep_rules.split_host_port(key)
        same_host = [c for c in by_host.get(host, ()) if c != key]
        only_itself = contacted.get(key, set()) <= {key}
        if same_host and only_itself:
            problems.append(Problem("warning", "auth-keyed-by-registry",
                                    f"credentials keyed {key!r}, but the endpoint contacted is {same_host[0]!r}: "
                                    "credentials follow the endpoint host:port", f"key them {same_host[0]!r}",
                                    file=name, key=f"configs.{key}.auth"))
        elif key in config.hosts and key not in contacted:
            problems.append(Problem("warning", "auth-keyed-by-registry",
                                    f"credentials keyed by registry {key!r}, whose own host is never contacted "
                                    "(its mirrors are elsewhere and it has no fallback)",
                                    "key the credentials by each mirror's host:port", file=name,
                                    key=f"configs.{key}.auth"))
    if config.source_format == "registries-yaml":
        for host in config.hosts.values():
            for endpoint in host.endpoints:
                if endpoint.scheme == "http" and endpoint.has_tls():
                    problems.append(Problem("warning", "http-with-tls",
                                            f"{endpoint.url} is http:// but has TLS settings: in hosts.toml they make "
                                            "containerd 1.7.7+ and 2.x try HTTPS first (k3s#13379)",
                                            "write https://, or drop the TLS settings", file=name,
                                            key=f"configs.{endpoint.hostport}.tls"))
    return problems


def file_problems(config: Config, path: str, root: str | None = None) -> list[Problem]:
    """Problems that depend on the node: certificate files that must exist (looked up under ROOT,
    the node's file system as seen from here, when given) and a password in a file others can read."""
    problems = []
    seen = set()
    for host in config.hosts.values():
        for endpoint in host.endpoints:
            paths = list(endpoint.ca) + [p for pair in endpoint.client for p in pair if p]
            for cert in paths:
                if cert in seen or not os.path.isabs(cert):
                    continue
                seen.add(cert)
                on_node = os.path.join(root, cert.lstrip("/")) if root else cert
                if not files.exists(on_node):
                    where = f" under {root}" if root else " here"
                    problems.append(Problem("error", "missing-cert-file",
                                            f"certificate file {cert} does not exist{where}; containerd fails every "
                                            "pull through this host while it is missing",
                                            "install the file, or fix the path", file=path, key=host.name))
    has_secret = any(a.password or a.auth or a.identitytoken for a in config.auth.values())
    if has_secret and path != "-" and not files.is_dir(path):
        mode = files.file_mode(path)
        if mode is not None and mode & 0o077:
            problems.append(Problem("warning", "plaintext-password-world-readable",
                                    f"the file holds credentials and has mode {mode:04o}", f"chmod 600 {path}",
                                    file=path))
    return problems


def check_config(config: Config, path: str, root: str | None = None) -> list[Problem]:
    found = list(config.problems) + model_problems(config, path) + file_problems(config, path, root)
    unique: dict[tuple[str, str, str], Problem] = {}
    for problem in found:
        unique.setdefault((problem.code, problem.where, problem.message), problem)
    return sorted(unique.values(), key=_position)


def _position(problem: Problem) -> tuple[str, int]:
    """Findings in file order: by file, then line (those without a line first)."""
    return problem.file or problem.key or "", problem.line or 0


def check_path(path: str, fmt: str | None = None, root: str | None = None,
               options: formats.ReadOptions | None = None) -> list[Problem]:
    """Every problem of the configuration at PATH; a file that cannot be read at all is one problem
    (its code and line), never an exception."""
    try:
        config = formats.read(path, fmt, options or formats.ReadOptions())
    except InputError as exc:
        return [Problem("error", exc.code, exc.message, exc.fix or "", file=exc.file or path, line=exc.line)]
    return check_config(config, path, root)


def exit_code(problems: list[Problem], strict: bool) -> int:
    if any(p.severity == "error" for p in problems):
        return 1
    if strict and any(p.severity == "warning" for p in problems):
        return 1
    return 0
