"""The report of `make bench`: one line per figure as it is measured (name, tool time, floor time,
ratio, target, verdict), then a compact markdown summary to paste into the README."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from runner import Sample

PASS, FAIL, INFO = "PASS", "FAIL", "info"


def seconds(value: float) -> str:
    """A duration in ms under a second, in seconds above."""
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def times(value: float) -> str:
    return f"{value:.2f}x"


@dataclass
class Figure:
    """One measured figure: SECTION is "start-up", a fleet size ("10k") or "scaling"."""

    section: str
    name: str
    tool: str
    floor: str
    ratio: str
    target: str
    verdict: str
    note: str = ""


class Report:
    """Collects the figures, prints each as it comes, and the summary at the end."""

    def __init__(self) -> None:
        self.figures: list[Figure] = []

    @property
    def failures(self) -> list[Figure]:
        return [figure for figure in self.figures if figure.verdict == FAIL]

    def header(self) -> None:
        print(f"{'':8}  {'figure':<46} {'tool':>9} {'floor':>9} {'ratio':>7} {'target':>9}  result")

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        line = (f"{figure.section:>8}  {figure.name:<46} {figure.tool:>9} {figure.floor:>9} {figure.ratio:>7} "
                f"{figure.target:>9}  {figure.verdict}")
        print(line + (f"  ({figure.note})" if figure.note else ""), flush=True)
        return figure

    def compare(self, section: str, name: str, tool: Sample, floor: Sample, limit: float | None,
                note: str = "") -> Figure:
        """A command against its floor: the median of the ratios of each round (the runs of a round
        are side by side in time, so a slower machine moves both), PASS when at most LIMIT (no target
        when LIMIT is None); a FAIL whatever the ratio when a run exited with a code not allowed."""
        ratio = statistics.median(mine / base for mine, base in zip(tool.seconds, floor.seconds))
        errors = [f"{who} {sample.error}" for who, sample in (("tool", tool), ("floor", floor)) if sample.error]
        noisy = [f"{who} {seconds(min(sample.seconds))}-{seconds(max(sample.seconds))}"
                 for who, sample in (("tool", tool), ("floor", floor))
                 if max(sample.seconds) > 1.5 * min(sample.seconds)]
        notes = [*([note] if note else []), *errors, *(["noisy: " + ", ".join(noisy)] if noisy else [])]
        if errors:
            verdict = FAIL
        elif limit is None:
            verdict = INFO
        else:
            verdict = PASS if ratio <= limit else FAIL
        return self.add(Figure(section, name, seconds(tool.median), seconds(floor.median), times(ratio),
                               "-" if limit is None else f"<= {limit:g}x", verdict,
                               "; ".join(notes)))

    def check(self, section: str, name: str, value: str, reference: str, ratio: str, target: str, ok: bool,
              note: str = "") -> Figure:
        """A figure with its own rule (scaling, memory, exit code)."""
        return self.add(Figure(section, name, value, reference, ratio, target, PASS if ok else FAIL, note))

    def summary(self, sizes: list[str]) -> str:
        """The figures as markdown: start-up, the fleets by size, and the scaling checks."""
        out = ["| start-up (examples/registries.yaml) | tool | floor | ratio | target | |", "|---|--:|--:|--:|--:|---|"]
        for figure in self.figures:
            if figure.section == "start-up":
                out.append(f"| `{figure.name}` | {figure.tool} | {figure.floor} | {figure.ratio} | "
                           f"{figure.target} | {figure.verdict} |")
        rows: dict[str, dict[str, Figure]] = {}
        for figure in self.figures:
            if figure.section in sizes:
                rows.setdefault(figure.name, {})[figure.section] = figure
        out += ["", "| N registries: tool / floor = ratio | " + " | ".join(sizes) + " | target | |",
                "|---|" + "--:|" * len(sizes) + "--:|---|"]
        for name, by_size in rows.items():
            cells = []
            for size in sizes:
                figure = by_size.get(size)
                if figure is None:
                    cells.append("")
                    continue
                cell = f"{figure.tool} / {figure.floor} = {figure.ratio}"
                cells.append(f"**{cell}** (FAIL)" if figure.verdict == FAIL else cell)
            targeted = [figure for figure in by_size.values() if figure.target != "-"]
            target = ", ".join(f"{figure.target} at {figure.section}" for figure in targeted) or "-"
            verdicts = {figure.verdict for figure in by_size.values()}
            verdict = FAIL if FAIL in verdicts else PASS if PASS in verdicts else INFO
            out.append(f"| {name} | " + " | ".join(cells) + f" | {target} | {verdict} |")
        checks = [figure for figure in self.figures if figure.section == "scale"]
        if checks:
            out += ["", "| scaling and memory | value | reference | ratio | target | |", "|---|--:|--:|--:|--:|---|"]
            out += [f"| {figure.name} | {figure.tool} | {figure.floor} | {figure.ratio} | {figure.target} | "
                    f"{figure.verdict} |" for figure in checks]
        passed = sum(figure.verdict == PASS for figure in self.figures)
        out += ["", f"{passed} of {passed + len(self.failures)} targets pass. Times are medians of whole "
                "processes; a ratio is the median of each round's tool/floor (see bench/bench.py)."]
        return "\n".join(out)
