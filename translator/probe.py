"""`resolve --probe`: ask each host what containerd would ask, in its order and with its fallback
rules, and say why a pull would come from it, move on, or fail.

Ported from containerd v2.1.4 (1.7.27 differs only in the error kept, noted below):
- `core/remotes/docker/resolver.go` Resolve (l. 226-420): for a tag, `HEAD <prefix>/<repo>/manifests/<tag>`
  on the hosts with pull and resolve; for a digest, `manifests/<digest>` on every pull host, then
  `blobs/<digest>` on every pull host (the loop over paths is outside the loop over hosts). Accept:
  Docker manifest v2, manifest list, OCI manifest, OCI index, `*/*` (NewResolver, l. 160).
  `?ns=<registry>` for every host but the registry's own (addNamespace). 404 -> next host; any other
  status >= 400 -> next host; a transport or authorization error -> next host; another 3xx -> the
  pull fails. A 2xx without Docker-Content-Digest (tags) or Content-Length -> GET the same URL,
  whose failure ends the pull. The error reported at the end is the first of the furthest kind
  (size > sizes > 404 > errors; 1.7 keeps the first non-404 status or error).
- `request.doWithRetries`/`retryRequest` (l. 690-745): 401 -> authorizer (`net.Authorizer`) and
  retry; 405 on a HEAD of a manifest -> GET; 408/429 -> retry; 500/503/504 -> one retry on the last
  host; at most 6 answers. Headers: the global headers, then the host's, `User-Agent:
  containerd/<version>` unless set.
- `core/remotes/docker/config/hosts.go` (l. 195-240): an http:// host with TLS settings (not port 80)
  tries https first and falls back to http on a TLS error (`NewHTTPFallback`, resolver.go l. 870).
- `fetcher.go` Fetch (l. 220-330), for `--blob`: after resolving, GET `manifests/<digest>` (and the
  platform's manifest of an index), then GET `blobs/<layer>`, each on every host in order, any
  error -> next host; Accept `<media type>, */*`, Accept-Encoding `zstd;q=1.0, gzip;q=0.8,
  deflate;q=0.5`, no Range on a first fetch. containerd loops over every host there, pull or not;
  the probe asks only hosts with `pull`, like `resolve` of the digest.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import time
from urllib.parse import urlsplit

from . import net, secrets
from .model import Config
from .record import field, record
from .reference import Reference, parse
from .resolve import Resolution, ResolvedHost, resolve

MANIFEST_ACCEPT = ("application/vnd.docker.distribution.manifest.v2+json, "
                   "application/vnd.docker.distribution.manifest.list.v2+json, "
                   "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, */*")
BLOB_ENCODING = "zstd;q=1.0, gzip;q=0.8, deflate;q=0.5"
MAX_MANIFEST = 4 * 1048 * 1048
FIRST_BYTES = 1024
DEFAULT_TIMEOUT = 5.0
MAX_TOTAL = 120.0
MAX_ANSWERS = 6


def total_limit(timeout: float, hosts: int, blob: bool) -> float:
    """The whole run's limit: four calls per host (auth and retries), twice with --blob, at most 2 min."""
    return min(MAX_TOTAL, timeout * 4 * max(1, hosts) * (2 if blob else 1))


@record(mutable=True)
class Attempt:
    """What one host answered to one of containerd's requests."""

    host: str
    what: str
    request: str
    ok: bool = False
    status: int | None = None
    error: str | None = None
    kind: str = ""
    ms: float = 0.0
    #: the answer in a few words: a status, or the error without its request prefix
    short: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"host": self.host, "what": self.what, "request": self.request, "ok": self.ok,
                "status": self.status, "error": self.error, "ms": self.ms}


@record(mutable=True)
class HostProbe:
    ok: bool = False
    status: int | None = None
    error: str | None = None
    ms: float = 0.0
    tried: bool = False
    outcome: str = "not asked"
    reason: str = ""
    tls: dict[str, object] | None = None
    auth: str = "none"
    request: str = ""
    requests: list[net.Exchange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "status": self.status, "error": self.error, "ms": self.ms, "tried": self.tried,
                "outcome": self.outcome, "reason": self.reason, "tls": self.tls, "auth": self.auth,
                "request": self.request, "requests": [r.as_dict() for r in self.requests], "notes": self.notes}


