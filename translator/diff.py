"""`diff`: what changes for pulls between two configurations, in any two formats.

Both sides are read into the model and compared by meaning (translator.compare); each
difference is described the way a reviewer asks about it: which endpoints were added or
removed, whether the order or the fallback to the upstream changed, which TLS or credential
setting changed. Secrets are never shown, only that they changed.
"""

from __future__ import annotations

from . import compare, formats, secrets
from .compare import Difference
from .model import WILDCARD, Change, Config, endpoint_keys
from .record import record

FIELD_WORDS = {
    "ca": "CA certificates", "client": "client certificate", "skip_verify": "skip_verify",
    "capabilities": "capabilities", "header": "headers", "rewrite": "rewrite", "dial_timeout": "dial_timeout",
}


@record(mutable=True)
class DiffResult:
    a: Config
    b: Config
    changes: list[Change]

    @property
    def same(self) -> bool:
        return not self.changes


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _is_upstream(host: str, key: str) -> bool:
    from .losses import _is_upstream_key

    return _is_upstream_key(host, key.split(" (", 1)[0])


def describe(d: Difference, a: Config, b: Config) -> str:
    """One difference in a reviewer's words."""
    if d.section == "auth":
        key = d.parts[1]
        if len(d.parts) == 2:
            return f"credentials for {key} {d.kind}"
        return f"credentials for {key}: {d.parts[2]} {d.kind}"
    if d.section == "headers":
        return f"global header {d.parts[1]} {d.kind}"
    if d.section == "short_names":
        return f"short-name {d.parts[1] if len(d.parts) > 1 else 'qualification'} {d.kind}"
    if d.section == "insecure_ranges":
        return f"insecure address range {d.parts[1] if len(d.parts) > 1 else ''} {d.kind}"
    host = d.host or ""
    if len(d.parts) == 2:
        return f"registry {host} {'now configured' if d.kind == 'added' else 'no longer configured'}"
    if d.parts[2] == "order":
        return "endpoints reordered: " + " -> ".join(str(k) for k in (d.after or []))
    key = d.endpoint or ""
    if d.field is None:
        order_b = endpoint_keys(compare.effective_list(b, host))
        order_a = endpoint_keys(compare.effective_list(a, host))
        if d.kind == "added":
            if order_b and order_b[-1] == key and _is_upstream(host, key):
                return "fallback to the upstream turned on"
            position = order_b.index(key) + 1 if key in order_b else 0
            return f"endpoint {key} added (tried {_ordinal(position)} of {len(order_b)})"
        if order_a and order_a[-1] == key and _is_upstream(host, key):
            if order_b and _is_upstream(host, order_b[-1]):
                return f"endpoint {key} removed (the upstream is still tried last)"
            return "fallback to the upstream turned off"
        return f"endpoint {key} removed"
    what = FIELD_WORDS.get(d.field, d.field)
    return f"{what} {d.kind} on {key}"


def compare_configs(a: Config, b: Config) -> DiffResult:
    found = compare.differences(a, b)
    return DiffResult(a, b, [Change(d.path, d.kind, d.before, d.after, describe(d, a, b)) for d in found])


def diff_paths(path_a: str, path_b: str, fmt_a: str | None = None, fmt_b: str | None = None,
               options: formats.ReadOptions | None = None) -> DiffResult:
    options = options or formats.ReadOptions()
    return compare_configs(formats.read(path_a, fmt_a, options), formats.read(path_b, fmt_b, options))


# --- rendering -------------------------------------------------------------------------------

def _group(changes: list[Change]) -> dict[str, list[Change]]:
    groups: dict[str, list[Change]] = {}
    for change in changes:
        if change.path.startswith("hosts["):
            name = change.path[len("hosts['"):change.path.index("']")]
            groups.setdefault(f"registry {name}", []).append(change)
        elif change.path.startswith("auth"):
            groups.setdefault("credentials", []).append(change)
        elif change.path.startswith("short_names"):
            groups.setdefault("short names", []).append(change)
        elif change.path.startswith("insecure_ranges"):
            groups.setdefault("insecure address ranges", []).append(change)
        else:
            groups.setdefault("global headers", []).append(change)
    return groups


def _sequence(config: Config, name: str) -> str:
    host = config.hosts.get(name) or (config.hosts.get(WILDCARD) if name != WILDCARD else None)
    if host is None:
        return "(default: the registry itself)"
    return " -> ".join(e.url or "<upstream>" for e in host.endpoints)


def _detail(change: Change) -> str:
    if change.path.endswith(".order") or "." not in change.path.split("]")[-1]:
        return ""
    before = secrets.mask_at(change.path, change.before)
    after = secrets.mask_at(change.path, change.after)
    if change.path.startswith("auth"):
        return ""
    import json

    return f": {json.dumps(before, ensure_ascii=False)} -> {json.dumps(after, ensure_ascii=False)}"


def render_text(result: DiffResult, label_a: str, label_b: str) -> str:
    if result.same:
        return f"{label_a} and {label_b} mean the same: no change in what containerd pulls.\n"
    lines = [f"{label_a} -> {label_b}: {len(result.changes)} change(s)"]
    for group, changes in _group(result.changes).items():
        lines.append(f"{group}:")
        if group.startswith("registry "):
            name = group[len("registry "):]
            lines.append(f"  before: {_sequence(result.a, name)}")
            lines.append(f"  after:  {_sequence(result.b, name)}")
        for change in changes:
            lines.append(f"  {change.kind:<8} {change.reason}{_detail(change)}")
    return secrets.redact("\n".join(lines)) + "\n"


def render_markdown(result: DiffResult, label_a: str, label_b: str) -> str:
    if result.same:
        return (f"**registries-translator diff** `{label_a}` -> `{label_b}`: no change in what containerd "
                "pulls.\n")
    groups = _group(result.changes)
    registries = [g[len("registry "):] for g in groups if g.startswith("registry ")]
    summary = f"**registries-translator diff** `{label_a}` -> `{label_b}`: {len(result.changes)} change(s)"
    if registries:
        summary += f" to what containerd pulls for {', '.join(f'`{r}`' for r in registries)}"
    others = [g for g in groups if not g.startswith("registry ")]
    if others:
        summary += ("; " if registries else ": ") + " and ".join(others) + " changed"
    lines = [summary + "."]
    for group, changes in groups.items():
        lines.append("")
        if group.startswith("registry "):
            name = group[len("registry "):]
            lines.append(f"#### `{name}`")
            lines.append(f"- before: `{_sequence(result.a, name)}`")
            lines.append(f"- after: `{_sequence(result.b, name)}`")
        else:
            lines.append(f"#### {group}")
        for change in changes:
            detail = _detail(change)
            lines.append(f"- **{change.kind}**: {change.reason}" + (f" (`{detail[2:]}`)" if detail else ""))
    return secrets.redact("\n".join(lines)) + "\n"


def render_json(result: DiffResult) -> str:
    from .report import as_json

    return as_json(result.changes)
