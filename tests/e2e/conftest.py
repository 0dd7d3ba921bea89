"""Fixtures for the end-to-end tests: Debian packages installed, registries, images, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest

from . import harness

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def runtime() -> None:
    """containerd, docker-registry, htpasswd and openssl, installed with apt-get when missing."""
    reason = harness.install_packages()
    if reason is None:
        try:
            import grpc  # noqa: F401
        except ImportError:
            reason = "the grpcio package is not installed (pip install -e '.[test]')"
    if reason is not None:
        message = f"END-TO-END TESTS SKIPPED: {reason}"
        warnings.warn(message, stacklevel=1)
        sys.stderr.write(f"\n*** {message} ***\n")
        pytest.skip(message)


@pytest.fixture(scope="session")
def certificates(runtime: None, tmp_path_factory: pytest.TempPathFactory) -> harness.Certificates:
    return harness.make_certificates(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture(scope="session")
def registry(runtime: None, tmp_path_factory: pytest.TempPathFactory):
    """A plain-http registry holding library/hello:1 and team/app:1."""
    reg = harness.Registry(str(tmp_path_factory.mktemp("registry"))).start()
    try:
        harness.push_image(reg, "library/hello", "1")
        harness.push_image(reg, "team/app", "1")
        yield reg
    finally:
        reg.stop()


@pytest.fixture
def proxy(registry: harness.Registry):
    """A request-logging server; routes are set by each test."""
    logging_proxy = harness.LoggingProxy().start()
    try:
        yield logging_proxy
    finally:
        logging_proxy.stop()


@pytest.fixture
def containerds(tmp_path):
    """A factory of containerd daemons, each with its own root; all stopped at the end."""
    started: list[harness.Containerd] = []

    def make(name: str = "containerd") -> harness.Containerd:
        daemon = harness.Containerd(str(tmp_path), name)
        started.append(daemon)
        return daemon

    try:
        yield make
    finally:
        for daemon in started:
            daemon.stop()


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """registries-translator, as a user runs it."""
    result = subprocess.run([sys.executable, "-m", "translator", *args], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"registries-translator {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result
