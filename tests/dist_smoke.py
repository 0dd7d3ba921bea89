"""Run the single-file build the way a node's bare python3 runs it (tests/test_dist.py starts this).

    python -I -S tests/dist_smoke.py PYZ [--hide] backends     # JSON: which TOML and YAML code is used
    python -I -S tests/dist_smoke.py PYZ [--hide] golden       # every golden case, with the bundled libraries
    python -I -S tests/dist_smoke.py PYZ [--hide] cli ARGS...  # the CLI, as `python3 PYZ ARGS...`

`-I -S`: no site-packages, no user site, no PYTHONPATH: only the standard library and the build.
`--hide` makes `tomllib` and libyaml's C extension (`_yaml`, `yaml._yaml`) impossible to import,
as on Python 3.9/3.10 and on a node without libyaml, so the fallbacks (tomli, PyYAML's pure-Python
loader and dumper) are what runs. Kept free of newer syntax: it runs on Python 3.9 too.
"""

import json
import os
import runpy
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HIDDEN = ("tomllib", "_yaml", "yaml._yaml")


class Hide:
    """A meta path finder that refuses the HIDDEN modules, before any other finder is asked."""

    def find_spec(self, name, path=None, target=None):
        if name in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by tests/dist_smoke.py)", name=name)
        return None


def backends() -> None:
    import yaml

    from translator.compat import tomllib

    print(json.dumps({"toml": tomllib.__name__, "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
                      "csafeloader": hasattr(yaml, "CSafeLoader"), "translator": os.path.dirname(
                          sys.modules["translator"].__file__), "python": list(sys.version_info[:2])}))


def golden() -> None:
    """Every golden case produced by the bundled translator and libraries, compared with its files."""
    sys.path.insert(1, ROOT)  # tests.golden_driver; `translator` still comes from the build (first)
    from tests import golden_driver

    failures = []
    checked = 0
    for case in golden_driver.cases():
        for name, text in golden_driver.produce(case).items():
            checked += 1
            with open(os.path.join(golden_driver.GOLDEN, case, name), encoding="utf-8") as handle:
                if handle.read() != text:
                    failures.append(case + "/" + name)
    print(json.dumps({"cases": len(golden_driver.cases()), "files": checked, "failures": failures}))
    sys.exit(1 if failures else 0)


def main() -> None:
    args = sys.argv[1:]
    pyz = args.pop(0)
    if args and args[0] == "--hide":
        args.pop(0)
        sys.meta_path.insert(0, Hide())
    command = args.pop(0)
    if command == "cli":
        sys.argv = [pyz, *args]
        runpy.run_path(pyz, run_name="__main__")  # puts the archive first on sys.path, runs its __main__.py
        return
    sys.path.insert(0, pyz)
    {"backends": backends, "golden": golden}[command]()


if __name__ == "__main__":
    main()
