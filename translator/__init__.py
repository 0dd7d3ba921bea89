"""registries-translator: container-registry configuration between k3s registries.yaml,
containerd config.toml (versions 1, 2, 3) and certs.d hosts.toml trees.

The public API, imported lazily so that `import translator` stays cheap:

    read(path, fmt=None) -> Config
    convert(path, ConvertOptions(to="certs-d")) -> Conversion
    diff(a, b) -> list[Change]
    resolve(image, config, fmt) -> Resolution
    check(path, fmt=None) -> list[Problem]
"""

from __future__ import annotations

from typing import Any

__version__ = "0.2.0"

__all__ = ["__version__", "check", "convert", "diff", "read", "resolve"]


def __getattr__(name: str) -> Any:
    if name == "read":
        from .formats import read

        return read
    if name == "convert":
        from .convert import convert

        return convert
    if name == "diff":
        from .diff import diff_paths

        return diff_paths
    if name == "resolve":
        from .resolve import resolve

        return resolve
    if name == "check":
        from .check import check_path

        return check_path
    raise AttributeError(name)
