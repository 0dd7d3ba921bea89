"""The network, in one place: the only module that imports an HTTP library (urllib3), and only
`resolve --probe` imports it, so no other command pays for it at start-up.

- `tls_context`: a host's TLS as containerd builds it (`core/remotes/docker/config/hosts.go`
  `updateTLSConfigFromHost`, v2.1.4): the system roots plus every `ca`, each client pair (a `""`
  key means the key is inside the cert file), `skip_verify` as Go's InsecureSkipVerify.
- `Client`: one request at a time with a per-call timeout and the run's deadline, redirects
  followed like Go's http.Client (at most 10, HEAD stays HEAD), credentials never carried to
  another host or scheme. Failures become `NetError`s with Go's words where users grep for them.
- `Authorizer`: containerd's `dockerAuthorizer` (`core/remotes/docker/authorizer.go`,
  `auth/fetch.go`, `auth/parse.go` at v2.1.4): 401 -> `WWW-Authenticate` (Bearer before Basic),
  Basic with the host's credentials, or the token flow: POST the realm (OAuth password or
  refresh-token grant) when there are credentials, falling back to GET with Basic on 400/401/404
  (405 with a username), GET anonymously otherwise.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import urllib3
from urllib3 import exceptions as u3

from . import secrets
from .record import field, record

#: what containerd sends unless a configured header sets it (`resolver.go` request(): "containerd/"+version)
USER_AGENT = "containerd/v2.1.4"
MAX_REDIRECTS = 10  # resolver.go do(): "stopped after 10 redirects"
#: the most a probe reads of any body: containerd's MaxManifestSize (resolver.go) plus one byte
MAX_BODY = 4 * 1048 * 1048 + 1
REDIRECTS = (301, 302, 303, 307, 308)


class NetError(Exception):
    """A request that got no HTTP response. `kind`: refused, dns, timeout-connect, timeout-tls,
    timeout-response, tls-verify, tls-client-cert, tls-plain-http, tls, closed, deadline, files, auth."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(secrets.redact(message))
        self.kind = kind

    def message_tail(self) -> str:
        """The message without its `failed to do request: Verb "url": ` prefix."""
        text = str(self)
        return text.split('": ', 1)[1] if text.startswith("failed to do request") and '": ' in text else text


@record(mutable=True)
class Exchange:
    """One request as it went over the wire (secret header values masked)."""

    method: str
    url: str
    headers: dict[str, str]
    status: int | None = None
    error: str | None = None
    ms: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {"method": self.method, "url": self.url, "headers": self.headers, "status": self.status,
                "error": self.error, "ms": self.ms}


@record(mutable=True)
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    url: str
    method: str

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def length(self) -> int:
        """Content-Length, or -1 like Go's resp.ContentLength when absent or invalid."""
        try:
            return int(self.header("Content-Length"))
        except ValueError:
            return -1

    @property
    def status_text(self) -> str:
        return f"{self.status} {self.reason}".strip()


def tls_context(ca: list[str], client: list[list[str]], skip_verify: bool) -> ssl.SSLContext:
    """The TLS configuration containerd gives the host. Unreadable files raise NetError("files")."""
    context = ssl.create_default_context()
    if skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    for path in ca:
        try:
            context.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise NetError("files", f"unable to load CA cert {path!r}: {_os_reason(exc)}") from None
    for pair in client:
        cert, key = pair[0], (pair[1] if len(pair) > 1 else "")
        try:
            context.load_cert_chain(cert, key or None)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise NetError("files", f"failed to load X509 key pair {cert!r}, {key or cert!r}: "
                                    f"{_os_reason(exc)}") from None
    return context


def _os_reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc) or type(exc).__name__


def host_of(url: str) -> str:
    return urlsplit(url).netloc


def masked_headers(headers: dict[str, str]) -> dict[str, str]:
    out = {}
    for name, value in headers.items():
        if secrets.is_secret_header(name):
            scheme = value.split(" ", 1)[0] if " " in value else ""
            out[name] = f"{scheme} {secrets.MASK}".strip()
        else:
            out[name] = secrets.redact(value)
    return out


