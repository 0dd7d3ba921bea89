"""The probe's findings in words: per host, what happened and what containerd does next; the text
report. Reasons name the setting to change where there is one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from . import net, secrets
from .reference import Reference

if TYPE_CHECKING:
    from .probe import ProbeResult, _Host, _Run

FAILS = "the pull fails: "
#: failures after which containerd asks no further host
STOPS_THE_PULL = ("timeout-response", "files", "deadline")


def next_step(last: bool) -> str:
    return "no host is left, so the pull fails" if last else "containerd tries the next host"


def not_asked(states: list[_Host], why: str, run: _Run) -> None:
    for state in states:
        if not state.probe.tried:
            state.probe.outcome, state.probe.reason = "not asked", why


def _credentials_hint(hostport: str, run: _Run) -> str:
    """Where credentials for HOSTPORT would have to be, and near misses in the configuration."""
    keys = sorted(run.config.auth)
    host = hostport.split(":")[0] if hostport.count(":") == 1 else hostport
    near = [k for k in keys if k != hostport and (k.split(":")[0] == host or k == run.ref.registry
                                                  or (k == "docker.io" and hostport == "registry-1.docker.io"))]
    hint = f"containerd looks for configs.\"{hostport}\".auth, keyed by the endpoint host"
    if near:
        hint += f"; the configuration has them under {', '.join(repr(k) for k in near)}, which containerd never " \
                "uses for this host"
    return hint


def for_error(exc: net.NetError, state: _Host, run: _Run, last: bool) -> tuple[str, str]:
    """(outcome, reason) for a request that got no usable answer."""
    host = state.host
    hostport = state.parts.netloc
    then = next_step(last)
    kind = exc.kind
    if kind == "refused":
        return "refused", f"connection refused: nothing listens at {hostport}; {then}"
    if kind == "dns":
        return "no such host", f"{state.parts.hostname} does not resolve here; {then}"
    if kind == "timeout-connect":
        return "timeout", (f"no TCP connection within {run.timeout:g} s (containerd waits up to the host's "
                           f"dial_timeout, 30 s by default); {then}")
    if kind == "timeout-tls":
        return "timeout", f"no TLS handshake within {run.timeout:g} s (containerd gives up after 10 s); {then}"
    if kind == "timeout-response":
        return "no answer", (f"connected, but no answer within {run.timeout:g} s: containerd sets no deadline for "
                             "an answer, so the pull waits here until CRI's image_pull_progress_timeout (5m by "
                             "default) cancels it; it never reaches the next host")
    if kind == "tls-verify":
        where = f"the configured ca ({', '.join(host.ca)}) did not sign it" if host.ca else \
            "it is not signed by a CA in the system roots"
        return "x509", (f"{exc.message_tail()}: {where}; set `ca` to the CA that signed the registry's certificate "
                        f"(or skip_verify); {then}")
    if kind == "tls-client-cert":
        if host.client:
            return "client cert", (f"TLS handshake: the server rejected the client certificate "
                                   f"{host.client[0][0]} ({exc.message_tail()}); {then}")
        return "client cert", (f"TLS handshake: the server requires a client certificate and none is configured "
                               f"for this host (set `client`); {then}")
    if kind == "tls-plain-http":
        return "plain http", f"this https:// endpoint answers in plain http: write http:// in its URL; {then}"
    if kind == "tls":
        return "tls", f"TLS handshake failed ({exc.message_tail()}); {then}"
    if kind == "closed":
        return "closed", f"the server closed the connection without an answer; {then}"
    if kind == "files":
        return "TLS files", (f"{exc}: containerd cannot build this host's TLS configuration, and then fails every "
                             f"pull of {run.ref.registry} before asking any host (run the probe where the files "
                             "are: on the node)")
    if kind == "deadline":
        return "not asked", f"the probe's total time limit ({run.limit:g} s) ran out"
    if kind == "auth":
        text = str(exc)
        if "no basic auth credentials" in text:
            return "401 no credentials", (f"401 Unauthorized: the registry asks for Basic credentials and none "
                                          f"are configured for {hostport} ({_credentials_hint(hostport, run)}); "
                                          f"{then}")
        return "auth", f"authorization failed: {text}; {then}"
    return kind, f"{exc}; {then}"


def status_error(response: net.Response, ref: Reference) -> str:
    """containerd's error for a status it does not accept (`unexpectedResponseErr`)."""
    if response.status == 404:
        return f"{ref.name}: not found"
    text = f"unexpected status from {response.method} request to {secrets.mask_url(response.url)}: " \
           f"{response.status_text}"
    said = registry_says(response.body)
    return f"{text}{'; ' + said if said else ''}"