@record(mutable=True)
class ProbeResult:
    resolution: Resolution
    probes: list[HostProbe]
    used: str | None = None
    reason: str = ""
    digest: str = ""
    media_type: str = ""
    blob: dict[str, object] | None = None
    notes: list[str] = field(default_factory=list)
    timeout: float = DEFAULT_TIMEOUT
    limit: float = 0.0

    @property
    def ok(self) -> bool:
        return self.used is not None and (self.blob is None or bool(self.blob.get("ok")))

    def as_dict(self) -> dict[str, object]:
        document = self.resolution.as_dict()
        for host, probe in zip(document["hosts"], self.probes):  # type: ignore[arg-type]
            host["probe"] = probe.as_dict()
        document.update(used=self.used, reason=self.reason, digest=self.digest or None,
                        timeout=self.timeout, limit=self.limit, notes=self.notes)
        if self.blob is not None:
            attempts = [a.as_dict() for a in self.blob.get("attempts", [])]  # type: ignore[union-attr]
            document["blob"] = {**self.blob, "attempts": attempts}
        # every value here was masked where it was made (requests, errors, headers); the CLI's
        # redact() pass over the text is the last net
        return document


class _Host:
    """One host's client, authorizer and https-first state for the whole run."""

    def __init__(self, host: ResolvedHost, run: _Run) -> None:
        self.host = host
        self.parts = urlsplit(host.url)
        self.probe = HostProbe()
        self.files_error: net.NetError | None = None
        self.fell_back = False
        skip = host.skip_verify
        try:
            context = net.tls_context(host.ca, host.client, skip)
        except net.NetError as exc:
            self.files_error = exc
            context = net.tls_context([], [], skip)
        self.client = net.Client(context, run.timeout, run.deadline, self.probe.requests)
        headers = {name: ", ".join(values) for name, values in host.header.items()}
        self.headers = headers
        self.authorizer = net.Authorizer(self.client, run.credentials, headers, run.scope, run.plain_ok)
        if host.https_first or self.parts.scheme == "https":
            verify = "skip_verify" if skip else ("system roots" + (f" + {len(host.ca)} ca file(s)" if host.ca else ""))
            self.probe.tls = {"verify": verify, "client_cert": bool(host.client), "https_first": host.https_first,
                              "ok": None, "error": None}

    def url(self, path: str) -> str:
        scheme = "https" if self.host.https_first and not self.fell_back else self.parts.scheme
        return f"{scheme}://{self.parts.netloc}{path}"

    def path(self, kind: str, obj: str) -> str:
        """resolver.go request(): path.Join("/", host.Path, repository, kind, obj), plus `?ns=`."""
        base, _, query = self.host.manifest.partition("?")
        repository = base[len(self.host.url) + 1:base.rindex("/manifests/")]
        joined = re.sub("/+", "/", "/".join(("", self.parts.path, repository, kind, obj)))
        parts = [p for p in joined.split("/") if p not in ("", ".")]
        cleaned: list[str] = []
        for part in parts:
            if part == "..":
                if cleaned:
                    cleaned.pop()
            else:
                cleaned.append(part)
        return "/" + "/".join(cleaned) + (f"?{query}" if query else "")

    def send(self, method: str, path: str, headers: dict[str, str], limit: int) -> net.Response:
        url = self.url(path)
        try:
            try:
                response = self.client.send(method, url, headers, limit=limit)
            except net.NetError as exc:
                raise self._why_closed(exc, method, url) from None
        except net.NetError as exc:
            if self.probe.tls is not None and (exc.kind.startswith("tls") or exc.kind == "timeout-tls"):
                self.probe.tls = {**(self.probe.tls or {}), "ok": False, "error": str(exc)}
            if not self._fall_back(exc):
                raise
            self.fell_back = True
            self.probe.notes.append(f"https failed ({exc.kind}); containerd falls back to http for this host")
            response = self.client.send(method, self.url(path), headers, limit=limit)
        if url.startswith("https:") and self.probe.tls is not None and self.probe.tls.get("ok") is None:
            self.probe.tls["ok"] = True
        return response

    def _why_closed(self, exc: net.NetError, method: str, url: str) -> net.NetError:
        """With TLS 1.3 a server that wants a client certificate may close the connection before its
        alert is read, so the error says little. Without a client pair configured, ask once more over
        TLS 1.2, where the request for a certificate fails inside the handshake with a clear alert."""
        if exc.kind not in ("closed", "tls") or not url.startswith("https:") or self.host.client:
            return exc
        import ssl

        context = net.tls_context(self.host.ca, [], bool(self.host.skip_verify))
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        for _attempt in range(3):  # the alert itself can be lost to a reset: ask up to three times
            check = net.Client(context, self.client.timeout, self.client.deadline, [])
            try:
                check.send(method, url, {}, limit=1)
                return exc
            except net.NetError as again:
                if again.kind == "tls-client-cert":
                    self.probe.notes.append("the connection closed after the TLS 1.3 handshake; over TLS 1.2 the "
                                            "server asks for a client certificate")
                    return again
                if again.kind not in ("closed", "tls"):
                    return exc
            finally:
                check.close()
        return exc

    def _fall_back(self, exc: net.NetError) -> bool:
        """httpFallback: a TLS record that is plain HTTP, a TLS handshake timeout, or (no port) a
        connection error."""
        if not self.host.https_first or self.fell_back:
            return False
        no_port = self.parts.port is None
        return exc.kind in ("tls-plain-http", "timeout-tls") or (no_port and exc.kind in ("refused", "timeout-connect",
                                                                                         "connect"))


