"""crictl-info, docker-daemon and registries-conf: what each runtime tries, what each file cannot hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from translator import check, convert, formats, resolve
from translator.errors import InputError
from translator.formats import ReadOptions
from translator.losses import UNEXPLAINED

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGEST = "sha256:" + "ab" * 32
NO_CERTS = ReadOptions(docker_certs_dir="/nonexistent/docker-certs.d")


def write(tmp_path, name: str, text: str) -> str:
    path = os.path.join(str(tmp_path), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    return path


def urls(image: str, path: str, options: ReadOptions = NO_CERTS) -> list[str]:
    model = formats.read(path, None, options)
    return [h.manifest for h in resolve.resolve(image, model).hosts]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "translator", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)


# --- detection ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "text", "fmt"), [
    ("info.json", '{"status": {}, "config": {"registry": {"configPath": ""}}}', "crictl-info"),
    ("x.json", '"registry": {\n"configPath": "",\n"mirrors": {}\n},', "crictl-info"),
    ("x.json", '{"registry-mirrors": ["https://m"]}', "docker-daemon"),
    ("daemon.json", '{"log-driver": "json-file"}', "docker-daemon"),
    ("r.conf", '[[registry]]\nlocation = "r.example.com"\n', "registries-conf"),
    ("r.conf", 'unqualified-search-registries = ["docker.io"]\n', "registries-conf"),
    ("r.conf", "[registries.search]\nregistries = ['a.example.com']\n", "registries-conf"),
    ("registries.yaml", '{"mirrors": {"docker.io": {"endpoint": ["https://m"]}}}', "registries-yaml"),
    ("config.toml", "version = 2\n", "cri-v2"),
])
def test_detection(name: str, text: str, fmt: str) -> None:
    assert formats.detect_text(text, name) == fmt


# --- crictl-info -------------------------------------------------------------------------------

CRICTL = {
    "status": {"conditions": []},
    "config": {"registry": {
        "configPath": "",
        "mirrors": {"docker.io": {"endpoint": ["https://mirror.example.com"]}},
        "configs": {"mirror.example.com": {
            "auth": {"username": "robot", "password": "hunter2-secret", "auth": "", "identitytoken": ""},
            "tls": {"insecure_skip_verify": False, "caFile": "/etc/ssl/m.pem", "certFile": "/etc/ssl/c.pem",
                    "keyFile": "/etc/ssl/c.key"}}},
        "auths": None, "headers": None}},
    "golang": "go1.20",
}


def test_crictl_info_reads_the_legacy_rules_and_camel_case_tls(tmp_path) -> None:
    path = write(tmp_path, "info.json", json.dumps(CRICTL, indent=2))
    model = formats.read(path)
    first, upstream = model.hosts["docker.io"].endpoints
    assert first.url == "https://mirror.example.com/v2"
    assert first.ca == ("/etc/ssl/m.pem",) and first.client == (("/etc/ssl/c.pem", "/etc/ssl/c.key"),)
    assert upstream.url == "https://registry-1.docker.io/v2"
    assert model.auth["mirror.example.com"].password == "hunter2-secret"


def test_crictl_info_secrets_are_masked_everywhere(tmp_path) -> None:
    path = write(tmp_path, "info.json", json.dumps(CRICTL))
    for args in (("show", path), ("convert", path, "--to", "certs-d", "--report", "json"),
                 ("diff", path, write(tmp_path, "empty.json", '{"config": {"registry": {}}}'))):
        result = cli(*args)
        assert "hunter2-secret" not in result.stdout + result.stderr, args


def test_crictl_info_config_path_reads_the_tree_from_certs_dir(tmp_path) -> None:
    info = {"config": {"registry": {"configPath": "/etc/containerd/certs.d", "mirrors": None}}}
    path = write(tmp_path, "info.json", json.dumps(info))
    tree = os.path.join(str(tmp_path), "copy")
    write(tmp_path, "copy/docker.io/hosts.toml", 'server = "https://registry-1.docker.io"\n[host."https://m.example.com"]\n')
    model = formats.read(path, None, ReadOptions(certs_dir=tree))
    assert [e.url for e in model.hosts["docker.io"].endpoints] == ["https://m.example.com/v2",
                                                                    "https://registry-1.docker.io/v2"]
    assert resolve.semantics_of(model) == "hosts"
    missing = formats.read(path, None, ReadOptions(certs_dir=os.path.join(str(tmp_path), "nothing")))
    assert "config-path-not-here" in [p.code for p in missing.problems]


def test_crictl_info_check_finds_the_config_toml_pitfalls(tmp_path) -> None:
    info = {"config": {"registry": {"configPath": "/etc/containerd/certs.d",
                                    "mirrors": {"docker.io": {"endpoint": ["https://m.example.com"]}},
                                    "configs": {"docker.io": {"auth": {"username": "u", "password": "p"}}}}}}
    codes = [p.code for p in check.check_path(write(tmp_path, "info.json", json.dumps(info)))]
    assert "mirrors-with-config-path" in codes and "hub-auth-key" in codes


def test_crictl_info_of_containerd_2_is_refused_with_a_pointer(tmp_path) -> None:
    path = write(tmp_path, "info.json", '{"status": {}, "config": {"containerd": {}}, "golang": "go1.23"}')
    with pytest.raises(InputError, match=r"containerd 2\.x"):
        formats.read(path)


def test_crictl_info_and_the_config_toml_it_came_from_mean_the_same(tmp_path) -> None:
    toml = write(tmp_path, "config.toml", 'version = 2\n'
                 '[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n'
                 '  endpoint = ["https://mirror.example.com"]\n')
    info = write(tmp_path, "info.json", json.dumps({"config": {"registry": {
        "configPath": "", "mirrors": {"docker.io": {"endpoint": ["https://mirror.example.com"]}}}}}))
    assert cli("diff", toml, info).returncode == 0
    other = write(tmp_path, "other.json", json.dumps({"config": {"registry": {
        "mirrors": {"docker.io": {"endpoint": ["https://other.example.com"]}}}}}))
    assert cli("diff", toml, other).returncode == 1


def test_crictl_info_prefers_the_image_config_where_containerd_prints_it(tmp_path) -> None:
    info = {"config": {"registry": {"configPath": "", "mirrors": {}}},
            "imageconfig": {"registry": {"configPath": "/etc/containerd/certs.d", "mirrors": None}}}
    model = formats.read(write(tmp_path, "info.json", json.dumps(info)))
    assert model.config_path == "/etc/containerd/certs.d"


def test_crictl_info_is_read_only(tmp_path) -> None:
    result = cli("convert", write(tmp_path, "r.yaml", "mirrors: {}\n"), "--to", "crictl-info")
    assert result.returncode == 2 and "read only" in result.stderr


# --- docker-daemon -----------------------------------------------------------------------------

DAEMON = json.dumps({"registry-mirrors": ["https://mirror.gcr.io", "http://10.20.0.5:5000/"],
                     "insecure-registries": ["harbor.internal:8443", "10.0.0.0/8"],
                     "log-driver": "json-file"})


def test_docker_mirrors_apply_to_docker_hub_only_then_the_hub(tmp_path) -> None:
    path = write(tmp_path, "daemon.json", DAEMON)
    assert urls("alpine:3", path) == ["https://mirror.gcr.io/v2/library/alpine/manifests/3",
                                      "http://10.20.0.5:5000/v2/library/alpine/manifests/3",
                                      "https://registry-1.docker.io/v2/library/alpine/manifests/3"]
    assert urls("quay.io/a/b:1", path) == ["https://quay.io/v2/a/b/manifests/1"]


def test_docker_insecure_registries_try_https_without_verification_then_http(tmp_path) -> None:
    path = write(tmp_path, "daemon.json", DAEMON)
    model = formats.read(path, None, NO_CERTS)
    hosts = resolve.resolve("harbor.internal:8443/team/app:1", model).hosts
    assert [(h.url, h.skip_verify) for h in hosts] == [("https://harbor.internal:8443/v2", True),
                                                        ("http://harbor.internal:8443/v2", False)]
    in_range = resolve.resolve("10.1.2.3:5000/app:1", model).hosts
    assert [h.url for h in in_range] == ["https://10.1.2.3:5000/v2", "http://10.1.2.3:5000/v2"]
    loopback = resolve.resolve("localhost:5000/app:1", model).hosts
    assert [h.url for h in loopback] == ["https://localhost:5000/v2", "http://localhost:5000/v2"]
    assert urls("harbor.internal/app:1", path) == ["https://harbor.internal/v2/app/manifests/1"]  # port is exact


def test_docker_certificate_directory_applies_to_every_use_of_a_host(tmp_path) -> None:
    path = write(tmp_path, "daemon.json", '{"registry-mirrors": ["https://mirror.example.com"]}')
    certs = os.path.join(str(tmp_path), "certs.d")
    for name in ("mirror.example.com/ca.crt", "r.example.com:5000/client.cert", "r.example.com:5000/client.key"):
        write(tmp_path, f"certs.d/{name}", "pem\n")
    model = formats.read(path, None, ReadOptions(docker_certs_dir=certs))
    assert model.hosts["docker.io"].endpoints[0].ca == (os.path.join(certs, "mirror.example.com", "ca.crt"),)
    assert model.hosts["mirror.example.com"].endpoints[0].ca  # direct pulls from the mirror host too
    assert model.hosts["r.example.com:5000"].endpoints[0].client == (
        (os.path.join(certs, "r.example.com:5000", "client.cert"), os.path.join(certs, "r.example.com:5000",
                                                                             "client.key")),)


def test_docker_refuses_what_dockerd_refuses(tmp_path) -> None:
    path = write(tmp_path, "daemon.json", '{\n  "registry-mirrors": ["mirror.gcr.io"]\n}\n')
    result = cli("convert", path, "--to", "certs-d")
    assert result.returncode == 2 and "daemon.json:2" in result.stderr and "no scheme" in result.stderr
    problems = check.check_path(path, None, options=NO_CERTS)
    assert [p.code for p in problems] == ["docker-invalid-mirror"]
    typo = write(tmp_path, "typo/daemon.json", '{"registry-mirror": ["https://m"]}')
    assert [p.code for p in check.check_path(typo, None, options=NO_CERTS)] == ["docker-unknown-directive"]
    removed = write(tmp_path, "removed/daemon.json", '{"graph": "/data/docker"}')
    assert "data-root" in cli("show", removed).stderr


def test_docker_cidr_is_a_loss_that_names_the_hosts_to_list(tmp_path) -> None:
    path = write(tmp_path, "daemon.json", DAEMON)
    conversion = convert.convert(path, convert.ConvertOptions(to="certs-d", docker_certs_dir="/nonexistent"))
    reasons = {c.path: c.reason for c in conversion.changes}
    assert "10.0.0.0/8" in reasons["insecure_ranges['10.0.0.0/8']"]
    assert "10.20.0.5:5000" in reasons["insecure_ranges['10.0.0.0/8']"]


def test_docker_round_trip_through_certs_d_and_back(tmp_path) -> None:
    path = write(tmp_path, "daemon.json", json.dumps({"registry-mirrors": ["https://mirror.gcr.io"],
                                                      "insecure-registries": ["harbor.internal:8443"]}))
    tree = os.path.join(str(tmp_path), "certs.d")
    assert cli("convert", path, "--to", "certs-d", "-o", tree, "--docker-certs-dir", "/nonexistent").returncode == 0
    back = cli("convert", tree, "--to", "docker-daemon", "--report", "json")
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout) == {"registry-mirrors": ["https://mirror.gcr.io"],
                                       "insecure-registries": ["harbor.internal:8443"]}
    assert json.loads(back.stderr)["lossless"] is True


def test_docker_writer_keeps_other_keys_and_writes_the_certificate_directory(tmp_path) -> None:
    source = write(tmp_path, "registries.yaml", "mirrors:\n  docker.io:\n    endpoint: [\"https://m.example.com\"]\n"
                                                "configs:\n  m.example.com:\n    tls:\n      ca_file: /etc/ssl/m.pem\n")
    daemon = write(tmp_path, "daemon.json", '{"log-driver": "json-file", "registry-mirrors": ["https://old"]}')
    certs = os.path.join(str(tmp_path), "docker-certs.d")
    result = cli("convert", source, "--to", "docker-daemon", "-o", daemon, "--docker-certs-dir", certs)
    assert result.returncode == 0, result.stderr
    with open(daemon) as handle:
        assert json.load(handle) == {"log-driver": "json-file", "registry-mirrors": ["https://m.example.com"]}
    with open(os.path.join(certs, "m.example.com", "hosts.toml")) as handle:
        assert 'ca = ["/etc/ssl/m.pem"]' in handle.read()
    without = cli("convert", source, "--to", "docker-daemon", "--report", "json")
    assert "pass --docker-certs-dir" in without.stderr


def test_docker_cannot_hold_mirrors_of_other_registries(tmp_path) -> None:
    source = write(tmp_path, "registries.yaml", "mirrors:\n  quay.io:\n    endpoint: [\"https://q.example.com\"]\n")
    conversion = convert.convert(source, convert.ConvertOptions(to="docker-daemon"))
    assert conversion.changes and all("Docker Hub only" in c.reason for c in conversion.changes)


# --- registries-conf ---------------------------------------------------------------------------

CONF = """unqualified-search-registries = ["docker.io"]