class Client:
    """The HTTP client of one host: its TLS context, `timeout` per call (connect and each read),
    nothing past `deadline` (time.monotonic()). Every request is appended to `log`."""

    def __init__(self, context: ssl.SSLContext, timeout: float, deadline: float, log: list[Exchange]) -> None:
        self.context = context
        self.timeout = timeout
        self.deadline = deadline
        self.log = log
        # no proxy (containerd's daemon reads *_PROXY from its own environment, not the user's), no
        # retries, no redirects: each is done here, the way containerd does it
        self.pool = urllib3.PoolManager(num_pools=8, maxsize=1, ssl_context=context, retries=False)
        #: every redirect followed, as "from -> to" (masked)
        self.redirects: list[str] = []

    def close(self) -> None:
        self.pool.clear()

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None = None,
             limit: int = MAX_BODY) -> Response:
        """METHOD URL, following redirects; reads at most LIMIT bytes of the final body."""
        origin = urlsplit(url)
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._one(method, url, headers, body, limit)
            location = response.header("Location")
            if response.status not in REDIRECTS or not location:
                return response
            target = urljoin(url, location)
            moved = urlsplit(target)
            if moved.scheme not in ("http", "https"):
                return response
            if response.status in (301, 302, 303) and method not in ("GET", "HEAD"):
                method, body = "GET", None
            if (moved.scheme, moved.netloc) != (origin.scheme, origin.netloc):
                # Go drops Authorization when the redirect leaves the host; the probe also drops it
                # on a scheme change, and drops every header that may hold a secret
                headers = {k: v for k, v in headers.items() if not secrets.is_secret_header(k)}
            self.redirects.append(f"{secrets.mask_url(url)} -> {secrets.mask_url(target)}")
            url = target
        raise NetError("redirects", f"{method} {secrets.mask_url(url)}: stopped after {MAX_REDIRECTS} redirects")

    def _one(self, method: str, url: str, headers: dict[str, str], body: bytes | None, limit: int) -> Response:
        remaining = self.deadline - time.monotonic()
        sent = dict(headers)
        names = {k.lower() for k in sent}
        # Go's transport asks for gzip (and decodes it) on every request but HEAD that sets neither
        # Accept-Encoding nor Range; it never sends Accept-Encoding otherwise (urllib3 would: skip it)
        decode = method != "HEAD" and "accept-encoding" not in names and "range" not in names
        if decode:
            sent["Accept-Encoding"] = "gzip"
        record = Exchange(method, secrets.mask_url(url), masked_headers(sent))
        if "accept-encoding" not in {k.lower() for k in sent}:
            sent["Accept-Encoding"] = urllib3.util.SKIP_HEADER
        self.log.append(record)
        if remaining <= 0:
            record.error = "not sent: the probe's total time limit ran out"
            raise NetError("deadline", record.error)
        wait = max(0.05, min(self.timeout, remaining))
        started = time.monotonic()
        try:
            raw = self.pool.request(method, url, headers=sent, body=body, redirect=False,
                                    preload_content=False, decode_content=decode,
                                    timeout=urllib3.Timeout(connect=wait, read=wait))
            try:
                data = _read(raw, limit, self.deadline) if method != "HEAD" else b""
            finally:
                raw.close()
        except Exception as exc:
            record.ms = round((time.monotonic() - started) * 1000, 1)
            error = classify(exc, method, url, wait)
            record.error = str(error)
            raise error from None
        record.ms = round((time.monotonic() - started) * 1000, 1)
        record.status = raw.status
        return Response(raw.status, raw.reason or "", list(raw.headers.items()), data, url, method)


