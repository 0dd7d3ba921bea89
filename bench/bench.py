"""`make bench` (issue 16): every figure beside its floor, in one run. Whole processes are timed
(subprocess + os.wait4: wall time, peak RSS, exit code); each round runs a figure's floor and its
command one after the other (see runner.py); a figure's ratio is the median of its rounds' ratios.
Floors are in floors.py, the Jinja2 peer in peer.py, the printing in report.py; standard library
only (PyYAML, typer, deepdiff and Jinja2 in the floors and the peer).

Environment: BENCH_SIZES (default "1000,10000,100000"), BENCH_REPEAT (rounds per figure, default 5),
BENCH_REPEAT_START_UP (rounds of each start-up figure, default 15: a round takes a fifth of a second, and
a ratio of two 70-100 ms processes moves by 0.1x from one round to the next on a shared machine),
BENCH_REPEAT_LARGE (rounds at 50,000 registries and more, default 3), BENCH_REPEAT_LARGE_INFO (rounds
there for the figures without a target at that size, default 1). A default run takes about 15 minutes
on 2 cores. Exit 1 if any target fails.
"""

from __future__ import annotations

import marshal
import os
import shutil
import subprocess
import sys
import tempfile
import time

from report import Report
from runner import Job, Runner, Sample, remove

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
PY = sys.executable
TOOL = [PY, "-m", "translator"]
FLOORS = [PY, os.path.join(BENCH, "floors.py")]
PEER = [PY, os.path.join(BENCH, "peer.py")]
EXAMPLE = os.path.join(ROOT, "examples", "registries.yaml")

REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
LARGE = 50_000  # fleets from this size on run fewer rounds: one round of all their figures takes minutes
REPEAT_START_UP = max(REPEAT, int(os.environ.get("BENCH_REPEAT_START_UP", "15")))
REPEAT_LARGE = min(REPEAT, int(os.environ.get("BENCH_REPEAT_LARGE", "3")))
REPEAT_LARGE_INFO = min(REPEAT_LARGE, int(os.environ.get("BENCH_REPEAT_LARGE_INFO", "1")))
SIZES = sorted({int(size) for size in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",") if size.strip()})
TARGET_SIZE = 10_000  # the size the ratio targets apply at

START_UP, TO_CERTS_D, BACK, CHECKS, RESOLVE = 1.2, 1.5, 1.5, 2.0, 1.2  # ratio targets
SCALING = 1.1  # time may grow at most 1.1x as fast as the input
RSS_LIMIT_MIB = 1024
DEFAULT_MAX_BYTES = 4 * 1024 * 1024  # the tool's default input limit: a larger fleet.yaml needs --max-bytes
MAX_BYTES = ["--max-bytes", str(256 * 1024 * 1024)]
SLICE = 10_000  # when the tool refuses a whole fleet, its files are made from slices of this size
IMAGE = "registry5.example.com/app:1"


class BenchError(Exception):
    """A step the figures depend on could not be done."""


def fleet(count: int, path: str, first: int = 0) -> None:
    """A registries.yaml with COUNT registries (numbered from FIRST) of 3 endpoints each; every 10th
    has TLS for its upstream, every 7th credentials."""
    lines = ["mirrors:"]
    for i in range(first, first + count):
        lines.append(f'  "registry{i}.example.com":')
        lines.append("    endpoint:")
        for j in range(3):
            lines.append(f'      - "https://mirror{j}.region{i % 50}.example.com/r{i}"')
    lines.append("configs:")
    for i in range(first, first + count):
        if i % 10 and i % 7:
            continue
        lines.append(f'  "registry{i}.example.com":')
        if i % 10 == 0:
            lines += ["    tls:", f"      ca_file: /etc/ssl/r{i}.pem"]
        if i % 7 == 0:
            lines += ["    auth:", "      username: robot", f"      password: secret-{i}"]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def changed_copy(source: str, target: str) -> None:
    """TARGET: SOURCE with one small change (the first mirror of registry5 renamed)."""
    with open(source) as handle:
        text = handle.read()
    old = '"https://mirror0.region5.example.com/r5"'
    if text.count(old) != 1:
        raise BenchError(f"{source}: no single {old} to change")
    with open(target, "w") as handle:
        handle.write(text.replace(old, '"https://mirror9.region5.example.com/r5"'))


