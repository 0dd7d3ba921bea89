"""Build dist/registries-translator.pyz: the tool in one file for a node's own python3 (3.9+).

    python packaging/build_zipapp.py [--out dist/registries-translator.pyz] [--wheels build/bundle-wheels]

The archive holds translator/ from this checkout and the libraries pinned in packaging/bundle.txt
(pip downloads them once into the wheel cache, hashes checked; an offline build works from a full
cache). Nothing is compiled and nothing is platform-specific: PyYAML contributes only its Python
files. The same inputs give the same bytes: entries in name order, fixed times and modes.
Run it as `python3 registries-translator.pyz convert ...`, or directly (`#!/usr/bin/env python3`).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCK = os.path.join(ROOT, "packaging", "bundle.txt")
DEFAULT_OUT = os.path.join(ROOT, "dist", "registries-translator.pyz")
DEFAULT_WHEELS = os.path.join(ROOT, "build", "bundle-wheels")
#: PyYAML has no pure wheel: one pinned binary wheel, of which only the Python files are taken
BINARY = {"pyyaml": ["--platform", "manylinux2014_x86_64", "--implementation", "cp", "--abi", "cp39"]}
PURE = ["--platform", "any", "--implementation", "py", "--abi", "none"]
DATE = (1980, 1, 1, 0, 0, 0)
MAIN = '''\
"""registries-translator, the single-file build: `python3 registries-translator.pyz --help`."""
import os

os.environ.setdefault("TYPER_USE_RICH", "0")  # rich is not bundled; the CLI never uses it
from translator.cli import entry  # noqa: E402

entry()
'''


def pinned() -> list[tuple[str, str, str]]:
    """(name, requirement line, sha256) for every line of packaging/bundle.txt."""
    found = []
    with open(LOCK, encoding="utf-8") as handle:
        for raw in handle:
            line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
            if not line:
                continue
            requirement, _, digest = line.partition(" --hash=sha256:")
            found.append((requirement.split("==")[0].lower().replace("_", "-"), line, digest.strip()))
    return found


def _sha256(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _cached(wheels: str) -> dict[str, str]:
    return {_sha256(os.path.join(wheels, f)): os.path.join(wheels, f) for f in sorted(os.listdir(wheels))
            if f.endswith(".whl")}


def fetch(wheels: str) -> dict[str, str]:
    """name -> wheel path in the cache, downloading with pip what is missing (hashes required)."""
    os.makedirs(wheels, exist_ok=True)
    wanted = pinned()
    cached = _cached(wheels)
    for name, line, digest in wanted:
        if digest in cached:
            continue
        request = os.path.join(wheels, f".{name}.txt")
        with open(request, "w", encoding="utf-8") as handle:
            handle.write(line + "\n")
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--require-hashes", "--only-binary=:all:", "--python-version", "3.9",
                        *BINARY.get(name, PURE), "--dest", wheels, "-r", request], check=True)
        os.remove(request)
    cached = _cached(wheels)
    return {name: cached[digest] for name, _line, digest in wanted}


def _wanted(name: str, archive_name: str) -> bool:
    """Which members of a wheel go into the archive: everything but compiled code and RECORD."""
    if archive_name.endswith("/") or archive_name.endswith((".so", ".pyd", ".pyc")) or "/RECORD" in archive_name:
        return False
    return not (name == "pyyaml" and archive_name.startswith("_yaml/"))


def members(wheel_paths: dict[str, str]) -> dict[str, bytes]:
    """Archive name -> content: translator/ from this checkout, then every wheel's files."""
    out: dict[str, bytes] = {}
    package = os.path.join(ROOT, "translator")
    for directory, subdirs, names in os.walk(package):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        for file_name in names:
            if file_name.endswith(".py"):
                path = os.path.join(directory, file_name)
                with open(path, "rb") as handle:
                    out[os.path.relpath(path, ROOT).replace(os.sep, "/")] = handle.read()
    for name, wheel in sorted(wheel_paths.items()):
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                if _wanted(name, info.filename):
                    if info.filename in out:
                        raise SystemExit(f"error: {info.filename} is in two wheels")
                    out[info.filename] = archive.read(info)
    out["__main__.py"] = MAIN.encode("utf-8")
    return out


def archive_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    buffer.write(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, whatever the build machine is
            archive.writestr(info, files[name], compresslevel=9)
    return buffer.getvalue()


def build(out: str = DEFAULT_OUT, wheels: str = DEFAULT_WHEELS) -> str:
    data = archive_bytes(members(fetch(wheels)))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    temp = out + ".tmp"
    with open(temp, "wb") as handle:
        handle.write(data)
    os.chmod(temp, 0o755)
    os.replace(temp, out)
    return hashlib.sha256(data).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--wheels", default=DEFAULT_WHEELS, help="the download cache")
    args = parser.parse_args()
    digest = build(args.out, args.wheels)
    print(f"{os.path.relpath(args.out)}: {os.path.getsize(args.out)} bytes, sha256 {digest}")


if __name__ == "__main__":
    main()