class _Run:
    def __init__(self, config: Config, ref: Reference, resolution: Resolution, timeout: float, blob: bool) -> None:
        self.config = config
        self.ref = ref
        self.timeout = timeout
        self.limit = total_limit(timeout, len(resolution.hosts), blob)
        self.deadline = time.monotonic() + self.limit
        self.scope = f"repository:{ref.repository}:pull"
        self.http_hosts = {urlsplit(h.url).netloc for h in resolution.hosts if h.url.startswith("http:")}
        self.hosts: dict[str, _Host] = {}

    def plain_ok(self, hostport: str) -> bool:
        return hostport in self.http_hosts

    def credentials(self, hostport: str) -> tuple[str, str]:
        """CRI's `configs.<host>.auth` by the host that answered 401, read as ParseAuth reads it."""
        auth = self.config.auth.get(hostport)
        if auth is None:
            return "", ""
        for value in (auth.password, auth.identitytoken, auth.auth):
            secrets.remember(value)
        if auth.username:
            return auth.username, auth.password
        if auth.identitytoken:
            return "", auth.identitytoken
        if auth.auth:
            import base64
            import binascii

            try:
                decoded = base64.b64decode(auth.auth).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                raise net.AuthError(f"credentials for {hostport}: auth is not valid base64") from None
            user, colon, password = decoded.partition(":")
            if not colon:
                raise net.AuthError(f"credentials for {hostport}: the decoded auth has no ':'")
            secrets.remember(password)
            return user, password.strip("\x00")
        return "", ""

    def states(self, hosts: list[ResolvedHost]) -> list[_Host]:
        """One state per host; the same URL listed again (tried twice) gets its own."""
        out = []
        for host in hosts:
            nth = sum(1 for h in out if h.host.url == host.url)
            out.append(self.state(host, nth))
        return out

    def state(self, host: ResolvedHost, nth: int = 0) -> _Host:
        key = f"{host.url}\0{nth}"
        if key not in self.hosts:
            self.hosts[key] = _Host(host, self)
        return self.hosts[key]


def exchange(state: _Host, method: str, path: str, headers: dict[str, str], last: bool,
             limit: int = net.MAX_BODY) -> net.Response:
    """One of containerd's requests with its retries (`doWithRetries`, `retryRequest`)."""
    if state.files_error is not None:
        raise state.files_error
    history: list[tuple[str, str, list[str]]] = []
    statuses: list[int] = []
    while True:
        sent = dict(headers)
        state.authorizer.authorize(state.url(path), sent)
        response = state.send(method, path, sent, limit)
        history.append((method, response.url, response.header_values("WWW-Authenticate")))
        statuses.append(response.status)
        state.probe.status = response.status
        if len(history) >= MAX_ANSWERS:
            return response
        status = response.status
        if status == 401:
            if not state.authorizer.add_response(history):
                return response
            state.probe.auth = state.authorizer.outcome or state.probe.auth
            if "Authorization" in sent and len(history) > 1 and history[-2][:2] == history[-1][:2]:
                state.probe.notes.append("credentials rejected: containerd sends them again until it has "
                                         f"{MAX_ANSWERS} answers, then moves on; the probe stops at the second")
                return response
            continue
        if status == 405 and method == "HEAD" and "/manifests/" in path:
            method = "GET"
            continue
        if status in (408, 429):
            continue
        if status in (500, 503, 504) and last and not (len(statuses) > 1 and statuses[-2] == status):
            continue
        if state.authorizer.outcome:
            state.probe.auth = state.authorizer.outcome
        return response


