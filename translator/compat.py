"""What differs between the Pythons the tool runs on: 3.11+ in development, and the system
`python3` of current LTS distributions (3.9, 3.10) for the single-file build (`make dist`).

- `tomllib` is standard from 3.11; older Pythons use `tomli`, the same parser under its
  original name (the build bundles it). Chosen by what imports, not by the version: the build's
  fallback test hides `tomllib` on 3.11 (tests/dist_smoke.py).
"""

from __future__ import annotations

try:
    import tomllib  # novermin: 3.11+, and tomli below where it is missing
except ImportError:  # pragma: no cover - exercised by the single-file build's fallback test
    import tomli as tomllib  # type: ignore[no-redef]

__all__ = ["tomllib"]