def size_label(count: int) -> str:
    return f"{count // 1000}k" if count >= 1000 and count % 1000 == 0 else str(count)


def max_bytes(*paths: str) -> list[str]:
    """--max-bytes for the tool when an input file is over its default limit."""
    return MAX_BYTES if any(os.path.getsize(path) > DEFAULT_MAX_BYTES for path in paths) else []


def mount_of(path: str) -> str:
    """The file system type and device PATH is on, from /proc/mounts."""
    best, found = "", "?"
    try:
        with open("/proc/mounts") as handle:
            for line in handle:
                device, point, kind = line.split()[:3]
                if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
                    best, found = point, f"{kind} ({device})"
    except OSError:
        pass
    return found


def payload(tree: str, path: str) -> None:
    """PATH: the directories and files (relative paths, exact bytes) of TREE, for the floor to write."""
    directories, files = [], []
    for directory, names, file_names in os.walk(tree):
        names.sort()
        relative = os.path.relpath(directory, tree)
        directories += [os.path.normpath(os.path.join(relative, name)) for name in names]
        for name in sorted(file_names):
            with open(os.path.join(directory, name), "rb") as handle:
                files.append((os.path.normpath(os.path.join(relative, name)), handle.read()))
    with open(path, "wb") as handle:
        marshal.dump((directories, files), handle)


def reference_tree(runner: Runner, count: int, source: str, tree: str, work: str) -> str:
    """TREE: the tool's own conversion of SOURCE, made once before timing. When the tool refuses the
    whole fleet, the tree is put together from its conversions of slices; the note says so."""
    whole = runner.once(Job([*TOOL, *max_bytes(source), "convert", source, "--to", "certs-d", "-o", tree],
                            output=tree, keep=True))
    if not whole.error:
        return ""
    remove(tree)
    os.mkdir(tree)
    part_source, part = os.path.join(work, "slice.yaml"), os.path.join(work, "slice-tree")
    for first in range(0, count, SLICE):
        fleet(min(SLICE, count - first), part_source, first)
        sliced = runner.once(Job([*TOOL, "convert", part_source, "--to", "certs-d", "-o", part], output=part,
                                 keep=True))
        if sliced.error:
            raise BenchError(f"the tool converts neither the whole fleet ({whole.error}) nor a slice "
                             f"({sliced.error})")
        for name in os.listdir(part):
            os.rename(os.path.join(part, name), os.path.join(tree, name))
        remove(part)
    remove(part_source)
    return (f"the whole fleet: {whole.error}; the floor writes the tool's files from {-(-count // SLICE)} "
            f"slices of {SLICE:,}")


def disk_room(disk: str) -> bool:
    """Whether the disk holds every tree the timed runs write (about 8 KiB a registry each, kept until
    the end); if not, each is removed after its run, which slows the disk figures down."""
    trees = sum(count * (3 * (REPEAT_LARGE if count >= LARGE else REPEAT) + 2) for count in SIZES)
    need, need_inodes = trees * 8192 * 1.2, trees * 2 * 1.2  # a directory and a file a registry
    stat = os.statvfs(disk)
    free, free_inodes = stat.f_bavail * stat.f_frsize, stat.f_favail
    if free >= need and free_inodes >= need_inodes:
        return True
    print(f"note: {free / 2**30:.1f} GiB and {free_inodes:,} inodes free, {need / 2**30:.1f} GiB and "
          f"{need_inodes:,.0f} needed to keep every tree until the end: each is removed after its run, which "
          "slows the runs after it down on some disks")
    return False


