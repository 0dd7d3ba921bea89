"""Property-based tests: random configurations through every reader and writer.

- every conversion of a random model explains each difference it finds (a change without a
  reason from the target's table is a bug), and converting its output again loses nothing;
- pairs that SEMANTICS.md calls lossless are lossless: certs-d to certs-d, and a registries.yaml
  without rewrites or k3s-only settings to certs-d with --cri-config;
- every reader, fed arbitrary text or arbitrary YAML/TOML documents, returns a model or a
  clean InputError, never another exception.

`make test` runs a few hundred examples; `make fuzz` (HYPOTHESIS_PROFILE=fuzz) many more.
"""

from __future__ import annotations

import contextlib
import os

import tomlkit
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from translator import convert, formats
from translator.errors import InputError
from translator.files import listing_from_files
from translator.formats import ReadOptions, certs_d, cri_toml, registries_yaml, toml_out
from translator.losses import UNEXPLAINED

settings.register_profile("default", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

TARGETS = ("registries-yaml", "cri-v1", "cri-v2", "cri-v3", "certs-d")
HOSTS = ["docker.io", "quay.io", "ghcr.io", "registry.example.com", "registry.example.com:5000", "localhost:5000",
         "127.0.0.1:5001", "mirror.example.com", "mirror.example.com:8443", "registry-1.docker.io", "[::1]:5000"]
PATHS = ["", "/", "/v2", "/v2/", "/prefix", "/prefix/v2", "/a/b"]
labels = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
hostnames = st.one_of(st.sampled_from(HOSTS), st.builds(lambda a, b: f"{a}.{b}.example.com", labels, labels))
paths_or_files = st.sampled_from(["/etc/ssl/ca.pem", "/etc/ssl/client.pem", "/etc/ssl/client.key", ""])


@st.composite
def endpoints(draw) -> str:
    scheme = draw(st.sampled_from(["", "http://", "https://"]))
    return scheme + draw(hostnames) + draw(st.sampled_from(PATHS))


@st.composite
def registries_documents(draw, k3s_only: bool = True) -> dict:
    mirrors = {}
    for name in draw(st.lists(st.one_of(hostnames, st.just("*")), max_size=4, unique=True)):
        entry: dict = {}
        if draw(st.booleans()):
            entry["endpoint"] = draw(st.lists(endpoints(), max_size=4))
        if k3s_only and draw(st.booleans()):
            entry["rewrite"] = {"^library/(.*)": "mirror/$1"}
        mirrors[name] = entry or None
    configs = {}
    for name in draw(st.lists(st.one_of(hostnames, st.just("*")), max_size=3, unique=True)):
        entry = {}
        if draw(st.booleans()):
            entry["auth"] = draw(st.fixed_dictionaries({}, optional={
                "username": st.sampled_from(["u", "robot"]), "password": st.sampled_from(["p4ss-w0rd", "s3cret"]),
                "auth": st.just("dTpw"), "identity_token": st.just("tok")}))
        if draw(st.booleans()):
            tls = draw(st.fixed_dictionaries({}, optional={"ca_file": paths_or_files,
                                                            "insecure_skip_verify": st.booleans()}))
            if k3s_only and draw(st.booleans()):
                tls["cert_file"] = "/etc/ssl/client.pem"
                tls["key_file"] = draw(st.sampled_from(["/etc/ssl/client.key", "/etc/ssl/client.pem", ""]))
            entry["tls"] = tls
        configs[name] = entry or None
    document = {}
    if mirrors:
        document["mirrors"] = mirrors
    if configs:
        document["configs"] = configs
    return document


def read_yaml_document(document: dict, no_default: bool = False):
    return registries_yaml.read(yaml.safe_dump(document), "random.yaml", no_default_endpoint=no_default)


@given(registries_documents(), st.sampled_from(TARGETS), st.booleans())
def test_every_difference_is_explained_and_outputs_are_stable(document, target, no_default):
    model = read_yaml_document(document, no_default)
    options = convert.ConvertOptions(to=target, no_default_endpoint=no_default,
                                     cri_config="config.toml" if target == "certs-d" else None)
    first = convert.convert_model(model, options)
    for change in first.changes:
        assert change.reason and change.reason != UNEXPLAINED, change
    if {"docker.io", "registry-1.docker.io"} <= set(document.get("configs", {})):
        return  # k3s looks Docker Hub up under both keys in an order no single output can always repeat
    back = formats.read_back(first.rendered, ReadOptions(no_default_endpoint=no_default), first.cri_config_text)
    again = convert.convert_model(back, options)
    assert convert.output_text(again) == convert.output_text(first)
    assert again.lossless, [c.as_dict() for c in again.changes]


@given(registries_documents(k3s_only=False))
def test_plain_registries_yaml_to_certs_d_is_lossless(document):
    if "*" in document.get("configs", {}) and "*" in document.get("mirrors", {}):
        return  # k3s drops configs["*"].tls beside mirrors["*"] (reported by the reader)
    model = read_yaml_document(document)
    conversion = convert.convert_model(model, convert.ConvertOptions(to="certs-d", cri_config="config.toml"))
    measured = [c for c in conversion.changes if c not in model.notes]
    assert measured == [], [c.as_dict() for c in measured]


@st.composite
def hosts_files(draw) -> dict[str, str]:
    files = {}
    for name in draw(st.lists(st.one_of(hostnames, st.just("_default")), min_size=1, max_size=4, unique=True)):
        data: dict = {}
        if draw(st.booleans()):
            data["server"] = draw(endpoints())
            if data["server"].startswith("http") is False:
                data["server"] = "https://" + data["server"]
        for key in ("ca", "skip_verify", "capabilities", "dial_timeout"):
            if draw(st.integers(0, 3)) == 0:
                data[key] = draw({"ca": st.sampled_from(["/ca.pem", ["/a.pem", "/b.pem"]]),
                                  "skip_verify": st.booleans(),
                                  "capabilities": st.sampled_from([["pull"], ["pull", "resolve"], []]),
                                  "dial_timeout": st.sampled_from(["3s", "1m30s"])}[key])
        hosts = {}
        for url in draw(st.lists(endpoints(), max_size=3, unique=True)):
            url = url if url.startswith("http") else "https://" + url
            host: dict = {"capabilities": draw(st.sampled_from([["pull", "resolve"], ["pull"], ["pull", "resolve",
                                                                                                "push"]]))}
            if draw(st.booleans()):
                host["override_path"] = True
            if draw(st.integers(0, 2)) == 0:
                host["client"] = draw(st.sampled_from(["/c.pem", [["/c.pem", "/k.pem"]], ["/c1.pem", "/c2.pem"]]))
            if draw(st.integers(0, 3)) == 0:
                host["header"] = {"X-Mirror": draw(st.sampled_from(["a", ["a", "b"]]))}
            hosts[url] = host
        data["host"] = hosts
        files[f"{name}/hosts.toml"] = toml_out.document(data)
    return files


@given(hosts_files())
def test_certs_d_to_certs_d_is_lossless_and_stable(files):
    try:
        model = certs_d.read(listing_from_files(files), "certs.d")
    except InputError:
        return  # two keys for one URL and the like: refused, as containerd ignores such files
    for target in TARGETS:
        conversion = convert.convert_model(model, convert.ConvertOptions(to=target, cri_config="c.toml"
                                                                         if target == "certs-d" else None))
        for change in conversion.changes:
            assert change.reason != UNEXPLAINED, change
        if target == "certs-d":
            measured = [c for c in conversion.changes if c not in model.notes]
            assert measured == [], [c.as_dict() for c in measured]


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.text(max_size=20))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=20)
schema_keys = st.sampled_from(["mirrors", "configs", "endpoint", "rewrite", "auth", "tls", "ca_file", "docker.io",
                               "*", "insecure_skip_verify", "username", "host", "server", "capabilities", "plugins",
                               "io.containerd.grpc.v1.cri", "registry", "version", "config_path", "headers"])
