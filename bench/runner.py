"""Whole-process timing for `make bench`: one run with os.wait4 (wall time, peak RSS, exit code),
and interleaved rounds in which a figure's floor and its command run one after the other."""

from __future__ import annotations

import itertools
import os
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass, field


@dataclass
class Job:
    """A command to time. OUTPUT is the path it creates, if any: "{n}" in it and in ARGV becomes a new
    number on every run, so that each run writes anew. The output is removed after the run (outside
    the timing) unless KEEP: on a disk, removing a tree makes the trees written after it slower to
    create, run after run. SYNC flushes dirty pages to disk before the run, so that no run pays for
    the writeback of the one before it. ROUNDS, when set, limits the job to the first rounds of an
    `interleave` (a reference figure that is not worth minutes)."""

    argv: list[str]
    ok: tuple[int, ...] = (0,)
    output: str | None = None
    keep: bool = False
    sync: bool = False
    rounds: int | None = None


@dataclass
class Sample:
    """The runs of one job."""

    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)
    error: str = ""  # the first run that exited with a code its job does not allow, and why

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_mib(self) -> float:
        return max(self.rss_kib) / 1024


def remove(path: str | None) -> None:
    """Remove a file or a directory tree if it exists."""
    if path is None or not os.path.lexists(path):
        return
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def run(argv: list[str], cwd: str, stderr_path: str) -> tuple[float, int, int]:
    """(seconds, peak RSS in KiB, exit code) of one whole-process run; stderr goes to STDERR_PATH."""
    with open(stderr_path, "wb") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss, process.returncode


def last_error(stderr_path: str) -> str:
    """The line of a run's stderr that says what went wrong (the last `error:` line, else the last)."""
    try:
        with open(stderr_path, "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - 65536))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    lines = [line.strip() for line in lines if line.strip()]
    errors = [line for line in lines if line.startswith("error") or "Error" in line]
    return (errors or lines or [""])[-1][:160]


class Runner:
    """Runs jobs from CWD, with their stderr in a scratch file under SCRATCH."""

    def __init__(self, cwd: str, scratch: str, hide: tuple[str, ...] = ()) -> None:
        self.cwd = cwd
        self.stderr_path = os.path.join(scratch, "stderr.txt")
        self.runs = itertools.count()
        self.hide = hide  # directories left out of the paths in error messages

    def once(self, job: Job, sample: Sample | None = None) -> Sample:
        """One run of JOB, added to SAMPLE (a new one by default)."""
        sample = sample if sample is not None else Sample()
        number = str(next(self.runs))
        argv = [arg.replace("{n}", number) for arg in job.argv]
        output = job.output.replace("{n}", number) if job.output else None
        remove(output)
        if job.sync:
            os.sync()
        seconds, rss, code = run(argv, self.cwd, self.stderr_path)
        sample.seconds.append(seconds)
        sample.rss_kib.append(rss)
        sample.codes.append(code)
        if code not in job.ok and not sample.error:
            message = last_error(self.stderr_path)
            for directory in self.hide:
                message = message.replace(directory + os.sep, "")
            sample.error = f"exit {code}: {message}"
        if not job.keep:
            remove(output)
        return sample

    def interleave(self, jobs: dict[str, Job], rounds: int) -> dict[str, Sample]:
        """ROUNDS rounds of every job once, in the given order on even rounds and reversed on odd
        ones, so that a machine slowing down or speeding up moves a figure and its floor together
        and neither always runs first. A round in which a job exits with a code it does not allow is
        the last: the figure fails whatever its time, and more rounds would only take long."""
        samples = {name: Sample() for name in jobs}
        names = list(jobs)
        for index in range(rounds):
            for name in names if index % 2 == 0 else reversed(names):
                if jobs[name].rounds is None or index < jobs[name].rounds:
                    self.once(jobs[name], samples[name])
            failed = [sample for sample in samples.values() if sample.error]
            if failed and index + 1 < rounds:
                for sample in failed:
                    sample.error += f" (stopped after round {index + 1} of {rounds})"
                break
        return samples