def start_up(runner: Runner, report: Report, work: str) -> None:
    """Each command on the bundled example against `python -c "import yaml, typer"` (deepdiff too for
    a diff that finds a difference)."""
    same, changed = os.path.join(work, "same.yaml"), os.path.join(work, "changed.yaml")
    shutil.copy(EXAMPLE, same)
    with open(EXAMPLE) as source, open(changed, "w") as target:
        target.write(source.read().replace("https://mirror.example.com", "https://mirror2.example.com"))
    floor = Job([PY, "-c", "import yaml, typer"])
    floor_deepdiff = Job([PY, "-c", "import yaml, typer, deepdiff"])
    commands: list[tuple[list[str], tuple[int, ...], Job]] = [
        (["--help"], (0,), floor),
        (["--version"], (0,), floor),
        (["convert", EXAMPLE, "--to", "certs-d"], (0,), floor),
        (["convert", EXAMPLE, "--to", "cri-v2"], (0,), floor),
        (["show", EXAMPLE], (0,), floor),
        (["check", EXAMPLE], (0, 1), floor),
        (["resolve", "alpine:3", "--config", EXAMPLE], (0,), floor),
        (["diff", EXAMPLE, same], (0,), floor),
        (["diff", EXAMPLE, changed], (1,), floor_deepdiff),
    ]
    short = {EXAMPLE: "example", same: "same", changed: "changed"}
    for job in [floor, floor_deepdiff] + [Job([*TOOL, *args]) for args, _, _ in commands]:
        runner.once(job)  # a warm-up: byte-code caches written, files in the page cache
    for args, ok, floor_job in commands:
        samples = runner.interleave({"floor": floor_job, "tool": Job([*TOOL, *args], ok=ok)}, REPEAT_START_UP)
        name = " ".join(short.get(arg, arg) for arg in args)
        report.compare("start-up", name, samples["tool"], samples["floor"], START_UP,
                       "floor imports deepdiff" if floor_job is floor_deepdiff else "")


