"""`make bench`: whole-process timings side by side, as ratios to the interpreter floor, and
scaling over growing inputs (time and peak memory). Medians of several runs; standard library
only. Targets (issue 8) are checked and printed as PASS/FAIL; the exit code is 1 if any fails.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable
TOOL = [PY, "-m", "translator"]
EXAMPLE = os.path.join(ROOT, "examples", "registries.yaml")
REPEAT = int(os.environ.get("BENCH_REPEAT", "7"))


def run(cmd: list[str], cwd: str = ROOT) -> tuple[float, int]:
    """(seconds, peak RSS in KiB) of one whole-process run."""
    start = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"bench: {' '.join(cmd)} exited {process.returncode}")
    return elapsed, usage.ru_maxrss


def median(cmd: list[str], repeat: int = REPEAT) -> tuple[float, int]:
    runs = [run(cmd) for _ in range(repeat)]
    return statistics.median(t for t, _ in runs), max(m for _, m in runs)


def fleet(count: int, path: str) -> None:
    """A registries.yaml with COUNT registries of 3 endpoints each; every 10th has TLS for its
    upstream, every 7th credentials."""
    lines = ["mirrors:"]
    for i in range(count):
        lines.append(f'  "registry{i}.example.com":')
        lines.append("    endpoint:")
        for j in range(3):
            lines.append(f'      - "https://mirror{j}.region{i % 50}.example.com/r{i}"')
    lines.append("configs:")
    for i in range(count):
        if i % 10 and i % 7:
            continue
        lines.append(f'  "registry{i}.example.com":')
        if i % 10 == 0:
            lines += ["    tls:", f"      ca_file: /etc/ssl/r{i}.pem"]
        if i % 7 == 0:
            lines += ["    auth:", "      username: robot", f"      password: secret-{i}"]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def file_system_floor(work: str, count: int = 10000) -> float:
    """Seconds to create COUNT directories holding one small file each: the part of writing a
    certs.d tree that no code of ours can remove (it varies a lot between machines)."""
    base = os.path.join(work, "fs-floor")
    os.mkdir(base)
    start = time.perf_counter()
    for i in range(count):
        directory = os.path.join(base, f"registry{i}.example.com")
        os.mkdir(directory)
        with open(os.path.join(directory, "hosts.toml"), "wb") as handle:
            handle.write(b"x" * 400)
    elapsed = time.perf_counter() - start
    shutil.rmtree(base)
    return elapsed


def main() -> int:
    failures = []

    def verdict(ok: bool, text: str) -> str:
        if not ok:
            failures.append(text)
        return ("PASS " if ok else "FAIL ") + text

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {REPEAT} runs each, medians")
    floor_pass, _ = median([PY, "-c", "pass"])
    floor, _ = median([PY, "-c", "import yaml, tomlkit"])
    print(f"{'python -c pass':<52} {floor_pass * 1000:8.1f} ms")
    label = 'python -c "import yaml, tomlkit"  (the floor)'
    print(f"{label:<52} {floor * 1000:8.1f} ms   1.00x")
    work = tempfile.mkdtemp(prefix="rt-bench-")
    try:
        a = os.path.join(work, "a.yaml")
        b = os.path.join(work, "b.yaml")
        shutil.copy(EXAMPLE, a)
        with open(EXAMPLE) as source, open(b, "w") as changed:
            changed.write(source.read().replace("https://mirror.example.com", "https://mirror2.example.com"))
        commands = {
            "--help": [*TOOL, "--help"],
            "convert example --to certs-d": [*TOOL, "convert", EXAMPLE, "--to", "certs-d"],
            "convert example --to cri-v2": [*TOOL, "convert", EXAMPLE, "--to", "cri-v2"],
            "resolve alpine:3 --config example": [*TOOL, "resolve", "alpine:3", "--config", EXAMPLE],
            "check example": [*TOOL, "check", EXAMPLE],
            "diff of two small configs": [*TOOL, "diff", a, b],
        }
        # interleaved rounds (floor, then each command once) so that a machine slowing down or
        # speeding up during the run moves the floor and the commands together
        samples: dict[str, list[float]] = {name: [] for name in ("floor", *commands)}
        for _ in range(REPEAT):
            samples["floor"].append(run([PY, "-c", "import yaml, tomlkit"])[0])
            for name, cmd in commands.items():
                samples[name].append(run(cmd)[0])
        floor = statistics.median(samples["floor"])
        print(f"{'the floor again, interleaved with the commands':<52} {floor * 1000:8.1f} ms   1.00x")
        results = {}
        for name in commands:
            seconds = statistics.median(samples[name])
            results[name] = seconds
            print(f"{'registries-translator ' + name:<52} {seconds * 1000:8.1f} ms   {seconds / floor:4.2f}x")
        print(verdict(results["convert example --to certs-d"] <= 3 * floor,
                      "convert of the bundled example <= 3x the floor"))
        print(verdict(results["--help"] <= 2 * floor, "--help <= 2x the floor"))

        print("\nscaling: registries.yaml with N registries (3 endpoints each) -> certs-d -> registries-yaml")
        print(f"{'N':>7} {'to certs-d':>12} {'ratio':>6} {'peak MiB':>9} {'and back':>10} {'ratio':>6} {'peak MiB':>9}")
        previous = None
        for count in (10, 100, 1000, 10000):
            source = os.path.join(work, f"fleet-{count}.yaml")
            tree = os.path.join(work, f"tree-{count}")
            fleet(count, source)
            repeat = 3 if count >= 1000 else REPEAT
            runs = []
            for attempt in range(repeat):  # each into a new directory, as a first conversion writes
                target = tree if attempt == 0 else f"{tree}-{attempt}"
                runs.append(run([*TOOL, "convert", source, "--to", "certs-d", "-o", target]))
            forward, forward_mem = statistics.median(t for t, _ in runs), max(m for _, m in runs)
            back, back_mem = median([*TOOL, "convert", tree, "--to", "registries-yaml",
                                     "-o", os.path.join(work, f"back-{count}.yaml")], repeat)
            ratios = ("", "") if previous is None else (f"{forward / previous[0]:5.1f}x", f"{back / previous[1]:5.1f}x")
            print(f"{count:>7} {forward:>10.3f} s {ratios[0]:>6} {forward_mem / 1024:>9.1f} {back:>8.3f} s "
                  f"{ratios[1]:>6} {back_mem / 1024:>9.1f}")
            if count == 10000:
                print(f"(the file system alone, creating 10,000 directories with one file each, took "
                      f"{file_system_floor(work):.3f} s just now; it varies by 10x on a shared virtual disk)")
                print(verdict(forward < 5 and back < 5, "10,000 registries to certs-d and back under 5 s each"))
                print(verdict(max(forward_mem, back_mem) < 300 * 1024, "peak memory under 300 MiB"))
                print(verdict(forward / previous[0] <= 12 and back / previous[1] <= 12,
                              "10x input <= 12x time (1,000 -> 10,000)"))
            previous = (forward, back)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