def resolve_manifest(run: _Run, states: list[_Host], result: ProbeResult) -> None:
    """containerd's Resolve: the hosts in order, each failure kept by priority, the first success used."""
    from . import probe_report as words

    ref = run.ref
    paths = [("manifests", ref.object)] + ([("blobs", ref.digest)] if ref.digest else [])
    first_error, priority = "", 0
    for kind, obj in paths:
        for index, state in enumerate(states):
            last = index == len(states) - 1
            probe = state.probe
            path = state.path(kind, obj)
            headers = request_headers(state, MANIFEST_ACCEPT)
            if probe.tried:
                probe.notes.append(f"{probe.outcome} for {probe.request}")
            probe.tried = True
            probe.request = f"HEAD {secrets.mask_url(state.url(path))}"
            started = time.monotonic()
            try:
                response = exchange(state, "HEAD", path, headers, last)
            except net.NetError as exc:
                probe.error = str(exc)
                probe.outcome, probe.reason = words.for_error(exc, state, run, last)
                if exc.kind in words.STOPS_THE_PULL:
                    result.reason = words.stopped(exc, state, run)
                    words.not_asked(states[index + 1:], result.reason, run)
                    return
                if priority < 1:
                    first_error, priority = str(exc), 1
                continue
            finally:
                probe.ms = round(probe.ms + (time.monotonic() - started) * 1000, 1)
            probe.status = response.status
            if response.status > 299:
                probe.error = words.status_error(response, ref)
                probe.outcome, probe.reason = words.for_status(response, state, run, last)
                if response.status == 404 and priority < 2:
                    first_error, priority = probe.error, 2
                elif response.status > 399 and priority < 3:
                    first_error, priority = probe.error, 3
                elif response.status < 400:
                    result.reason = probe.error
                    words.not_asked(states[index + 1:], f"the pull failed at {state.host.url}", run)
                    return
                continue
            found = _found(run, state, response, path, headers, result)
            if found is None:
                words.not_asked(states[index + 1:], f"the pull failed at {state.host.url}", run)
                return
            digest, size, mtype = found
            if size > MAX_MANIFEST:
                probe.error = f"rejecting {size} byte manifest for {ref.name}: not found"
                probe.outcome, probe.reason = "too large", words.too_large(size, last)
                if priority < 4:
                    first_error, priority = probe.error, 4
                continue
            probe.ok, probe.error = True, None
            probe.outcome, probe.reason = "ok", words.served(response, state, digest)
            result.used, result.digest, result.media_type = state.url(state.parts.path), digest, mtype
            words.not_asked(states[index + 1:], f"containerd stops at {state.host.url}, which served the manifest",
                            run)
            return
    result.reason = first_error or f"{ref.name}: not found"


def request_headers(state: _Host, accept: str) -> dict[str, str]:
    """The host's headers (global, then its own), Accept, and containerd's User-Agent unless set."""
    headers = dict(state.headers)
    headers["Accept"] = ", ".join(v for v in (headers.pop("Accept", ""), accept) if v)
    if not any(k.lower() == "user-agent" for k in headers):
        headers["User-Agent"] = net.USER_AGENT
    return headers


