"""`resolve --probe --blob`: after the manifest resolved, fetch the first bytes of one layer the way
containerd's fetcher does (`core/remotes/docker/fetcher.go` Fetch and open, v2.1.4 l. 220-330 and
440-470), because mirrors often serve manifests and fail on blobs.

- The manifest (or index) by digest: GET `manifests/<digest>`; for an index, the entry for this
  machine's linux platform (else linux/amd64, else the first), then its manifest; then the first
  layer: GET `blobs/<digest>`. Each walks the hosts in order and any error moves to the next host.
- The hosts are those `resolve` lists for the digest (`pull` suffices), so a pull-only mirror that
  tag resolution skips is asked here, as containerd does.
- Accept `<media type>, */*`, Accept-Encoding `zstd;q=1.0, gzip;q=0.8, deflate;q=0.5`, no Range
  (containerd sends none on a first fetch); the probe reads the first bytes and closes.
- A redirect (blobs often live on object storage) is followed like containerd follows it, without
  credentials for another host; the report names where it went.
"""

from __future__ import annotations

import gzip
import time
import zlib
from typing import TYPE_CHECKING

from . import net, probe_report, secrets
from .resolve import resolve

if TYPE_CHECKING:
    from .probe import ProbeResult, _Host, _Run

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")


def fetch_layer(run: _Run, result: ProbeResult) -> None:
    from .probe import FIRST_BYTES, parse_json, pick_manifest

    ref = run.ref
    hosts = resolve(f"{ref.registry}/{ref.repository}@{result.digest}", run.config).hosts
    states = run.states(hosts)
    attempts: list = []
    blob: dict[str, object] = {"ok": False, "used": None, "reason": "", "digest": None, "bytes": 0,
                               "what": f"the first {FIRST_BYTES} bytes of one layer, fetched like containerd",
                               "attempts": attempts}
    result.blob = blob
    digest, mtype = result.digest, result.media_type
    document = None
    for _level in range(2):
        got = fetch(run, states, "manifests", digest, mtype, attempts, "manifest", blob)
        if got is None:
            return
        document = parse_json(decoded(got[1]))
        if document is None:
            blob["reason"] = f"the manifest {digest} from {got[0].host.url} is not JSON"
            return
        if mtype not in INDEX_TYPES and "manifests" not in document:
            break
        entry = pick_manifest(document)
        if entry is None or not isinstance(entry.get("digest"), str):
            blob["reason"] = f"the index {digest} lists no manifest"
            return
        digest, mtype = entry["digest"], str(entry.get("mediaType", ""))
    layers = document.get("layers") if document else None
    if not isinstance(layers, list) or not layers or not isinstance(layers[0], dict):
        blob["reason"] = f"the manifest {digest} lists no layer"
        return
    layer = layers[0]
    blob["digest"] = layer.get("digest")
    got = fetch(run, states, "blobs", str(layer.get("digest", "")), str(layer.get("mediaType", "")), attempts,
                "layer", blob, limit=FIRST_BYTES)
    if got is None:
        return
    state, response = got
    blob.update(ok=True, used=state.host.url, bytes=len(response.body),
                reason=f"{response.status_text} from {state.host.url}")


def fetch(run: _Run, states: list[_Host], kind: str, digest: str, mtype: str, attempts: list, what: str,
          blob: dict[str, object], limit: int = net.MAX_BODY) -> tuple[_Host, net.Response] | None:
    """Fetch's loop over the hosts: the first 2xx wins; the reason of the first failure is kept."""
    from .probe import Attempt, exchange, request_headers

    first = ""
    for index, state in enumerate(states):
        path = state.path(kind, digest)
        headers = request_headers(state, "")
        headers["Accept"] = f"{mtype}, */*" if mtype else "*/*"
        headers["Accept-Encoding"] = "zstd;q=1.0, gzip;q=0.8, deflate;q=0.5"
        attempt = Attempt(state.host.url, what, f"GET {secrets.mask_url(state.url(path))}")
        attempts.append(attempt)
        started = time.monotonic()
        try:
            response = exchange(state, "GET", path, headers, index == len(states) - 1, limit)
        except net.NetError as exc:
            attempt.error, attempt.kind, attempt.short = str(exc), exc.kind, exc.message_tail()
            first = first or str(exc)
            if exc.kind in probe_report.STOPS_THE_PULL:
                blob["reason"] = f"{what}: {exc}"
                return None
            continue
        finally:
            attempt.ms = round((time.monotonic() - started) * 1000, 1)
        attempt.status, attempt.short = response.status, response.status_text
        if response.status > 299:
            attempt.error = probe_report.status_error(response, run.ref) if response.status != 404 else \
                f"content at {secrets.mask_url(response.url)} not found"
            first = first or attempt.error
            continue
        attempt.ok = True
        return state, response
    blob["reason"] = f"no host served the {what} {digest}: {first or 'no pull host'}"
    return None


def decoded(response: net.Response) -> bytes:
    """The body as containerd reads it after its own Content-Encoding handling."""
    encoding = response.header("Content-Encoding").strip().lower()
    try:
        if encoding == "gzip":
            return gzip.decompress(response.body)
        if encoding == "deflate":
            return zlib.decompress(response.body)
    except (OSError, zlib.error, EOFError):
        return b""
    return response.body
