"""A real containerd and real registries on 127.0.0.1, in a temporary directory, always stopped.

- `Registry`: Debian's distribution registry (docker-registry 2.8), plain http, https with a
  CA made here with openssl, optional client-certificate requirement, optional htpasswd.
- `LoggingProxy`: an HTTP server that records every request (method, path and query, in
  order) and forwards the ones it has a route for to a registry; anything else gets 404, so
  containerd moves on to its next host.
- `Containerd`: containerd 1.6 with its own root, state and socket, the native snapshotter
  and the CRI plugin required (a config CRI rejects stops it at once, reason in its log),
  pulled through the CRI ImageService over gRPC without generated stubs.
- `push_image`: a tiny single-layer image built here and pushed with the registry API.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import platform
import shutil
import socket
import ssl
import subprocess
import tarfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PACKAGES = {"containerd": "/usr/bin/containerd", "docker-registry": "/usr/bin/docker-registry",
            "apache2-utils": "/usr/bin/htpasswd", "openssl": "/usr/bin/openssl",
            "skopeo": "/usr/bin/skopeo"}  # containers/image: the client that reads registries.conf


def missing_packages() -> list[str]:
    return [pkg for pkg, binary in PACKAGES.items() if not os.path.exists(binary)]


def install_packages() -> str | None:
    """Install what is missing with apt-get; the reason it could not, or None."""
    missing = missing_packages()
    if not missing:
        return None
    if os.geteuid() != 0:
        return f"not root, and {', '.join(missing)} missing (run as root or install them)"
    if not shutil.which("apt-get"):
        return f"no apt-get to install {', '.join(missing)}"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    update = subprocess.run(["apt-get", "update"], capture_output=True, text=True, env=env, timeout=300)
    if update.returncode != 0:
        return f"apt-get update failed (no package registry reachable?): {update.stderr[-300:]}"
    install = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *missing],
                             capture_output=True, text=True, env=env, timeout=600)
    if install.returncode != 0:
        return f"apt-get install {' '.join(missing)} failed: {install.stderr[-300:]}"
    still = missing_packages()
    return f"still missing after apt-get: {', '.join(still)}" if still else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, timeout: float = 15.0, what: str = "service") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not come up within {timeout}s")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --- certificates --------------------------------------------------------------------------

@dataclass
class Certificates:
    directory: str
    ca: str = ""
    server_cert: str = ""
    server_key: str = ""
    client_cert: str = ""
    client_key: str = ""
    other_ca: str = ""


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_certificates(directory: str) -> Certificates:
    """A CA, a server certificate for 127.0.0.1 (IP in subjectAltName), a client certificate
    signed by the same CA, and an unrelated second CA."""
    os.makedirs(directory, exist_ok=True)
    c = Certificates(directory)
    p = lambda name: os.path.join(directory, name)  # noqa: E731 - a local shorthand
    for name in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=rt-e2e-{name}",
                 "-keyout", p(f"{name}.key"), "-out", p(f"{name}.crt"))
    with open(p("san.ext"), "w") as ext:
        ext.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n")
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=rt-e2e-{name}", "-keyout", p(f"{name}.key"),
                 "-out", p(f"{name}.csr"))
        _openssl("x509", "-req", "-in", p(f"{name}.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"),
                 "-CAcreateserial", "-days", "2", "-extfile", p("san.ext"), "-out", p(f"{name}.crt"))
    c.ca, c.other_ca = p("ca.crt"), p("other-ca.crt")
    c.server_cert, c.server_key = p("server.crt"), p("server.key")
    c.client_cert, c.client_key = p("client.crt"), p("client.key")
    return c


# --- the registry ------------------------------------------------------------------------------

class Registry:
    """docker-registry on 127.0.0.1; `url` is its scheme://host:port."""

    def __init__(self, workdir: str, *, tls: Certificates | None = None, require_client_cert: bool = False,
                 htpasswd: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self.dir = os.path.join(workdir, f"registry-{self.port}")
        os.makedirs(os.path.join(self.dir, "data"))
        self.tls = tls
        self.credentials = htpasswd
        lines = ["version: 0.1", "log:", "  level: error", "storage:", "  filesystem:",
                 f"    rootdirectory: {self.dir}/data", "http:", f"  addr: 127.0.0.1:{self.port}"]
        if tls:
            lines += ["  tls:", f"    certificate: {tls.server_cert}", f"    key: {tls.server_key}"]
            if require_client_cert:
                lines += ["    clientcas:", f"      - {tls.ca}"]
        if htpasswd:
            hashed = subprocess.run(["htpasswd", "-Bbn", *htpasswd], capture_output=True, text=True,
                                    check=True).stdout
            with open(os.path.join(self.dir, "htpasswd"), "w") as handle:
                handle.write(hashed)
            lines += ["auth:", "  htpasswd:", "    realm: rt-e2e", f"    path: {self.dir}/htpasswd"]
        with open(os.path.join(self.dir, "config.yml"), "w") as handle:
            handle.write("\n".join(lines) + "\n")
        self.process: subprocess.Popen | None = None
        self.scheme = "https" if tls else "http"
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"{self.scheme}://{self.host}"

    def start(self) -> Registry:
        log = open(os.path.join(self.dir, "registry.log"), "w")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(["docker-registry", "serve", os.path.join(self.dir, "config.yml")],
                                        stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: _port_open(self.port), what="docker-registry")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


# --- the test image -----------------------------------------------------------------------------

def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build_image(message: str = "hello from registries-translator\n") -> tuple[bytes, bytes, bytes]:
    """(layer.tar.gz, config, manifest) of a one-file image for this machine's architecture."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = message.encode()
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    layer_tar = raw.getvalue()
    layer = gzip.compress(layer_tar, mtime=0)
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    config = json.dumps({"architecture": arch, "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [_digest(layer_tar)]}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": _digest(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": _digest(layer),
                    "size": len(layer)}]}).encode()
    return layer, config, manifest


def push_image(registry: Registry, repository: str, tag: str) -> str:
    """Push the test image as REPOSITORY:TAG; returns the manifest digest."""
    context = None
    if registry.tls:
        context = ssl.create_default_context(cafile=registry.tls.ca)
        context.load_cert_chain(registry.tls.client_cert, registry.tls.client_key)
    headers = {}
    if registry.credentials:
        token = base64.b64encode(":".join(registry.credentials).encode()).decode()
        headers["Authorization"] = f"Basic {token}"

    def call(method: str, url: str, data: bytes = b"", extra: dict | None = None) -> http.client.HTTPResponse:
        request = urllib.request.Request(url, data=data, method=method, headers={**headers, **(extra or {})})
        return urllib.request.urlopen(request, context=context, timeout=30)

    layer, config, manifest = build_image()
    for blob in (layer, config):
        location = call("POST", f"{registry.url}/v2/{repository}/blobs/uploads/").headers["Location"]
        if location.startswith("/"):
            location = registry.url + location
        separator = "&" if "?" in location else "?"
        call("PUT", f"{location}{separator}digest={_digest(blob)}", blob,
             {"Content-Type": "application/octet-stream"})
    call("PUT", f"{registry.url}/v2/{repository}/manifests/{tag}", manifest,
         {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    return _digest(manifest)


# --- the request log ----------------------------------------------------------------------------

@dataclass
class LoggingProxy:
    """Records every request in order; forwards `routes` prefixes to a registry's /v2/."""

    routes: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    custom_headers: list[dict[str, str]] = field(default_factory=list)  # X-* request headers, per log line
    port: int = 0

    def start(self) -> LoggingProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def handle_any(self) -> None:
                proxy.log.append(f"{self.command} {self.path}")
                proxy.custom_headers.append({k: v for k, v in self.headers.items() if k.lower().startswith("x-")})
                path = self.path.split("?", 1)[0]
                target = None
                for prefix in sorted(proxy.routes, key=len, reverse=True):
                    if path.startswith(prefix):
                        target = proxy.routes[prefix] + path[len(prefix):]
                        break
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if target is None:
                    payload = b'{"errors":[{"code":"NAME_UNKNOWN","message":"not here"}]}'
                    self.send_response(404)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                    return
                forwarded = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type",
                                                                                    "range")}
                accept = self.headers.get_all("Accept") or []  # containers/image sends one line per type
                if accept:
                    forwarded["Accept"] = ", ".join(accept)
                request = urllib.request.Request(target, data=body, method=self.command, headers=forwarded)
                try:
                    response = urllib.request.urlopen(request, timeout=30)
                    status, headers, payload = response.status, response.headers, response.read()
                except urllib.error.HTTPError as error:
                    status, headers, payload = error.code, error.headers, error.read()
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() in ("content-type", "docker-content-digest", "www-authenticate", "etag"):
                        self.send_header(key, value)
                self.send_header("Content-Length", headers.get("Content-Length", str(len(payload))))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_HEAD = do_POST = do_PUT = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def take(self) -> list[str]:
        taken, self.log[:] = list(self.log), []
        self.custom_headers[:] = []
        return taken