[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = "mirror.example.com:5000/hub"
insecure = true

[[registry.mirror]]
location = "digest.example.com"
pull-from-mirror = "digest-only"

[[registry]]
prefix = "docker.io/library"
location = "docker.io/library"
[[registry.mirror]]
location = "lib.example.com/official"

[[registry]]
prefix = "registry.k8s.io"
location = "mirror.example.com/google_containers"

[[registry]]
prefix = "*.corp.example"
blocked = true
"""


def test_registries_conf_order_is_containers_images(tmp_path) -> None:
    path = write(tmp_path, "registries.conf", CONF)
    assert urls("docker.io/team/app:1", path) == [
        "https://mirror.example.com:5000/v2/hub/team/app/manifests/1",
        "http://mirror.example.com:5000/v2/hub/team/app/manifests/1",
        "https://registry-1.docker.io/v2/team/app/manifests/1"]  # digest-only mirror skipped for a tag
    assert urls(f"docker.io/team/app@{DIGEST}", path)[2] == f"https://digest.example.com/v2/team/app/manifests/{DIGEST}"
    assert urls("alpine:3", path) == [  # longest prefix: the namespace entry, the rest of the name appended
        "https://lib.example.com/v2/official/alpine/manifests/3",
        "https://registry-1.docker.io/v2/library/alpine/manifests/3"]
    assert urls("registry.k8s.io/pause:3.9", path) == [
        "https://mirror.example.com/v2/google_containers/pause/manifests/3.9"]
    blocked = resolve.resolve("a.corp.example/x:1", formats.read(path))
    assert blocked.hosts == [] and "blocked" in blocked.source  # every pull is refused


def test_registries_conf_drop_ins_replace_by_prefix_in_name_order(tmp_path) -> None:
    path = write(tmp_path, "registries.conf", '[[registry]]\nprefix = "quay.io"\nlocation = "a.example.com"\n')
    write(tmp_path, "registries.conf.d/20-b.conf", '[[registry]]\nprefix = "quay.io"\nlocation = "c.example.com"\n')
    write(tmp_path, "registries.conf.d/10-a.conf", 'unqualified-search-registries = ["quay.io"]\n'
                                                   '[[registry]]\nprefix = "quay.io"\nlocation = "b.example.com"\n')
    write(tmp_path, "registries.conf.d/ignored.txt", "not a drop-in")
    model = formats.read(path)
    assert [e.url for e in model.hosts["quay.io"].endpoints] == ["https://c.example.com/v2"]
    assert model.short_names.search == ("quay.io",)


@pytest.mark.parametrize(("text", "message"), [
    ('[[registry]]\nlocation = "https://r.example.com"\n', "URI schemes are not supported"),
    ('[[registry]]\nlocation = "r.example.com"\npull-from-mirror = "digest-only"\n', "non-mirror registry"),
    ('[[registry]]\nprefix = "r.example.com"\n', "location is unset"),
    ('[[registry]]\nlocation = "r.example.com"\n[[registry.mirror]]\nlocation = "m"\npull-from-mirror = "x"\n',
     "unsupported pull-from-mirror"),
])
def test_registries_conf_refuses_what_containers_image_refuses(tmp_path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        formats.read(write(tmp_path, "registries.conf", text))


def test_registries_conf_version_1_is_read_as_containers_image_converts_it_with_an_error(tmp_path) -> None:
    path = write(tmp_path, "registries.conf", "[registries.search]\nregistries = ['quay.io']\n"
                                              "[registries.insecure]\nregistries = ['docker.io']\n")
    model = formats.read(path)
    assert [(p.severity, p.code) for p in model.problems] == [("error", "registries-conf-v1")]
    assert "version 2" in model.problems[0].message and model.short_names.search == ("quay.io",)
    assert urls("docker.io/library/alpine:3", path) == ["https://registry-1.docker.io/v2/library/alpine/manifests/3",
                                                        "http://registry-1.docker.io/v2/library/alpine/manifests/3"]
    write(tmp_path, "registries.conf.d/50-old.conf", "[registries.block]\nregistries = ['quay.io']\n")
    with pytest.raises(InputError, match="drop-in must be version 2"):
        formats.read(path)


def test_registries_conf_short_names(tmp_path) -> None:
    two = write(tmp_path, "a/registries.conf", 'unqualified-search-registries = ["quay.io", "docker.io"]\n')
    with pytest.raises(InputError, match="enforcing"):
        urls("alpine", two)
    permissive = write(tmp_path, "b/registries.conf", 'unqualified-search-registries = ["quay.io", "docker.io"]\n'
                                                      'short-name-mode = "permissive"\n')
    assert urls("alpine:3", permissive) == ["https://quay.io/v2/alpine/manifests/3",
                                            "https://registry-1.docker.io/v2/library/alpine/manifests/3"]
    alias = write(tmp_path, "c/registries.conf", '[aliases]\n"alpine" = "ghcr.io/mirror/alpine"\n')
    assert urls("alpine:3", alias) == ["https://ghcr.io/v2/mirror/alpine/manifests/3"]


def test_registries_conf_to_certs_d_reports_what_containerd_cannot_hold(tmp_path) -> None:
    path = write(tmp_path, "registries.conf", CONF.replace('["docker.io"]', '["quay.io", "docker.io"]'))
    conversion = convert.convert(path, convert.ConvertOptions(to="certs-d"))
    reasons = {c.path: c.reason for c in conversion.changes}
    assert "namespace prefix" in reasons["hosts['docker.io/library']"]
    assert "*.domain" in reasons["hosts['*.corp.example']"]
    assert "docker.io only" in reasons["short_names['rule']"]
    assert UNEXPLAINED not in reasons.values()
    files = conversion.rendered.files
    assert 'override_path = true' in files["registry.k8s.io/hosts.toml"][0]
    assert '[host."https://digest.example.com/v2"]\n  capabilities = ["pull"]' in files["docker.io/hosts.toml"][0]


def test_registries_conf_round_trip_is_lossless(tmp_path) -> None:
    path = write(tmp_path, "registries.conf", CONF)
    again = convert.convert(path, convert.ConvertOptions(to="registries-conf"))
    assert again.lossless
    assert formats.read_back(again.rendered, ReadOptions()).hosts == formats.read(path).hosts


def test_certs_d_to_registries_conf_and_back(tmp_path) -> None:
    tree = os.path.join(str(tmp_path), "certs.d")
    write(tmp_path, "certs.d/docker.io/hosts.toml", 'server = "https://registry-1.docker.io"\n[host]\n'
          '[host."https://m.example.com/v2/hub"]\n  capabilities = ["pull", "resolve"]\n  override_path = true\n'
          '[host."https://d.example.com"]\n  capabilities = ["pull"]\n')
    out = convert.convert(tree, convert.ConvertOptions(to="registries-conf"))
    assert out.lossless, [c.as_dict() for c in out.changes]
    assert 'location = "m.example.com/hub"' in out.rendered.text
    assert 'pull-from-mirror = "digest-only"' in out.rendered.text


def test_tag_only_has_no_containerd_equivalent(tmp_path) -> None:
    path = write(tmp_path, "registries.conf", '[[registry]]\nlocation = "quay.io"\n[[registry.mirror]]\n'
                                              'location = "t.example.com"\npull-from-mirror = "tag-only"\n')
    assert urls("quay.io/a/b:1", path)[0] == "https://t.example.com/v2/a/b/manifests/1"
    assert urls(f"quay.io/a/b@{DIGEST}", path) == [f"https://quay.io/v2/a/b/manifests/{DIGEST}"]
    conversion = convert.convert(path, convert.ConvertOptions(to="certs-d"))
    assert any("tag-only" in c.reason for c in conversion.changes)
    assert convert.convert(path, convert.ConvertOptions(to="registries-conf")).lossless


def test_keep_rewrites_folds_an_exact_namespace_mapping(tmp_path) -> None:
    path = write(tmp_path, "registries.conf", '[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n'
                 '[[registry.mirror]]\nlocation = "h.example.com/hub"\n'
                 '[[registry]]\nprefix = "docker.io/library"\nlocation = "docker.io/library"\n'
                 '[[registry.mirror]]\nlocation = "h.example.com/hub/official"\n')
    plain = convert.convert(path, convert.ConvertOptions(to="certs-d"))
    assert any(c.path == "hosts['docker.io/library']" for c in plain.changes)
    kept = convert.convert(path, convert.ConvertOptions(to="certs-d", keep_rewrites=True))
    assert not any("namespace" in c.reason for c in kept.changes)
    assert '"^library/(.*)" = "official/$1"' in kept.rendered.files["docker.io/hosts.toml"][0]


# --- every real file to certs-d and back: each loss has its reason ------------------------------

def _golden_sources() -> list[tuple[str, str]]:
    from .golden_driver import GOLDEN, cases, source_of

    found = []
    for case in cases():
        source = source_of(case)
        if source in ("daemon.json", "registries.conf", "registries.conf.d") and \
                not os.path.exists(os.path.join(GOLDEN, case, "error.txt")):
            found.append((case, "docker-daemon" if source == "daemon.json" else "registries-conf"))
    return found


@pytest.mark.parametrize(("case", "fmt"), _golden_sources())
def test_real_files_to_certs_d_and_back_explain_every_loss(case: str, fmt: str) -> None:
    from .golden_driver import GOLDEN, read_options, source_of

    cwd = os.getcwd()
    os.chdir(os.path.dirname(GOLDEN))
    try:
        model = formats.read(os.path.join("golden", case, source_of(case)), None, read_options(case))
    finally:
        os.chdir(cwd)
    there = convert.convert_model(model, convert.ConvertOptions(to="certs-d"))
    tree = formats.read_back(there.rendered, ReadOptions())
    back = convert.convert_model(tree, convert.ConvertOptions(to=fmt, docker_certs_dir="/etc/docker/certs.d"))
    for change in there.changes + back.changes:
        assert change.reason and change.reason != UNEXPLAINED, change.as_dict()
