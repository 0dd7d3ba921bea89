"""Small registries on 127.0.0.1 for the probe tests. Each records every request it gets (method,
path, query, headers) and answers by rules a test sets: a fake registry with one image, errors on
manifests or blobs, Basic auth, the distribution token flow, a server that never answers.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.e2e.harness import _digest, build_image

LAYER, CONFIG, MANIFEST = build_image("hello from the probe tests\n")
DIGEST = _digest(MANIFEST)
LAYER_DIGEST = _digest(LAYER)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
INDEX = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
    {"mediaType": OCI_MANIFEST, "digest": DIGEST, "size": len(MANIFEST),
     "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
INDEX_DIGEST = _digest(INDEX)
TOKEN = "stub-bearer-token-0123456789"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""
    at: float = field(default_factory=time.monotonic)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Rules:
    prefix: str = "/v2"
    repository: str = "library/hello"
    tag: str = "1"
    #: status to answer instead, by what is asked: "manifests", "blobs", "token"
    fail: dict[str, int] = field(default_factory=dict)
    basic: tuple[str, str] | None = None
    bearer: bool = False
    #: credentials the token endpoint requires (GET with Basic); None: anonymous tokens
    token_basic: tuple[str, str] | None = None
    post_token: bool = False
    index: bool = False
    no_digest_header: bool = False
    head_405: bool = False
    redirect_blobs_to: str = ""
    #: the token realm to announce (default: this stub's /token)
    realm: str = ""


class Stub:
    """A registry stub; `url` is http(s)://127.0.0.1:<port>, `seen` every request in order."""

    def __init__(self, rules: Rules | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.rules = rules or Rules()
        self.seen: list[Seen] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def handle_any(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                            {k.lower(): v for k, v in self.headers.items()}, body)
                stub.seen.append(seen)
                status, headers, payload = stub.answer(seen)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_HEAD = do_POST = handle_any

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                # a failed TLS handshake: let the alert reach the client before the socket closes
                # (closing with its unread bytes would reset the connection and lose the alert)
                time.sleep(0.3)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True,
                                                 do_handshake_on_connect=False)
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"{'https' if tls else 'http'}://{self.host}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Stub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, seen: Seen) -> tuple[int, dict[str, str], bytes]:
        rules = self.rules
        if seen.path == "/token":
            return self.token(seen)
        if not seen.path.startswith(rules.prefix + "/"):
            return error(404, "NAME_UNKNOWN", "no such prefix")
        rest = seen.path[len(rules.prefix) + 1:]
        if rules.basic and seen.header("authorization") != basic(*rules.basic):
            return error(401, "UNAUTHORIZED", "authentication required", {"WWW-Authenticate": 'Basic realm="stub"'})
        if rules.bearer and seen.header("authorization") != f"Bearer {TOKEN}":
            challenge = (f'Bearer realm="{rules.realm or self.url + "/token"}",service="stub-registry",'
                         f'scope="repository:{rules.repository}:pull"')
            return error(401, "UNAUTHORIZED", "token required", {"WWW-Authenticate": challenge})
        repository, kind, reference = _split(rest)
        if repository != rules.repository or kind not in ("manifests", "blobs"):
            return error(404, "NAME_UNKNOWN", "repository name not known to registry")
        if kind in rules.fail:
            return error(rules.fail[kind], "STUB", f"{kind} fail here")
        if kind == "manifests":
            if seen.method == "HEAD" and rules.head_405:
                return 405, {}, b""
            return self.manifest(reference)
        if rules.redirect_blobs_to:
            return 307, {"Location": f"{rules.redirect_blobs_to}/{reference}"}, b""
        blobs = {LAYER_DIGEST: LAYER, _digest(CONFIG): CONFIG, DIGEST: MANIFEST}
        if reference not in blobs:
            return error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        return 200, {"Content-Type": "application/octet-stream", "Docker-Content-Digest": reference}, blobs[reference]

    def manifest(self, reference: str) -> tuple[int, dict[str, str], bytes]:
        rules = self.rules
        top = (INDEX, OCI_INDEX, INDEX_DIGEST) if rules.index else (MANIFEST, OCI_MANIFEST, DIGEST)
        known = {rules.tag: top, top[2]: top, DIGEST: (MANIFEST, OCI_MANIFEST, DIGEST)}
        if reference not in known:
            return error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        body, media, digest = known[reference]
        headers = {"Content-Type": media}
        if not rules.no_digest_header:
            headers["Docker-Content-Digest"] = digest
        return 200, headers, body

    def token(self, seen: Seen) -> tuple[int, dict[str, str], bytes]:
        rules = self.rules
        if "token" in rules.fail:
            return error(rules.fail["token"], "DENIED", "token endpoint fails")
        if seen.method == "POST" and not rules.post_token:
            return error(404, "NOT_FOUND", "no oauth here")
        if seen.method == "POST":
            form = parse_qs(seen.body.decode())
            if rules.token_basic and (form.get("username"), form.get("password")) != (
                    [rules.token_basic[0]], [rules.token_basic[1]]):
                return error(401, "UNAUTHORIZED", "bad credentials")
            return 200, {"Content-Type": "application/json"}, json.dumps({"access_token": TOKEN}).encode()
        if rules.token_basic and seen.header("authorization") != basic(*rules.token_basic):
            return error(401, "UNAUTHORIZED", "bad credentials")
        return 200, {"Content-Type": "application/json"}, json.dumps({"token": TOKEN}).encode()

    def requests(self, path_part: str = "") -> list[Seen]:
        return [s for s in self.seen if path_part in s.path]


def _split(rest: str) -> tuple[str, str, str]:
    for kind in ("manifests", "blobs"):
        marker = f"/{kind}/"
        if marker in rest:
            repository, reference = rest.rsplit(marker, 1)
            return repository, kind, reference
    return rest, "", ""


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None
          ) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
    return status, {"Content-Type": "application/json", **(headers or {})}, body


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Silent:
    """Accepts connections and never answers (for timeouts); `url` is http://127.0.0.1:<port>."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def __enter__(self) -> Silent:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_context(certs, require_client: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.server_cert, certs.server_key)
    if require_client:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(certs.ca)
    return context