def registry_says(body: bytes) -> str:
    """The registry's own error codes and messages (distribution's errors JSON), short and masked."""
    try:
        document = json.loads(body.decode("utf-8", "replace")) if body else None
    except ValueError:
        return ""
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list):
        return ""
    parts = [f"{e.get('code', '')}: {e.get('message', '')}".strip(": ") for e in errors[:3] if isinstance(e, dict)]
    return secrets.redact("; ".join(parts))[:200]


def for_status(response: net.Response, state: _Host, run: _Run, last: bool) -> tuple[str, str]:
    status = response.status
    then = next_step(last)
    hostport = state.parts.netloc
    text = response.status_text
    said = registry_says(response.body)
    said = f" (registry says {said})" if said else ""
    if status == 404:
        ns = " with ?ns=" + run.ref.registry if "?ns=" in state.host.manifest else ""
        return "404 not found", f"{text}: this host does not have {run.ref.name} (asked{ns}){said}; {then}"
    if status == 401:
        if state.probe.requests and "Authorization" in state.probe.requests[-1].headers:
            return "401 rejected", (f"{text} with the credentials configured for {hostport}: the registry rejects "
                                    f"them (invalid authorization){said}; {then}")
        has = state.probe.auth not in ("", "none")
        why = "the registry offers no auth scheme containerd supports" if has else \
            f"the registry wants credentials and none are configured for {hostport} " \
            f"({_credentials_hint(hostport, run)})"
        return "401 no credentials", f"{text}: {why}{said}; {then}"
    if status == 403:
        return "403 forbidden", f"{text}: the registry refuses this repository to these credentials{said}; {then}"
    if status < 400:
        return f"{status} unexpected", f"{text}: not a redirect containerd follows; {FAILS}containerd stops here"
    retried = " (containerd asked once more, as the last host)" if last and status in (500, 503, 504) else ""
    return f"{status} error", f"{text}{retried}{said}: containerd remembers the error; {then}"


def too_large(size: int, last: bool) -> str:
    return f"the manifest is {size} bytes, over containerd's 4 MiB limit; {next_step(last)}"


def served(response: net.Response, state: _Host, digest: str) -> str:
    auth = f", {state.probe.auth}" if state.probe.auth not in ("", "none") else ""
    return f"{response.status_text}: serves the manifest {digest}{auth}; containerd pulls from here"


def stopped(exc: net.NetError, state: _Host, run: _Run) -> str:
    if exc.kind == "timeout-response":
        return (f"the pull hangs at {state.host.url}: it accepts the connection and does not answer "
                f"(containerd does not move on; CRI cancels the pull after image_pull_progress_timeout)")
    if exc.kind == "files":
        return f"containerd cannot load the TLS files of {state.host.url}: {exc}"
    return f"the probe's total time limit ({run.limit:g} s) ran out before a host answered"


def render_text(result: ProbeResult) -> str:
    resolution = result.resolution
    lines = [f"image:    {resolution.image}", f"registry: {resolution.registry} (from {resolution.source})"]
    for number, (host, probe) in enumerate(zip(resolution.hosts, result.probes), 1):
        lines.append(f"{number}. {host.url}  [{' '.join(host.capabilities)}]")
        lines.append(f"   {probe.request or 'HEAD ' + host.manifest}")
        status = f" {probe.status}" if probe.status is not None and not probe.outcome.startswith(str(probe.status)) \
            else ""
        timing = f", {probe.ms:g} ms" if probe.tried else ""
        lines.append(f"   -> {probe.outcome}{status}{timing}: {probe.reason}")
        if probe.tls and probe.tried:
            state = "ok" if probe.tls.get("ok") else ("failed" if probe.tls.get("ok") is False else "not reached")
            client = ", client certificate" if probe.tls.get("client_cert") else ""
            first = ", https first" if probe.tls.get("https_first") else ""
            lines.append(f"   tls: {state} ({probe.tls['verify']}{client}{first})")
        if probe.auth not in ("", "none"):
            lines.append(f"   auth: {probe.auth}")
        lines.extend(f"   note: {note}" for note in probe.notes)
    lines.extend(f"skipped {text}" for text in resolution.skipped)
    lines.extend(f"note: {note}" for note in result.notes)
    if result.used:
        lines.append(f"used: {result.used}  ({result.digest})")
    else:
        lines.append(f"no host served the manifest: {result.reason}")
    if result.blob is not None:
        blob = result.blob
        lines.append(f"blob: {blob.get('what')}")
        for attempt in blob.get("attempts", []):  # type: ignore[union-attr]
            then = "" if attempt.ok else ": next host"
            lines.append(f"   {attempt.request} -> {attempt.short}{then}, {attempt.ms:g} ms")
        if blob.get("ok"):
            lines.append(f"blob used: {blob.get('used')}  ({blob.get('bytes')} bytes read)")
        else:
            lines.append(f"no host served the blob: {blob.get('reason')}")
    return secrets.redact("\n".join(lines)) + "\n"
