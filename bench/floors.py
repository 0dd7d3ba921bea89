"""The floors of `make bench`: small programs that do the unavoidable part of a command's work, each
run as its own process (`python bench/floors.py KIND ARGS...`) and timed whole, like the tool.

Every floor imports yaml and typer first (what every command of the tool needs), then:

- parse [--deepdiff] FILE...: parses each FILE with libyaml (CSafeLoader); --deepdiff also imports
  deepdiff (the floor of a `diff` that reports a difference).
- to-certs-d PAYLOAD SOURCE OUT: parses SOURCE with libyaml, creates the directories and files of
  PAYLOAD (a marshal of the tool's own tree: relative paths and exact bytes, made before timing)
  under the new directory OUT, then reads every file back (tomllib for the .toml files).
- from-certs-d TREE YAML: reads every hosts.toml under TREE with tomllib, then parses YAML (the
  tool's own registries.yaml output of that tree) with libyaml.

Only `sys` is imported at module level, so that a floor pays for no import it does not need.
"""

import sys


def parse(paths: list[str], deepdiff: bool = False) -> None:
    """Parse each file with libyaml, after the imports a command needs."""
    import typer  # noqa: F401
    import yaml

    if deepdiff:
        import deepdiff as _deepdiff  # noqa: F401
    for path in paths:
        with open(path, "rb") as handle:
            yaml.load(handle, Loader=yaml.CSafeLoader)


def to_certs_d(payload: str, source: str, out: str) -> None:
    """Parse SOURCE, write the precomputed tree under OUT and read it back."""
    import marshal
    import os

    import tomllib
    import typer  # noqa: F401
    import yaml

    with open(source, "rb") as handle:
        yaml.load(handle, Loader=yaml.CSafeLoader)
    with open(payload, "rb") as handle:
        directories, files = marshal.load(handle)
    os.mkdir(out)
    for directory in directories:
        os.mkdir(os.path.join(out, directory))
    for relative, data in files:
        with open(os.path.join(out, relative), "wb") as handle:
            handle.write(data)
    for relative, _ in files:
        with open(os.path.join(out, relative), "rb") as handle:
            if relative.endswith(".toml"):
                tomllib.load(handle)
            else:
                handle.read()


def from_certs_d(tree: str, output_yaml: str) -> None:
    """Read every hosts.toml under TREE with tomllib, then parse OUTPUT_YAML with libyaml."""
    import os

    import tomllib
    import typer  # noqa: F401
    import yaml

    for directory, _, names in os.walk(tree):
        if "hosts.toml" in names:
            with open(os.path.join(directory, "hosts.toml"), "rb") as handle:
                tomllib.load(handle)
    with open(output_yaml, "rb") as handle:
        yaml.load(handle, Loader=yaml.CSafeLoader)


def main(argv: list[str]) -> int:
    """Dispatch on the floor's kind."""
    kind, args = argv[0], argv[1:]
    if kind == "parse":
        deepdiff = args[:1] == ["--deepdiff"]
        parse(args[1:] if deepdiff else args, deepdiff)
    elif kind == "to-certs-d":
        to_certs_d(*args)
    elif kind == "from-certs-d":
        from_certs_d(*args)
    else:
        print(f"floors.py: unknown floor {kind!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