schema_like = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.one_of(schema_keys, st.text(max_size=8)), inner, max_size=4)),
    max_leaves=25)


def must_not_crash(call) -> None:
    with contextlib.suppress(InputError):
        call()


@given(st.text(max_size=400))
def test_readers_survive_arbitrary_text(text):
    must_not_crash(lambda: registries_yaml.read(text, "x.yaml"))
    for fmt in ("cri-v1", "cri-v2", "cri-v3"):
        must_not_crash(lambda fmt=fmt: cri_toml.read(text, "x.toml", fmt=fmt))
    must_not_crash(lambda: certs_d.read(listing_from_files({"docker.io/hosts.toml": text}), "certs.d"))
    must_not_crash(lambda: formats.detect_text(text, "x"))


@given(st.one_of(documents, schema_like))
def test_readers_survive_arbitrary_documents(document):
    as_yaml = yaml.safe_dump(document)
    must_not_crash(lambda: registries_yaml.read(as_yaml, "x.yaml"))
    if isinstance(document, dict):
        for wrapped in (document, {"mirrors": document}, {"configs": document},
                        {"version": 2, "plugins": {"io.containerd.grpc.v1.cri": {"registry": document}}}):
            try:
                as_toml = tomlkit.dumps(_tomlable(wrapped))
            except Exception:
                continue
            must_not_crash(lambda text=as_toml: cri_toml.read(text, "x.toml"))
            must_not_crash(lambda text=as_toml: certs_d.read(listing_from_files({"r.example.com/hosts.toml": text}),
                                                             "certs.d"))
            must_not_crash(lambda wrapped=wrapped: registries_yaml.read(yaml.safe_dump(wrapped), "x.yaml"))