def fleet_size(runner: Runner, report: Report, count: int, disk: str, shm: str | None,
               keep: bool) -> dict[str, Sample]:
    """Every figure at COUNT registries; the samples the scaling checks need. KEEP: leave what the
    timed runs write on disk until the end (see runner.Job)."""
    label = size_label(count)
    # the figures with a target at this size, or that the scaling checks use, run `rounds` rounds
    rounds = REPEAT_LARGE if count >= LARGE else REPEAT
    info_rounds = REPEAT_LARGE_INFO if count >= LARGE and count != TARGET_SIZE else rounds
    here = os.path.join(disk, label)
    os.mkdir(here)

    def path(name: str) -> str:
        return os.path.join(here, name)

    source, source2, tree = path("fleet.yaml"), path("fleet2.yaml"), path("tree")
    fleet(count, source)
    changed_copy(source, source2)
    size_note = f", fleet.yaml {os.path.getsize(source) / 2**20:.1f} MiB"
    if max_bytes(source):
        size_note += f", over the 4 MiB default: {' '.join(MAX_BYTES)} for the commands that read it"
    fewer = "" if rounds == REPEAT else f", fewer than {REPEAT} for time"
    if info_rounds != rounds:
        fewer += f"; {info_rounds} for the figures without a target at this size"
    print(f"\n{count:,} registries ({rounds} rounds{fewer}{size_note})", flush=True)
    note = reference_tree(runner, count, source, tree, here)
    if note:
        print(f"       note: {note}")
    payload(tree, path("tree.marshal"))

    def limit(target: float) -> float | None:
        return target if count == TARGET_SIZE else None

    samples: dict[str, Sample] = {}

    # to certs.d, on disk with the Jinja2 peer, then on tmpfs
    convert = [*TOOL, *max_bytes(source), "convert", source, "--to", "certs-d", "-o"]
    jobs = {
        "floor": Job([*FLOORS, "to-certs-d", path("tree.marshal"), source, path("floor-{n}")],
                     output=path("floor-{n}"), keep=keep, sync=True),
        "tool": Job([*convert, path("tool-{n}")], output=path("tool-{n}"), keep=keep, sync=True),
        "peer": Job([*PEER, source, path("peer-{n}")], output=path("peer-{n}"), keep=keep, sync=True,
                    rounds=info_rounds),
    }
    result = runner.interleave(jobs, rounds)
    samples["to certs-d"] = result["tool"]
    samples["to certs-d floor"] = result["floor"]
    report.compare(label, "convert fleet.yaml --to certs-d -o DIR (disk)", result["tool"], result["floor"],
                   limit(TO_CERTS_D))
    report.compare(label, "peer: Jinja2 template per registry (disk)", result["peer"], result["floor"], None)
    if shm is not None:
        there = os.path.join(shm, label)
        os.mkdir(there)
        for name in ("fleet.yaml", "tree.marshal"):
            shutil.copy(path(name), os.path.join(there, name))
        shm_source, shm_out = os.path.join(there, "fleet.yaml"), os.path.join(there, "out")
        jobs = {
            "floor": Job([*FLOORS, "to-certs-d", os.path.join(there, "tree.marshal"), shm_source, shm_out + "-floor"],
                         output=shm_out + "-floor"),
            "tool": Job([*TOOL, *max_bytes(shm_source), "convert", shm_source, "--to", "certs-d", "-o", shm_out],
                        output=shm_out),
        }
        result = runner.interleave(jobs, info_rounds)
        samples["to certs-d (tmpfs)"] = result["tool"]
        report.compare(label, "convert fleet.yaml --to certs-d -o DIR (tmpfs)", result["tool"], result["floor"],
                       limit(TO_CERTS_D))
        remove(there)

    # back to registries.yaml: the floor parses the tool's own output, made once before timing
    back = [*TOOL, "convert", tree, "--to", "registries-yaml", "-o"]
    first = runner.once(Job([*back, path("back-ref.yaml")], output=path("back-ref.yaml"), keep=True))
    floor_yaml, back_note = path("back-ref.yaml"), ""
    if first.error:
        floor_yaml, back_note = source, "no output of the tool to parse: the floor parses fleet.yaml"
    jobs = {
        "floor": Job([*FLOORS, "from-certs-d", tree, floor_yaml], sync=True),
        "tool": Job([*back, path("back-{n}.yaml")], output=path("back-{n}.yaml"), keep=keep, sync=True),
    }
    result = runner.interleave(jobs, rounds)
    samples["back"] = result["tool"]
    samples["back floor"] = result["floor"]
    samples["back once"] = first
    report.compare(label, "convert TREE --to registries-yaml -o OUT.yaml", result["tool"], result["floor"],
                   limit(BACK), back_note)

    # check, show, diff: the floor parses their inputs
    for args, ok, floor_args in [
        (["check", source], (0, 1), ["parse", source]),
        (["show", source], (0,), ["parse", source]),
        (["diff", source, source2], (1,), ["parse", "--deepdiff", source, source2]),
    ]:
        jobs = {"floor": Job([*FLOORS, *floor_args]), "tool": Job([*TOOL, *max_bytes(source), *args], ok=ok)}
        result = runner.interleave(jobs, info_rounds)
        name = " ".join(os.path.basename(arg) if os.sep in arg else arg for arg in args)
        report.compare(label, name, result["tool"], result["floor"], limit(CHECKS))

    # resolve in the whole tree against the same in a tree of one directory
    one = path("one-dir")
    os.makedirs(os.path.join(one, "registry5.example.com"))
    shutil.copy(os.path.join(tree, "registry5.example.com", "hosts.toml"), os.path.join(one, "registry5.example.com"))
    jobs = {"floor": Job([*TOOL, "resolve", IMAGE, "--config", one]),
            "tool": Job([*TOOL, "resolve", IMAGE, "--config", tree])}
    result = runner.interleave(jobs, rounds)
    report.compare(label, f"resolve {IMAGE} --config TREE", result["tool"], result["floor"],
                   RESOLVE if count == SIZES[-1] else None, "floor: the same in a 1-directory tree")
    return samples