# --- containerd ---------------------------------------------------------------------------------

BASE_V2 = """version = 2
root = "{dir}/root"
state = "{dir}/state"
required_plugins = ["io.containerd.grpc.v1.cri"]
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{dir}/containerd.sock"

[ttrpc]
  address = "{dir}/containerd.sock.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_tcp_service = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{dir}/cni-bin"
    conf_dir = "{dir}/cni-conf"
"""

BASE_V1 = """root = "{dir}/root"
state = "{dir}/state"
required_plugins = ["cri"]
disabled_plugins = ["aufs", "btrfs", "zfs", "devmapper"]

[grpc]
  address = "{dir}/containerd.sock"

[ttrpc]
  address = "{dir}/containerd.sock.ttrpc"

[plugins.cri]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_tcp_service = true
  [plugins.cri.containerd]
    snapshotter = "native"
  [plugins.cri.cni]
    bin_dir = "{dir}/cni-bin"
    conf_dir = "{dir}/cni-conf"
"""


class PullFailed(Exception):
    pass


class Containerd:
    """containerd with the config at `config_file` (write it with `base_config` + a registry section)."""

    def __init__(self, workdir: str, name: str = "containerd") -> None:
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.config_file = os.path.join(self.dir, "config.toml")
        self.socket = os.path.join(self.dir, "containerd.sock")
        self.process: subprocess.Popen | None = None

    def base_config(self, version: int = 2) -> str:
        return (BASE_V2 if version == 2 else BASE_V1).format(dir=self.dir)

    def write_config(self, text: str) -> str:
        with open(self.config_file, "w") as handle:
            handle.write(text)
        return self.config_file

    def log_text(self) -> str:
        with open(os.path.join(self.dir, "containerd.log"), errors="replace") as handle:
            return handle.read()

    def start(self) -> Containerd:
        log = open(os.path.join(self.dir, "containerd.log"), "w")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(["containerd", "--config", self.config_file, "--log-level", "debug"],
                                        stdout=log, stderr=subprocess.STDOUT)

        def ready() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"containerd exited ({self.process.returncode}):\n{self.log_text()[-3000:]}")
            return os.path.exists(self.socket)

        wait_for(ready, what="containerd")
        import grpc

        self.channel = grpc.insecure_channel(f"unix://{self.socket}")
        grpc.channel_ready_future(self.channel).result(timeout=15)
        return self

    def pull(self, reference: str, timeout: float = 60) -> str:
        """CRI ImageService/PullImage; returns the image id, raises PullFailed with containerd's reason."""
        import grpc

        ref = reference.encode()
        spec = b"\x0a" + _varint(len(ref)) + ref
        request = b"\x0a" + _varint(len(spec)) + spec
        call = self.channel.unary_unary("/runtime.v1.ImageService/PullImage",
                                        request_serializer=lambda b: b, response_deserializer=lambda b: b)
        try:
            response = call(request, timeout=timeout)
        except grpc.RpcError as error:
            raise PullFailed(error.details()) from None
        return response[2:].decode(errors="replace")

    def stop(self) -> None:
        if getattr(self, "channel", None) is not None:
            self.channel.close()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