def _tomlable(value):
    if isinstance(value, dict):
        return {str(k): _tomlable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_tomlable(v) for v in value if v is not None]
    return value


url_texts = st.one_of(
    st.builds(lambda scheme, host, path: f"{scheme}://{host}{path}",
              st.sampled_from(["http", "https", "HTTPS", "dummy", "h2+x.y-z"]),
              st.one_of(hostnames, st.from_regex(r"[A-Za-z0-9.\-]{0,12}(:[0-9]{0,6})?", fullmatch=True)),
              st.from_regex(r"(/[A-Za-z0-9._~%\-?#@:;]{0,8}){0,4}", fullmatch=True)),
    st.text(alphabet="ab:/.-_~%?#@[]1", max_size=30),
)


@given(url_texts)
def test_url_shortcut_agrees_with_gos_rules(raw: str) -> None:
    """gourl.parse's shortcut for simple URLs gives what the general rules give."""
    from translator import gourl

    try:
        expected = gourl.parse_general(raw)
    except gourl.URLError:
        expected = None
    try:
        got = gourl.parse(raw)
    except gourl.URLError:
        got = None
    assert got == expected


endpoint_texts = st.one_of(
    url_texts,
    st.builds(lambda scheme, host, path: f"{scheme}{host}{path}",
              st.sampled_from(["", "http://", "https://"]),
              st.one_of(hostnames, st.sampled_from(["docker.io", "localhost", "a-", "1.2.3.4", "x..y"])),
              st.from_regex(r"(/[A-Za-z0-9._~\-]{0,6}){0,4}/?", fullmatch=True)),
)


@given(endpoint_texts)
@example("localhost:5000")
@example("127.0.0.1:5001/v2")
@example("localhost:443")
@example("[::1]:5000")
@example("192.168.50.119:5000")
@example("http://registry.example.com:05000")
@example("registry.example.com:65536")
def test_endpoint_shortcut_agrees_with_k3s_rules(raw: str) -> None:
    """k3s_normalize's shortcut for plain endpoints gives what the general rules give."""
    from translator import endpoints

    def outcome(function):
        try:
            return function(raw)
        except (ValueError, InputError) as exc:
            return type(exc).__name__
    assert outcome(endpoints._k3s_normalize) == outcome(endpoints.k3s_normalize) == outcome(
        endpoints.k3s_normalize_general)


@given(endpoint_texts, st.booleans())
@example("https://r.example.com", False)
@example("https://r.example.com/v2", True)
@example("http://localhost:5000/a/v2/", False)
@example("https://r.example.com/a/./b", True)
@example("HTTPS://r.example.com", False)
@example("https://r.example.com:0", False)
def test_hosts_key_shortcut_agrees_with_containerd_rules(raw: str, override: bool) -> None:
    """hosts_entry's shortcut for plain `[host."…"]` keys gives what the general rules give."""
    from translator import endpoints

    def outcome(function):
        try:
            return function(raw, override)
        except (ValueError, InputError) as exc:
            return type(exc).__name__
    assert outcome(endpoints.hosts_entry) == outcome(endpoints.hosts_entry_general)


toml_like_texts = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(
        st.sampled_from(["", " ", "\t", "# c", "  # x = 1", "[a]", " [[b]] ", "a = 1", "'k=v' = 2", "x:", "mirrors:",
                         "  - a", '"a=b": c', "=", "[", "\r", "\ufeff[a]", "key\t= 'v'", 'k = """', '"""']),
        st.text(alphabet="ab:=[]# \t\r\"'-", max_size=8)), max_size=6).map("\n".join),
)


@given(toml_like_texts)
def test_a_text_judged_not_toml_is_refused_by_tomllib(text: str) -> None:
    """Detection skips the TOML parser only for a text the parser would refuse (a registries.yaml)."""
    import tomllib

    if formats.cannot_be_toml(text):
        with contextlib.suppress(tomllib.TOMLDecodeError):
            tomllib.loads(text)
            raise AssertionError(f"tomllib reads {text!r}")