def _read(raw: urllib3.BaseHTTPResponse, limit: int, deadline: float) -> bytes:
    chunks, size = [], 0
    while size < limit:
        if time.monotonic() > deadline:
            raise NetError("deadline", "the probe's total time limit ran out while reading the body")
        chunk = raw.read(min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _root(exc: BaseException) -> BaseException:
    """The innermost cause urllib3 wrapped."""
    seen = 0
    while seen < 8:
        seen += 1
        inner = None
        if isinstance(exc, (u3.SSLError, u3.ProtocolError, u3.ProxyError)) and exc.args:
            inner = exc.args[-1] if isinstance(exc.args[-1], BaseException) else None
        inner = inner or exc.__cause__ or exc.__context__
        if inner is None or inner is exc:
            return exc
        exc = inner
    return exc


_CLIENT_CERT_ALERTS = ("CERTIFICATE_REQUIRED", "HANDSHAKE_FAILURE", "BAD_CERTIFICATE", "UNKNOWN_CA",
                       "CERTIFICATE_UNKNOWN", "ACCESS_DENIED")
_PLAIN_HTTP = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG")


def classify(exc: BaseException, method: str, url: str, wait: float) -> NetError:
    """A transport failure in containerd's (Go's) words, with a kind the probe decides on."""
    if isinstance(exc, NetError):
        return exc
    parts = urlsplit(url)
    verb = method.capitalize()
    prefix = f'failed to do request: {verb} "{secrets.mask_url(url)}"'
    addr = parts.netloc if parts.port else f"{parts.netloc}:{443 if parts.scheme == 'https' else 80}"
    root = _root(exc)
    if isinstance(root, ssl.SSLCertVerificationError):
        return NetError("tls-verify", f"{prefix}: tls: failed to verify certificate: {_x509(root, parts.hostname)}")
    if isinstance(root, ssl.SSLError) or isinstance(exc, u3.SSLError):
        reason = getattr(root, "reason", None) or ""
        text = getattr(root, "verify_message", None) or str(root)
        if any(a in reason for a in _CLIENT_CERT_ALERTS):
            return NetError("tls-client-cert", f"{prefix}: remote error: tls: {reason.lower().replace('_', ' ')}")
        if any(a in reason for a in _PLAIN_HTTP):
            return NetError("tls-plain-http", f"{prefix}: http: server gave HTTP response to HTTPS client")
        if isinstance(root, TimeoutError) or "timed out" in text:
            return NetError("timeout-tls", f"{prefix}: net/http: TLS handshake timeout (no answer in {wait:g} s)")
        return NetError("tls", f"{prefix}: TLS handshake: {text}")
    if isinstance(exc, u3.NameResolutionError) or isinstance(root, socket.gaierror):
        return NetError("dns", f"{prefix}: dial tcp: lookup {parts.hostname}: no such host")
    if isinstance(exc, u3.NewConnectionError) or isinstance(root, ConnectionRefusedError):
        if isinstance(root, ConnectionRefusedError):
            return NetError("refused", f"{prefix}: dial tcp {addr}: connect: connection refused")
        return NetError("connect", f"{prefix}: dial tcp {addr}: {_os_reason(root)}")
    if isinstance(exc, u3.ConnectTimeoutError):
        if parts.scheme == "https" and "handshake" in str(exc).lower():
            return NetError("timeout-tls", f"{prefix}: net/http: TLS handshake timeout (no answer in {wait:g} s)")
        return NetError("timeout-connect", f"{prefix}: dial tcp {addr}: i/o timeout (no connection in {wait:g} s)")
    if isinstance(exc, u3.ReadTimeoutError) or isinstance(root, (TimeoutError, socket.timeout)):
        if parts.scheme == "https" and _handshake_phase(exc):
            return NetError("timeout-tls", f"{prefix}: net/http: TLS handshake timeout (no answer in {wait:g} s)")
        return NetError("timeout-response", f"{prefix}: no response within {wait:g} s")
    if isinstance(root, (ConnectionResetError, BrokenPipeError)) or isinstance(exc, u3.ProtocolError):
        return NetError("closed", f"{prefix}: EOF (the server closed the connection without an answer)")
    return NetError("connect", f"{prefix}: {secrets.redact(str(root) or type(root).__name__)}")


def _handshake_phase(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "handshake" in text or "_ssl" in text


def _x509(error: ssl.SSLCertVerificationError, hostname: str | None) -> str:
    code = getattr(error, "verify_code", 0)
    message = getattr(error, "verify_message", "") or str(error)
    if code in (18, 19, 20, 21, 2):
        return "x509: certificate signed by unknown authority"
    if code == 62 or "mismatch" in message.lower():
        return f"x509: certificate is not valid for {hostname} ({message})"
    if code == 10:
        return "x509: certificate has expired or is not yet valid"
    return f"x509: {message}"


# --- authorization --------------------------------------------------------------------------------

def parse_challenges(values: list[str]) -> list[tuple[str, dict[str, str]]]:
    """`auth.ParseAuthHeader`: (scheme, params) of each WWW-Authenticate value, bearer before basic;
    unknown schemes are dropped."""
    order = {"bearer": 0, "digest": 1, "basic": 2}
    found = []
    for value in values:
        scheme, params = _value_and_params(value)
        if scheme in order:
            found.append((scheme, params))
    return sorted(found, key=lambda item: order[item[0]])


_SEPARATORS = set(' \t"(),/:;<=>?@[]\\{}')


def _token(s: str) -> tuple[str, str]:
    i = 0
    while i < len(s) and 32 < ord(s[i]) < 127 and s[i] not in _SEPARATORS:
        i += 1
    return s[:i], s[i:]


def _value_and_params(header: str) -> tuple[str, dict[str, str]]:
    params: dict[str, str] = {}
    value, s = _token(header)
    if not value:
        return "", params
    while True:
        key, s = _token(s.lstrip(" \t\r\n"))
        if not key or not s.startswith("="):
            return value.lower(), params
        s = s[1:]
        if s.startswith('"'):
            out, i, escaped = [], 1, False
            while i < len(s):
                c = s[i]
                if escaped:
                    out.append(c)
                    escaped = False
                elif c == "\\":
                    escaped = True
                elif c == '"':
                    break
                else:
                    out.append(c)
                i += 1
            else:
                return value.lower(), params
            item, s = "".join(out), s[i + 1:]
        else:
            item, s = _token(s)
        params[key.lower()] = item
        s = s.lstrip(" \t\r\n")
        if not s.startswith(","):
            return value.lower(), params
        s = s[1:]


class AuthError(NetError):
    """containerd's ErrInvalidAuthorization and token-fetch failures: the host is given up."""

    def __init__(self, message: str, invalid: bool = False) -> None:
        prefix = ("pull access denied, repository does not exist or may require authorization: "
                  if invalid else "")
        super().__init__("auth", prefix + message)


@record(mutable=True)
class _Handler:
    scheme: str
    username: str = ""
    secret: str = field(default="", repr=False)
    realm: str = ""
    service: str = ""
    scopes: tuple[str, ...] = ()
    token: str = field(default="", repr=False)


class Authorizer:
    """Per endpoint host: what answered a 401, and the Authorization header that follows from it.

    `credentials(host)` is CRI's lookup (`configs.<host>.auth`, ParseAuth). `plain_ok(host)` says
    whether the configuration itself sends credentials to that host over http."""

    def __init__(self, client: Client, credentials: Callable[[str], tuple[str, str]], headers: dict[str, str],
                 scope: str, plain_ok: Callable[[str], bool]) -> None:
        self.client = client
        self.credentials = credentials
        self.headers = headers
        self.scope = scope
        self.plain_ok = plain_ok
        self.handlers: dict[str, _Handler] = {}
        #: what happened, in words, for the report: "basic", "bearer (token for user u)", ...
        self.outcome = ""
        self.notes: list[str] = []

    def authorize(self, url: str, headers: dict[str, str]) -> None:
        """Set Authorization for URL's host when a 401 from it taught us how (containerd's Authorize)."""
        parts = urlsplit(url)
        handler = self.handlers.get(parts.netloc)
        if handler is None:
            return
        if parts.scheme == "http" and not self.plain_ok(parts.netloc):
            self.notes.append(f"no credentials sent to {parts.netloc} over plain http (the configuration "
                              "does not name it as an http:// endpoint)")
            return
        if parts.scheme == "http":
            self.notes.append(f"credentials sent to {parts.netloc} over plain http: the configuration names it as an "
                              "http:// endpoint and has credentials for it (containerd sends them too)")
        if handler.scheme == "basic":
            if not handler.username or not handler.secret:
                raise AuthError("failed to authorize: failed to handle basic auth because missing username "
                                "or secret")
            value = base64.b64encode(f"{handler.username}:{handler.secret}".encode()).decode()
            secrets.remember(value)
            headers["Authorization"] = f"Basic {value}"
            return
        if not handler.token:
            handler.token = self._fetch_token(handler)
        headers["Authorization"] = f"Bearer {handler.token}"

    def add_response(self, history: list[tuple[str, str, list[str]]]) -> bool:
        """containerd's AddResponses after a 401: True to retry; raises AuthError to give up.
        HISTORY holds (method, url, WWW-Authenticate values) of this request's responses."""
        method, url, values = history[-1]
        host = urlsplit(url).netloc
        for scheme, params in parse_challenges(values):
            if scheme == "bearer":
                error = params.get("error", "")
                if error:
                    same = len(history) > 1 and history[-2][:2] == (method, url)
                    if same:
                        self.handlers.pop(host, None)
                        raise AuthError(f"server message: {error[:64]}: authorization failed", invalid=True)
                    self.handlers.pop(host, None)
                if host in self.handlers:
                    return True
                if "realm" not in params:
                    raise AuthError("no realm specified for token auth challenge")
                username, secret = self.credentials(host)
                scopes = params["scope"].split(" ") if "scope" in params else []
                self.handlers[host] = _Handler("bearer", username, secret, params["realm"], params.get("service", ""),
                                               tuple(scopes))
                return True
            if scheme == "basic":
                username, secret = self.credentials(host)
                if not username or not secret:
                    self.outcome = "basic requested, no credentials configured"
                    raise AuthError("authorization failed: no basic auth credentials", invalid=True)
                self.handlers[host] = _Handler("basic", username, secret)
                self.outcome = f"basic (user {username})"
                return True
        return False

    def _fetch_token(self, handler: _Handler) -> str:
        """`doBearerAuth`: POST with credentials, GET with Basic on fallback, GET anonymously without."""
        scopes = sorted({self.scope, *handler.scopes})
        realm = urlsplit(handler.realm)
        if realm.scheme not in ("http", "https") or not realm.netloc:
            raise AuthError(f"invalid token auth challenge realm {handler.realm!r}")
        base = dict(self.headers)
        base.setdefault("User-Agent", USER_AGENT)
        if handler.secret and realm.scheme == "http" and not self.plain_ok(realm.netloc):
            self.outcome = "bearer: realm is plain http, credentials withheld"
            raise AuthError(f"the token realm {handler.realm} is plain http: the probe does not send credentials "
                            "there (containerd would)")
        if handler.secret:
            form = {"scope": " ".join(scopes), "service": handler.service, "client_id": "containerd-client"}
            if handler.username:
                form.update(grant_type="password", username=handler.username, password=handler.secret)
            else:
                form.update(grant_type="refresh_token", refresh_token=handler.secret)
            if not scopes:
                form.pop("scope")
            headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", **base}
            response = self.client.send("POST", handler.realm, headers, urlencode(sorted(form.items())).encode())
            if 200 <= response.status < 400:
                token = _json_field(response, ("access_token",))
                self.outcome = f"bearer (OAuth POST to {realm.netloc}, {_who(handler)})"
                return token
            fallback = response.status in (400, 401, 404) or (response.status == 405 and handler.username)
            if not fallback:
                raise AuthError(f"failed to fetch oauth token: unexpected status from POST request to "
                                f"{handler.realm}: {response.status_text}")
        query = parse_qsl(realm.query, keep_blank_values=True)
        if handler.service:
            query.append(("service", handler.service))
        query.extend(("scope", s) for s in scopes)
        url = urlunsplit((realm.scheme, realm.netloc, realm.path, urlencode(sorted(query, key=lambda kv: kv[0])), ""))
        headers = dict(base)
        if handler.secret:
            value = base64.b64encode(f"{handler.username}:{handler.secret}".encode()).decode()
            secrets.remember(value)
            headers["Authorization"] = f"Basic {value}"
        response = self.client.send("GET", url, headers)
        if not 200 <= response.status < 400:
            what = "failed to fetch oauth token" if handler.secret else "failed to fetch anonymous token"
            raise AuthError(f"{what}: unexpected status from GET request to {secrets.mask_url(url)}: "
                            f"{response.status_text}")
        token = _json_field(response, ("access_token", "token"))
        self.outcome = f"bearer (token from {realm.netloc}, {_who(handler)})"
        return token


def _who(handler: _Handler) -> str:
    if not handler.secret:
        return "anonymous"
    return f"user {handler.username}" if handler.username else "identity token"


def _json_field(response: Response, names: tuple[str, ...]) -> str:
    try:
        document = json.loads(response.body.decode("utf-8", "replace"))
    except ValueError:
        raise AuthError("unable to decode token response") from None
    for name in names:
        value = document.get(name) if isinstance(document, dict) else None
        if isinstance(value, str) and value:
            secrets.remember(value)
            return value
    raise AuthError("authorization server did not include a token in the response")


def proxy_settings() -> list[str]:
    """Proxy variables set here: containerd's daemon uses its own, the probe none."""
    return sorted(k for k in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy") if os.environ.get(k))