def scaling(report: Report, results: dict[int, dict[str, Sample]]) -> None:
    """The largest fleet against the one before it, both ways; peak memory; the tree read back."""
    large = SIZES[-1]
    label = size_label(large)
    if len(SIZES) > 1:
        small = SIZES[-2]
        limit = SCALING * large / small
        for key, name in (("to certs-d", "to certs-d (disk)"), ("back", "back to registries-yaml")):
            big, little = results[large][key], results[small][key]
            ratio = big.median / little.median
            errors = "; ".join(f"{size_label(size)}: {sample.error}" for size, sample in ((small, little), (large, big))
                               if sample.error)
            floor_growth = results[large][key + " floor"].median / results[small][key + " floor"].median
            note = "; ".join(filter(None, [f"its floor grew {floor_growth:.1f}x on this file system", errors]))
            report.check("scale", f"{name}: {size_label(small)} -> {label}", f"{big.median:.2f} s",
                         f"{little.median:.2f} s", f"{ratio:.1f}x", f"<= {limit:.3g}x",
                         ratio <= limit and not errors, note)
    for key, name in (("to certs-d", "to certs-d"), ("back", "back to registries-yaml")):
        sample = results[large][key]
        report.check("scale", f"peak RSS {name} at {label}", f"{sample.peak_mib:.0f} MiB", "-", "-",
                     f"< {RSS_LIMIT_MIB} MiB", sample.peak_mib < RSS_LIMIT_MIB and not sample.error, sample.error)
    codes = [*results[large]["back once"].codes, *results[large]["back"].codes]
    code = next((code for code in codes if code), 0)
    bad = results[large]["back once"].error or results[large]["back"].error
    report.check("scale", f"the tool's {label} tree read back", f"exit {code}", "-", "-", "exit 0", not bad, bad)


def main() -> int:
    """Run every section, print the summary; 1 if any target fails."""
    report = Report()
    # byte-code as an installed package has it (pip compiles on install): without it every run would
    # compile the package again (this machine sets PYTHONDONTWRITEBYTECODE), which the floors never pay
    subprocess.run([PY, "-m", "compileall", "-q", os.path.join(ROOT, "translator")], check=True)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; medians of {REPEAT} interleaved "
          f"rounds ({REPEAT_START_UP} for start-up; from {LARGE:,} registries on: {REPEAT_LARGE}, and "
          f"{REPEAT_LARGE_INFO} for the figures without a target there)")
    print("floors: every floor imports yaml and typer (what every command needs), then does the least its "
          "command must do (bench/floors.py)")
    print("times: medians; ratio: the median of each round's tool/floor (a round runs them side by side)")
    disk = tempfile.mkdtemp(prefix="rt-bench-")
    shm = tempfile.mkdtemp(prefix="rt-bench-", dir="/dev/shm") if os.access("/dev/shm", os.W_OK) else None
    print(f"work: {disk} on {mount_of(disk)}" + (f"; tmpfs runs in {shm} on {mount_of(shm)}" if shm else
                                                  "; no /dev/shm: no tmpfs figures"), flush=True)
    runner = Runner(ROOT, shm or disk, tuple(directory for directory in (disk, shm) if directory))
    try:
        print()
        report.header()
        start_up(runner, report, disk)
        results = {}
        keep = disk_room(disk)
        for count in SIZES:
            try:
                results[count] = fleet_size(runner, report, count, disk, shm, keep)
            except BenchError as error:
                report.check(size_label(count), "fleet figures", "-", "-", "-", "-", False, str(error))
        if SIZES and all(count in results for count in SIZES):
            print()
            scaling(report, results)
        start = time.perf_counter()
        remove(disk)
        print(f"\n(the trees written on disk removed in {time.perf_counter() - start:.0f} s)")
        print("\n" + report.summary([size_label(count) for count in SIZES]))
    finally:
        remove(disk)
        remove(shm)
    for figure in report.failures:
        print(f"FAIL: {figure.section} {figure.name}", file=sys.stderr)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