@given(st.text(max_size=40), st.text(max_size=40))
def test_toml_keys_and_strings_hold_any_text(name: str, text: str) -> None:
    """Every key and string written into a generated file reads back as exactly itself."""
    import tomllib

    assert tomllib.loads(f"{toml_out.key(name)} = {toml_out.string(text)}\n") == {name: text}


_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["", "a", "b", "https://m"]))
_TREE = st.recursive(_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["order", "endpoints", "ca", "https://m/v2", "skip_verify", "x"]), inner,
                    max_size=3)), max_leaves=12)


@given(_TREE, _TREE)
def test_registry_walk_reports_what_deepdiff_reports(old, new) -> None:
    """The loss report walks a registry's tables itself and asks deepdiff only inside lists above the
    report's depth: at the report's granularity it finds exactly the places deepdiff finds."""
    from deepdiff import DeepDiff

    from translator.compare import _changed_paths, _granularity

    if old == new:
        return
    prefix = ("hosts", "r.example.com")
    diff = DeepDiff(old, new, view="tree", verbose_level=2, threshold_to_diff_deeper=0)
    expected = {_granularity([*prefix, *level.path(output_format="list")]) for levels in diff.values()
                for level in levels}
    assert {_granularity(path) for path in _changed_paths(prefix, old, new)} == expected


def _every_hosts_toml() -> list[str]:
    found = []
    for top in ("golden", "tests"):
        for directory, _, names in os.walk(os.path.join(os.path.dirname(os.path.dirname(__file__)), top)):
            found += [os.path.join(directory, name) for name in names if name.endswith(".toml")]
    return found


TRICKY_HOSTS_TOML = [
    '[host."https://a"]\n[host."https://b"]\n[host."https://a".header]\n  x = ["1"]\n',
    'host."https://c".capabilities = ["pull"]\n[host."https://a"]\n',
    '[host."https://a"]\n  s = """\n[host."https://z"]\n"""\n[host."https://b"] # note\n',
    '[host."https://a"]\n  [host."https://b"]\n',
    '[host]\n[host."https://a"]\n[ host . "https://b" ]\n',
    '[host."https://a"]\r\n[host."https://b"]\r\n',
    "[host.'https://a']\n[host.\"https://b\"]\n",
    '# c\nserver = "https://r"\n\n[host] # bare\n\n[host."https://a"]\n  x = 1\n[host."https://b".header]\n',
]


def test_simple_host_headers_agree_with_the_line_scanner() -> None:
    """2.x lists hosts by their table headers: the one-regex reading of a simple file finds exactly the
    headers the full scanner finds, on every TOML file in the project and on tricky layouts."""
    from translator.compat import tomllib
    from translator.formats import toml_lines
    from translator.formats.hosts_toml import _host_headers, _one_header_per_key

    texts = TRICKY_HOSTS_TOML[:]
    for path in _every_hosts_toml():
        with open(path, encoding="utf-8", errors="replace") as handle:
            texts.append(handle.read())
    checked = shortcuts = 0
    for text in texts:
        try:
            tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError):
            continue
        scanned = [entry.path[:2] for entry in toml_lines.scan(text)
                   if entry.kind == "table" and len(entry.path) >= 2 and entry.path[0] == "host"]
        assert [path[:2] for path in _host_headers(text)] == scanned, text
        hosts = tomllib.loads(text).get("host")
        if isinstance(hosts, dict) and _one_header_per_key(text, hosts):
            listed = [key for index, (_, key) in enumerate(scanned) if index == 0 or scanned[index - 1][1] != key]
            assert listed == list(hosts), text
            shortcuts += 1
        checked += 1
    assert checked > 100 and shortcuts > 50


def test_registry_walk_sees_a_bool_that_became_a_number() -> None:
    """The case hypothesis found: `False == 0` in Python, but deepdiff (and the report) call it a change."""
    from translator.compare import _changed_paths, _granularity

    old, new = {"endpoints": {"endpoints": False, "order": None}}, {"endpoints": {"endpoints": 0}}
    found = {_granularity(path) for path in _changed_paths(("hosts", "r.example.com"), old, new)}
    assert ("hosts", "r.example.com", "endpoints", "endpoints") in found


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.one_of(st.text(max_size=6), st.integers()), inner, max_size=3)),
    max_leaves=12)


@given(json_values)
def test_loss_report_values_are_written_as_json_writes_them(value) -> None:
    """report.json_text (no json import for a plain loss report) agrees with json.dumps."""
    import json

    from translator.report import json_text

    assert json_text(value) == json.dumps(value, ensure_ascii=False)