def _found(run: _Run, state: _Host, response: net.Response, path: str, headers: dict[str, str],
           result: ProbeResult) -> tuple[str, int, str] | None:
    """Digest, size and media type of a manifest a host served; None when the GET containerd makes
    for them fails (which ends the pull)."""
    from . import probe_report as words

    size, mtype, digest = response.length, media_type(response), run.ref.digest
    if not digest:
        header = response.header("Docker-Content-Digest")
        if header and size != -1:
            if not re.match(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$", header):
                result.reason = f"{header!r} in header not a valid digest"
                state.probe.outcome, state.probe.reason = "bad digest", words.FAILS + result.reason
                return None
            digest = header
    if digest and size != -1:
        return digest, size, mtype
    state.probe.notes.append("no Docker-Content-Digest or Content-Length: containerd fetches the manifest with GET")
    started = time.monotonic()
    try:
        got = exchange(state, "GET", path, headers, True)
    except net.NetError as exc:
        result.reason = str(exc)
        state.probe.error = str(exc)
        state.probe.outcome, state.probe.reason = "GET failed", words.FAILS + str(exc)
        return None
    finally:
        state.probe.ms = round(state.probe.ms + (time.monotonic() - started) * 1000, 1)
    if got.status > 299:
        state.probe.notes.append(f"the GET answered {got.status_text}; containerd does not check that status and "
                                 "takes the body as the manifest")
    digest, size = manifest_digest(got, digest)
    return digest, size, media_type(got)


def probe(image: str, config: Config, resolution: Resolution | None = None, timeout: float = DEFAULT_TIMEOUT,
          blob: bool = False) -> ProbeResult:
    """Ask the hosts `resolve` lists for IMAGE what containerd would ask, and what it would end up using."""
    ref = parse(image)
    resolution = resolution or resolve(image, config)
    run = _Run(config, ref, resolution, timeout, blob)
    result = ProbeResult(resolution, [], timeout=timeout, limit=run.limit)
    probed, owner = _collapse(resolution.hosts)
    states = run.states(probed)
    # the two attempts of an HTTPS-first host (https, then http after a TLS error) share one probe
    result.probes = [states[owner[index]].probe for index in range(len(resolution.hosts))]
    for state in states:
        state.probe.notes.extend(state.host.notes)
    proxies = net.proxy_settings()
    if proxies:
        result.notes.append(f"{', '.join(proxies)} set here: the probe connects directly; containerd uses the "
                            "proxy settings of its own (daemon) environment")
    broken = [s for s in states if s.files_error is not None]
    if broken:
        from . import probe_report as words

        for state in broken:
            state.probe.error = str(state.files_error)
            state.probe.outcome, state.probe.reason = words.for_error(state.files_error, state, run, False)
        words.not_asked(states, "not asked: containerd fails the pull before asking any host", run)
        result.reason = words.stopped(broken[0].files_error, broken[0], run)
        return result
    try:
        resolve_manifest(run, states, result)
        if blob and result.used:
            from . import probe_blob

            probe_blob.fetch_layer(run, result)
    finally:
        for state in run.hosts.values():
            state.client.close()
            notes = [f"redirected {r} (containerd follows redirects; credentials are not sent to another host)"
                     for r in state.client.redirects] + list(dict.fromkeys(state.authorizer.notes))
            if any(state.probe is p for p in result.probes):
                state.probe.notes.extend(notes)
            else:
                result.notes.extend(f"{state.host.url}: {note}" for note in notes)
    return result


def _collapse(hosts: list[ResolvedHost]) -> tuple[list[ResolvedHost], list[int]]:
    """The hosts to ask, with the https and http attempts of an HTTPS-first host made one host again
    (the probe falls back the way containerd's httpFallback does), and for each resolved host the
    index of the one asked for it."""
    from .record import replace

    probed: list[ResolvedHost] = []
    owner: list[int] = []
    for index, host in enumerate(hosts):
        if host.fallback and index and hosts[index - 1].https_first:
            owner.append(owner[-1])
            continue
        if host.https_first and index + 1 < len(hosts) and hosts[index + 1].fallback:
            fallback = hosts[index + 1]
            host = replace(host, url=fallback.url, manifest=fallback.manifest)
        owner.append(len(probed))
        probed.append(host)
    return probed, owner


def manifest_digest(response: net.Response, known: str) -> tuple[str, int]:
    """The digest and size containerd takes from a GET of the manifest."""
    if known:
        return known, len(response.body)
    return "sha256:" + hashlib.sha256(response.body).hexdigest(), len(response.body)


def media_type(response: net.Response) -> str:
    """getManifestMediaType: Content-Type without parameters; text/plain is schema 1."""
    value = response.header("Content-Type").split(";", 1)[0].strip()
    return "application/vnd.docker.distribution.manifest.v1+prettyjws" if value == "text/plain" else value


def pick_manifest(document: dict) -> dict | None:
    """From an index: this machine's linux platform, else linux/amd64, else the first entry."""
    entries = [m for m in document.get("manifests", []) if isinstance(m, dict)]
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    for arch in (machine, "amd64"):
        for entry in entries:
            plat = entry.get("platform") or {}
            if plat.get("os") == "linux" and plat.get("architecture") == arch:
                return entry
    return entries[0] if entries else None


def parse_json(body: bytes) -> dict | None:
    try:
        document = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def run(image: str, config: Config, resolution: Resolution, timeout: float = DEFAULT_TIMEOUT, blob: bool = False,
        as_json: bool = False) -> tuple[str, bool]:
    """The probe as the CLI prints it: (text or JSON, whether the pull would get what it asked for)."""
    from . import probe_report

    result = probe(image, config, resolution, timeout=timeout, blob=blob)
    if as_json:
        return secrets.redact(json.dumps(result.as_dict(), indent=2, ensure_ascii=False)) + "\n", result.ok
    return probe_report.render_text(result), result.ok
