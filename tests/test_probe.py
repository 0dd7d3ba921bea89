"""`resolve --probe` against small registries on 127.0.0.1 that record every request: the exact
requests containerd would send (method, path, query, Accept, Authorization), its fallback from
host to host, the `used` host, the reason given for each host, and no secret in any output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_tool
from tests.e2e import harness
from tests.probe_stubs import (
    DIGEST,
    INDEX_DIGEST,
    LAYER_DIGEST,
    OCI_MANIFEST,
    TOKEN,
    Rules,
    Silent,
    Stub,
    basic,
    closed_port,
    server_context,
)

ACCEPT = ("application/vnd.docker.distribution.manifest.v2+json, "
          "application/vnd.docker.distribution.manifest.list.v2+json, "
          "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, */*")
PASSWORD = "s3cret-Pa55word"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a CA")
    return harness.make_certificates(str(tmp_path_factory.mktemp("probe-certs")))


def tree(tmp_path, registry: str, text: str) -> str:
    """A certs.d tree with one hosts.toml for REGISTRY (host:port)."""
    root = tmp_path / "certs.d"
    directory = root / registry.replace(":", "_") if ":" not in registry else root / (
        registry.rsplit(":", 1)[0] + "_" + registry.rsplit(":", 1)[1] + "_")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hosts.toml").write_text(text)
    return str(root)


def with_auth(tmp_path, root: str, auth: dict[str, tuple[str, str]]) -> str:
    """A containerd config.toml (version 2) naming ROOT as config_path, with credentials by host."""
    lines = ["version = 2", '[plugins."io.containerd.grpc.v1.cri".registry]', f'  config_path = "{root}"']
    for host, (user, password) in auth.items():
        lines += [f'[plugins."io.containerd.grpc.v1.cri".registry.configs."{host}".auth]',
                  f'  username = "{user}"', f'  password = "{password}"']
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return str(path)


def probe(image: str, config: str, *extra: str):
    run = run_tool("resolve", image, "--config", config, "--probe", "--timeout", "2", *extra)
    assert "Traceback" not in run.text, run.text
    return run


def probe_json(image: str, config: str, *extra: str):
    run = probe(image, config, "--json", *extra)
    return run, json.loads(run.out)


def test_mirror_up_serves_the_tag_and_the_upstream_is_not_asked(tmp_path) -> None:
    with Stub() as upstream, Stub() as mirror:
        config = tree(tmp_path, upstream.host, f'server = "{upstream.url}"\n[host."{mirror.url}"]\n')
        run, doc = probe_json(f"{upstream.host}/library/hello:1", config)
    assert run.code == 0, run.text
    assert doc["used"] == f"{mirror.url}/v2"
    first = doc["hosts"][0]["probe"]
    assert (first["ok"], first["status"], first["error"]) == (True, 200, None)
    assert isinstance(first["ms"], float)
    assert doc["hosts"][1]["probe"]["ok"] is False and doc["hosts"][1]["probe"]["tried"] is False
    [seen] = mirror.seen
    assert (seen.method, seen.path, seen.query) == ("HEAD", "/v2/library/hello/manifests/1", {"ns": [upstream.host]})
    assert seen.header("accept") == ACCEPT
    assert seen.header("user-agent") == "containerd/v2.1.4"
    assert seen.header("authorization") is None
    assert upstream.seen == []


def test_mirror_down_falls_back_to_the_upstream(tmp_path) -> None:
    port = closed_port()
    with Stub() as upstream:
        config = tree(tmp_path, upstream.host, f'server = "{upstream.url}"\n[host."http://127.0.0.1:{port}"]\n')
        run, doc = probe_json(f"{upstream.host}/library/hello:1", config)
        text = probe(f"{upstream.host}/library/hello:1", config)
    assert run.code == 0
    assert doc["used"] == f"{upstream.url}/v2"
    down = doc["hosts"][0]["probe"]
    assert down["ok"] is False and down["status"] is None
    assert "connection refused" in down["error"] and "next host" in down["reason"]
    [seen] = upstream.seen[:1]
    assert (seen.method, seen.path, seen.query) == ("HEAD", "/v2/library/hello/manifests/1", {})
    assert "refused" in text.out and f"used: {upstream.url}/v2" in text.out


@pytest.mark.parametrize("status", [404, 502])
def test_mirror_error_moves_to_the_next_host(tmp_path, status: int) -> None:
    with Stub() as upstream, Stub(Rules(fail={"manifests": status})) as mirror:
        config = tree(tmp_path, upstream.host, f'server = "{upstream.url}"\n[host."{mirror.url}"]\n')
        run, doc = probe_json(f"{upstream.host}/library/hello:1", config)
    assert run.code == 0
    assert doc["used"] == f"{upstream.url}/v2"
    assert doc["hosts"][0]["probe"]["status"] == status
    assert "next host" in doc["hosts"][0]["probe"]["reason"]
    assert [(s.method, s.query) for s in mirror.seen] == [("HEAD", {"ns": [upstream.host]})]


def test_every_host_failing_exits_1_with_the_most_relevant_error(tmp_path) -> None:
    with Stub(Rules(fail={"manifests": 404})) as upstream, Stub(Rules(fail={"manifests": 502})) as mirror:
        config = tree(tmp_path, upstream.host, f'server = "{upstream.url}"\n[host."{mirror.url}"]\n')
        run, doc = probe_json(f"{upstream.host}/library/hello:1", config)
        text = probe(f"{upstream.host}/library/hello:1", config)
    assert run.code == 1 and text.code == 1
    assert doc["used"] is None
    assert "502 Bad Gateway" in doc["reason"]  # a non-404 status outranks a 404 (resolver.go firstErrPriority)
    assert "no host served the manifest" in text.out


def test_a_mirror_that_never_answers_stalls_the_pull(tmp_path) -> None:
    with Stub() as upstream, Silent() as silent:
        config = tree(tmp_path, upstream.host, f'server = "{upstream.url}"\n[host."{silent.url}"]\n')
        run = run_tool("resolve", f"{upstream.host}/library/hello:1", "--config", config, "--probe", "--json",
                       "--timeout", "0.5")
    doc = json.loads(run.out)
    assert run.code == 1
    hung = doc["hosts"][0]["probe"]
    assert hung["status"] is None and "no response within 0.5 s" in hung["error"]
    assert "image_pull_progress_timeout" in hung["reason"]
    assert doc["used"] is None and upstream.seen == []


def test_wrong_ca_is_an_x509_error_and_the_right_one_verifies(tmp_path, certs) -> None:
    with Stub() as upstream, Stub(tls=server_context(certs)) as mirror:
        wrong = tree(tmp_path / "a", upstream.host,
                     f'server = "{upstream.url}"\n[host."{mirror.url}"]\n  ca = "{certs.other_ca}"\n')
        right = tree(tmp_path / "b", upstream.host,
                     f'server = "{upstream.url}"\n[host."{mirror.url}"]\n  ca = "{certs.ca}"\n')
        _, bad_doc = probe_json(f"{upstream.host}/library/hello:1", wrong)
        _, good_doc = probe_json(f"{upstream.host}/library/hello:1", right)
    assert bad_doc["used"] == f"{upstream.url}/v2"
    failed = bad_doc["hosts"][0]["probe"]
    assert "x509: certificate signed by unknown authority" in failed["error"]
    assert failed["tls"]["ok"] is False and "ca" in failed["reason"]
    assert good_doc["used"] == f"{mirror.url}/v2"
    assert good_doc["hosts"][0]["probe"]["tls"]["ok"] is True


def test_skip_verify_accepts_an_unknown_ca(tmp_path, certs) -> None:
    with Stub() as upstream, Stub(tls=server_context(certs)) as mirror:
        config = tree(tmp_path, upstream.host,
                      f'server = "{upstream.url}"\n[host."{mirror.url}"]\n  skip_verify = true\n')
        _, doc = probe_json(f"{upstream.host}/library/hello:1", config)
    assert doc["used"] == f"{mirror.url}/v2"
    assert doc["hosts"][0]["probe"]["tls"]["verify"] == "skip_verify"


def test_mutual_tls_needs_the_client_pair(tmp_path, certs) -> None:
    with Stub() as upstream, Stub(tls=server_context(certs, require_client=True)) as mirror:
        without = tree(tmp_path / "a", upstream.host,
                       f'server = "{upstream.url}"\n[host."{mirror.url}"]\n  ca = "{certs.ca}"\n')
        paired = tree(tmp_path / "b", upstream.host,
                      f'server = "{upstream.url}"\n[host."{mirror.url}"]\n  ca = "{certs.ca}"\n'
                      f'  client = [["{certs.client_cert}", "{certs.client_key}"]]\n')
        _, bad = probe_json(f"{upstream.host}/library/hello:1", without)
        _, good = probe_json(f"{upstream.host}/library/hello:1", paired)
    assert bad["used"] == f"{upstream.url}/v2"
    assert bad["hosts"][0]["probe"]["outcome"] == "client cert", bad["hosts"][0]["probe"]
    assert "requires a client certificate" in bad["hosts"][0]["probe"]["reason"]
    assert good["used"] == f"{mirror.url}/v2"
    assert good["hosts"][0]["probe"]["tls"]["client_cert"] is True


def test_basic_auth_right_password(tmp_path) -> None:
    with Stub() as upstream, Stub(Rules(basic=("alice", PASSWORD))) as mirror:
        root = tree(tmp_path, upstream.host, f'server = "{upstream.url}"\n[host."{mirror.url}"]\n')
        config = with_auth(tmp_path, root, {mirror.host: ("alice", PASSWORD)})
        run, doc = probe_json(f"{upstream.host}/library/hello:1", config)
        text = probe(f"{upstream.host}/library/hello:1", config)
    assert doc["used"] == f"{mirror.url}/v2"
    assert doc["hosts"][0]["probe"]["auth"].startswith("basic")
    first, second = mirror.seen[:2]
    assert first.header("authorization") is None  # containerd asks anonymously first
    assert second.header("authorization") == basic("alice", PASSWORD)
    assert (second.method, second.path, second.query) == ("HEAD", "/v2/library/hello/manifests/1",
                                                          {"ns": [upstream.host]})
    assert "plain http" in run.out  # said out loud: the configuration sends credentials over http
    for output in (run.out, run.err, text.out, text.err):
        assert PASSWORD not in output
        assert basic("alice", PASSWORD).split()[1] not in output


def test_basic_auth_wrong_password_is_rejected_and_the_pull_moves_on(tmp_path) -> None:
    with Stub() as upstream, Stub(Rules(basic=("alice", "the-right-one"))) as mirror:
        root = tree(tmp_path, upstream.host, f'server = "{upstream.url}"\n[host."{mirror.url}"]\n')
        config = with_auth(tmp_path, root, {mirror.host: ("alice", PASSWORD)})
        run, doc = probe_json(f"{upstream.host}/library/hello:1", config)
    assert doc["used"] == f"{upstream.url}/v2"
    rejected = doc["hosts"][0]["probe"]
    assert rejected["status"] == 401 and rejected["outcome"] == "401 rejected"
    assert "rejects them" in rejected["reason"]
    assert PASSWORD not in run.out + run.err


def test_401_without_credentials_names_the_key_containerd_looks_up(tmp_path) -> None:
    with Stub() as upstream, Stub(Rules(basic=("alice", PASSWORD))) as mirror:
        root = tree(tmp_path, upstream.host, f'server = "{upstream.url}"\n[host."{mirror.url}"]\n')
        config = with_auth(tmp_path, root, {upstream.host: ("alice", PASSWORD)})  # keyed by the registry
        _, doc = probe_json(f"{upstream.host}/library/hello:1", config)
    reason = doc["hosts"][0]["probe"]["reason"]
    assert f'configs."{mirror.host}".auth' in reason and repr(upstream.host) in reason
    assert doc["used"] == f"{upstream.url}/v2"
    assert [s.header("authorization") for s in mirror.seen] == [None]


def test_anonymous_token_flow(tmp_path) -> None:
    with Stub(Rules(bearer=True)) as registry:
        config = tree(tmp_path, registry.host, f'server = "{registry.url}"\n')
        run, doc = probe_json(f"{registry.host}/library/hello:1", config)
    assert doc["used"] == f"{registry.url}/v2"
    head, token, retry = registry.seen
    assert head.header("authorization") is None and head.method == "HEAD"
    assert (token.method, token.path) == ("GET", "/token")
    assert token.query == {"scope": ["repository:library/hello:pull"], "service": ["stub-registry"]}
    assert token.header("authorization") is None
    assert retry.header("authorization") == f"Bearer {TOKEN}"
    assert "bearer" in doc["hosts"][0]["probe"]["auth"] and "anonymous" in doc["hosts"][0]["probe"]["auth"]
    assert TOKEN not in run.out + run.err


def test_token_flow_with_credentials_posts_then_falls_back_to_get_with_basic(tmp_path) -> None:
    with Stub(Rules(bearer=True, token_basic=("bob", PASSWORD))) as registry:
        root = tree(tmp_path, registry.host, f'server = "{registry.url}"\n')
        config = with_auth(tmp_path, root, {registry.host: ("bob", PASSWORD)})
        run, doc = probe_json(f"{registry.host}/library/hello:1", config)
    assert doc["used"] == f"{registry.url}/v2"
    methods = [(s.method, s.path) for s in registry.seen]
    assert methods == [("HEAD", "/v2/library/hello/manifests/1"), ("POST", "/token"), ("GET", "/token"),
                       ("HEAD", "/v2/library/hello/manifests/1")]
    post, get = registry.seen[1], registry.seen[2]
    form = dict(pair.split("=", 1) for pair in post.body.decode().split("&"))
    assert form["grant_type"] == "password" and form["client_id"] == "containerd-client"
    assert form["scope"] == "repository%3Alibrary%2Fhello%3Apull"
    assert get.header("authorization") == basic("bob", PASSWORD)
    assert PASSWORD not in run.out + run.err and TOKEN not in run.out + run.err


def test_failing_token_endpoint_is_an_auth_error(tmp_path) -> None:
    with Stub() as upstream, Stub(Rules(bearer=True, fail={"token": 500})) as mirror:
        config = tree(tmp_path, upstream.host, f'server = "{upstream.url}"\n[host."{mirror.url}"]\n')
        _, doc = probe_json(f"{upstream.host}/library/hello:1", config)
    assert doc["used"] == f"{upstream.url}/v2"
    failed = doc["hosts"][0]["probe"]
    assert failed["outcome"] == "auth" and "failed to fetch anonymous token" in failed["error"]


def test_credentials_never_go_to_a_plain_http_realm(tmp_path, certs) -> None:
    with Stub() as realm, Stub(Rules(bearer=True, realm=f"{realm.url}/token"), tls=server_context(certs)) as mirror:
        root = tree(tmp_path, mirror.host, f'server = "{mirror.url}"\nca = "{certs.ca}"\n')
        config = with_auth(tmp_path, root, {mirror.host: ("bob", PASSWORD)})
        run, doc = probe_json(f"{mirror.host}/library/hello:1", config)
    assert realm.seen == []
    assert doc["used"] is None and run.code == 1
    assert "plain http" in doc["hosts"][0]["probe"]["reason"]


def test_override_path_and_ns(tmp_path) -> None:
    with Stub() as upstream, Stub(Rules(prefix="/over")) as mirror:
        config = tree(tmp_path, upstream.host,
                      f'server = "{upstream.url}"\n[host."{mirror.url}/over"]\n  override_path = true\n')
        _, doc = probe_json(f"{upstream.host}/library/hello:1", config)
    assert doc["used"] == f"{mirror.url}/over"
    [seen] = mirror.seen
    assert (seen.path, seen.query) == ("/over/library/hello/manifests/1", {"ns": [upstream.host]})


def test_pull_only_mirror_is_skipped_for_a_tag_and_used_for_a_digest(tmp_path) -> None:
    with Stub() as upstream, Stub() as mirror:
        config = tree(tmp_path, upstream.host,
                      f'server = "{upstream.url}"\n[host."{mirror.url}"]\n  capabilities = ["pull"]\n')
        _, tag = probe_json(f"{upstream.host}/library/hello:1", config)
        assert mirror.seen == []
        assert tag["used"] == f"{upstream.url}/v2" and len(tag["hosts"]) == 1
        _, by_digest = probe_json(f"{upstream.host}/library/hello@{DIGEST}", config)
    assert by_digest["used"] == f"{mirror.url}/v2"
    [seen] = mirror.seen
    assert (seen.method, seen.path, seen.query) == ("HEAD", f"/v2/library/hello/manifests/{DIGEST}",
                                                    {"ns": [upstream.host]})
    assert seen.header("accept") == ACCEPT


def test_digest_falls_back_to_blobs_after_every_host(tmp_path) -> None:
    with Stub(Rules(fail={"manifests": 404})) as upstream, Stub(Rules(fail={"manifests": 404})) as mirror:
        config = tree(tmp_path, upstream.host, f'server = "{upstream.url}"\n[host."{mirror.url}"]\n')
        _, doc = probe_json(f"{upstream.host}/library/hello@{DIGEST}", config)
    # resolver.go: manifests/<digest> on every host, then blobs/<digest> on every host
    order = sorted([(s.at, "mirror", s.path.split("/")[-2]) for s in mirror.seen]
                   + [(s.at, "upstream", s.path.split("/")[-2]) for s in upstream.seen])
    assert [(who, kind) for _, who, kind in order] == [("mirror", "manifests"), ("upstream", "manifests"),
                                                       ("mirror", "blobs")]
    assert doc["used"] == f"{mirror.url}/v2"


def test_blob_from_a_mirror_that_fails_on_blobs_comes_from_the_next_host(tmp_path) -> None:
    with Stub() as upstream, Stub(Rules(fail={"blobs": 502})) as mirror:
        config = tree(tmp_path, upstream.host, f'server = "{upstream.url}"\n[host."{mirror.url}"]\n')
        run, doc = probe_json(f"{upstream.host}/library/hello:1", config, "--blob")
        text = probe(f"{upstream.host}/library/hello:1", config, "--blob")
    assert run.code == 0, run.text
    assert doc["used"] == f"{mirror.url}/v2"
    blob = doc["blob"]
    assert blob["ok"] is True and blob["used"] == f"{upstream.url}/v2" and blob["digest"] == LAYER_DIGEST
    failed = [a for a in blob["attempts"] if not a["ok"]]
    assert [(a["host"], a["status"]) for a in failed] == [(f"{mirror.url}/v2", 502)]
    layer = next(s for s in mirror.seen if "/blobs/" in s.path)
    assert (layer.method, layer.path, layer.query) == ("GET", f"/v2/library/hello/blobs/{LAYER_DIGEST}",
                                                       {"ns": [upstream.host]})
    assert layer.header("accept") == "application/vnd.oci.image.layer.v1.tar+gzip, */*"
    assert layer.header("accept-encoding") == "zstd;q=1.0, gzip;q=0.8, deflate;q=0.5"
    assert layer.header("range") is None
    manifest = next(s for s in mirror.seen if s.method == "GET" and "/manifests/" in s.path)
    assert manifest.path.endswith(f"/manifests/{DIGEST}") and manifest.header("accept") == f"{OCI_MANIFEST}, */*"
    assert f"blob used: {upstream.url}/v2" in text.out


def test_blob_through_an_index(tmp_path) -> None:
    with Stub(Rules(index=True)) as registry:
        config = tree(tmp_path, registry.host, f'server = "{registry.url}"\n')
        _, doc = probe_json(f"{registry.host}/library/hello:1", config, "--blob")
    assert doc["digest"] == INDEX_DIGEST and doc["blob"]["ok"] is True
    gets = [s.path.rsplit("/", 1)[1] for s in registry.seen if s.method == "GET"]
    assert gets == [INDEX_DIGEST, DIGEST, LAYER_DIGEST]


def test_blob_failing_everywhere_exits_1(tmp_path) -> None:
    with Stub(Rules(fail={"blobs": 502})) as registry:
        config = tree(tmp_path, registry.host, f'server = "{registry.url}"\n')
        run, doc = probe_json(f"{registry.host}/library/hello:1", config, "--blob")
    assert run.code == 1
    assert doc["used"] == f"{registry.url}/v2" and doc["blob"]["ok"] is False
    assert "502" in doc["blob"]["reason"]


def test_blob_redirect_to_another_host_carries_no_credentials(tmp_path) -> None:
    with Stub() as storage, Stub(Rules(basic=("alice", PASSWORD), redirect_blobs_to="")) as registry:
        registry.rules.redirect_blobs_to = f"{storage.url}/v2/library/hello/blobs"
        root = tree(tmp_path, registry.host, f'server = "{registry.url}"\n')
        config = with_auth(tmp_path, root, {registry.host: ("alice", PASSWORD)})
        _, doc = probe_json(f"{registry.host}/library/hello:1", config, "--blob")
    assert doc["blob"]["ok"] is True
    [moved] = storage.seen
    assert moved.header("authorization") is None and moved.path.endswith(LAYER_DIGEST)
    assert any("redirected" in note for note in doc["hosts"][0]["probe"]["notes"])


def test_head_not_allowed_retries_with_get(tmp_path) -> None:
    with Stub(Rules(head_405=True)) as registry:
        config = tree(tmp_path, registry.host, f'server = "{registry.url}"\n')
        _, doc = probe_json(f"{registry.host}/library/hello:1", config)
    assert [s.method for s in registry.seen] == ["HEAD", "GET"]
    assert doc["used"] == f"{registry.url}/v2"


def test_no_digest_header_fetches_the_manifest(tmp_path) -> None:
    with Stub(Rules(no_digest_header=True)) as registry:
        config = tree(tmp_path, registry.host, f'server = "{registry.url}"\n')
        _, doc = probe_json(f"{registry.host}/library/hello:1", config)
    assert [s.method for s in registry.seen] == ["HEAD", "GET"]
    assert doc["digest"] == DIGEST  # computed from the body, as containerd does


def test_headers_from_hosts_toml_are_sent(tmp_path) -> None:
    with Stub() as registry:
        config = tree(tmp_path, registry.host,
                      f'server = "{registry.url}"\n[header]\n  X-Team = "blue"\n')
        probe_json(f"{registry.host}/library/hello:1", config)
    assert registry.seen[0].header("x-team") == "blue"


def test_https_first_for_an_http_host_with_tls_settings(tmp_path, certs) -> None:
    with Stub() as registry:
        config = tree(tmp_path, registry.host,
                      f'server = "{registry.url}"\nca = "{certs.ca}"\n')
        _, doc = probe_json(f"{registry.host}/library/hello:1", config)
    assert doc["used"] == f"{registry.url}/v2"
    notes = doc["hosts"][0]["probe"]["notes"]
    assert any("falls back to http" in note for note in notes)
    assert doc["hosts"][0]["probe"]["tls"]["https_first"] is True


def test_unreadable_ca_fails_the_pull_before_any_request(tmp_path) -> None:
    with Stub() as registry:
        config = tree(tmp_path, registry.host, f'server = "{registry.url}"\nca = "/nonexistent/ca.crt"\n'
                      '[host."https://127.0.0.1:1"]\n')
        run, doc = probe_json(f"{registry.host}/library/hello:1", config)
    assert run.code == 1 and registry.seen == []
    assert "TLS files" in doc["reason"] or "ca.crt" in doc["reason"]


def test_bad_timeout_is_a_usage_error(tmp_path) -> None:
    config = tree(tmp_path, "r.example.com", 'server = "https://r.example.com"\n')
    run = run_tool("resolve", "r.example.com/a:1", "--config", config, "--probe", "--timeout", "0")
    assert run.code == 2 and "--timeout" in run.err


def test_resolve_without_probe_never_loads_an_http_library(tmp_path) -> None:
    config = tree(tmp_path, "r.example.com", 'server = "https://r.example.com"\n')
    code = ("import sys\n"
            f"sys.argv = ['translator', 'resolve', 'r.example.com/a:1', '--config', {config!r}]\n"
            "from translator.cli import main\n"  # the console entry without its quick exit, to look afterwards
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "loaded = [m for m in sys.modules if m.split('.')[0] in ('urllib3', 'httpx', 'requests')"
            " or m in ('translator.net', 'translator.probe', 'http.client')]\n"
            "print('LOADED', loaded)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "LOADED []" in result.stdout, result.stdout + result.stderr
    assert "https://r.example.com/v2" in result.stdout
