"""The containerd release fact base: the table is sound, and every behaviour switches exactly at
the releases the source shows (first and last release on each side of every boundary)."""

from __future__ import annotations

import pytest

from translator import releases as R
from translator.releases import FACTS, KNOWN_RELEASES, NEWEST, Release, parse_version, ranges_for

CERTS = "/etc/containerd/certs.d:/etc/docker/certs.d"


def v(text: str) -> Release:
    return parse_version(text)


# ---- releases and parsing ---------------------------------------------------------------------

def test_table_is_sound():
    assert R.validate_facts() == []


def test_every_row_cites_a_source():
    for row in FACTS:
        assert row.source.strip(), row.name
        assert row.ranges, row.name


def test_known_release_lines_and_newest():
    newest = {line: rels[-1] for line, rels in R.LINES.items()}
    assert {f"{a}.{b}": str(r) for (a, b), r in newest.items()} == {
        "1.5": "1.5.18", "1.6": "1.6.39", "1.7": "1.7.34", "2.0": "2.0.11",
        "2.1": "2.1.9", "2.2": "2.2.7", "2.3": "2.3.4",
    }
    assert Release(2, 3, 4) == NEWEST
    assert len(KNOWN_RELEASES) == 129
    assert list(KNOWN_RELEASES) == sorted(KNOWN_RELEASES)
    assert all(r.patch == i for rels in R.LINES.values() for i, r in enumerate(rels))


@pytest.mark.parametrize(("text", "expected"), [
    ("1.6.20", Release(1, 6, 20)),
    ("v2.1.4", Release(2, 1, 4)),
    ("1.7", Release(1, 7, 34)),
    ("v1.6", Release(1, 6, 39)),
    ("2.3", Release(2, 3, 4)),
    (" 1.5.0 ", Release(1, 5, 0)),
])
def test_parse_version(text, expected):
    assert parse_version(text) == expected


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "invalid containerd version"),
    ("latest", "invalid containerd version"),
    ("1", "invalid containerd version"),
    ("1.7.8.1", "invalid containerd version"),
    ("2.3.0-rc.1", "pre-release"),
    ("1.4.13", "arrived in 1.5.0"),
    ("1.4", "arrived in 1.5.0"),
    ("2.4", "2.4.0-beta.0"),
    ("3.0", "no known release"),
    ("1.7.35", "1.7.0 to 1.7.34"),
    ("2.2.8", "2.2.0 to 2.2.7"),
])
def test_parse_version_rejects(text, fragment):
    with pytest.raises(ValueError, match=r".") as err:
        parse_version(text)
    assert fragment in str(err.value)
    assert "newest known release 2.3.4" in str(err.value)


def test_release_ordering_and_text():
    assert Release(1, 6, 39) < Release(1, 7, 0) < Release(1, 7, 10) < Release(2, 0, 0)
    assert str(Release(1, 7, 8)) == "1.7.8"


def test_unknown_fact_and_non_boolean_supports():
    with pytest.raises(KeyError):
        v("1.7.8").supports("no-such-fact")
    with pytest.raises(ValueError):
        v("1.7.8").supports("config_v3")


# ---- generic boundaries: for every row, the first and last release of every range, and the
# releases just outside, as the table states --------------------------------------------------

def _neighbours():
    index = {r: i for i, r in enumerate(KNOWN_RELEASES)}
    for row in FACTS:
        for first, last in row.ranges:
            lo = parse_version(first)
            hi = parse_version(last) if last is not None else NEWEST
            yield row, lo, row.value
            yield row, hi, row.value
            if index[lo] > 0:
                before = KNOWN_RELEASES[index[lo] - 1]
                yield row, before, None
            if index[hi] + 1 < len(KNOWN_RELEASES):
                yield row, KNOWN_RELEASES[index[hi] + 1], None


@pytest.mark.parametrize(("row", "release", "value"), list(_neighbours()),
                         ids=lambda x: str(x) if isinstance(x, Release) else None)
def test_row_boundaries(row, release, value):
    got = release.value(row.name)
    if value is not None:
        assert got == row.value
    else:
        # just outside a range: either another row (different value) or another range of a row
        # with the same value; never this row unless the ranges touch
        holder = R.fact_for(row.name, release)
        assert holder is not row or any(R._in_range(release, g) for g in row.ranges)


# ---- explicit boundaries for every behaviour (independent of how the table is written) -----------

def check(name, release, expected):
    assert v(release).value(name) == expected, f"{name} at {release}"


@pytest.mark.parametrize(("release", "expected"), [
    ("1.5.0", True), ("1.5.18", True), ("2.3.4", True),
])
def test_config_path(release, expected):
    assert v(release).supports("config_path") is expected


@pytest.mark.parametrize(("release", "expected"), [
    ("1.5.0", False), ("1.5.18", False), ("1.6.0", True), ("1.7.0", True), ("2.3.4", True),
])
def test_override_path(release, expected):
    assert v(release).supports("override_path") is expected


@pytest.mark.parametrize(("release", "expected"), [
    ("1.5.18", False), ("1.6.0", False), ("1.6.16", False), ("1.6.17", True), ("1.6.39", True),
    ("1.7.0", True), ("1.7.34", True), ("2.0.0", True), ("2.3.4", True),
])
def test_default_dir(release, expected):
    assert v(release).supports("default_dir") is expected


@pytest.mark.parametrize(("release", "expected"), [
    ("1.5.0", False), ("1.7.34", False), ("2.1.9", False), ("2.2.0", True), ("2.2.7", True), ("2.3.4", True),
])
def test_referrers(release, expected):
    assert v(release).supports("referrers") is expected


@pytest.mark.parametrize(("release", "expected"), [
    ("1.7.34", False), ("2.0.0", False), ("2.0.6", False), ("2.0.7", True), ("2.0.11", True),
    ("2.1.0", True), ("2.1.9", True), ("2.3.4", True),
])
def test_dial_timeout(release, expected):
    assert v(release).supports("dial_timeout") is expected


@pytest.mark.parametrize(("release", "expected"), [
    ("2.0.6", False), ("2.0.7", True), ("2.0.11", True), ("2.1.0", False), ("2.3.4", False), ("1.7.34", False),
])
def test_dial_timeout_counts_as_tls(release, expected):
    assert v(release).supports("dial_timeout_counts_as_tls") is expected
    # a plain http:// host with only dial_timeout, explicit non-80 port
    assert v(release).https_first("5000", has_tls=False, dial_timeout_only=True) is expected


@pytest.mark.parametrize(("release", "expected"), [
    ("1.5.0", True), ("1.5.18", True), ("1.6.0", True), ("1.6.39", True), ("1.7.0", True), ("1.7.31", True),
    ("1.7.32", False), ("1.7.34", False), ("2.0.0", False), ("2.3.4", False),
])
def test_requires_host_table(release, expected):
    assert v(release).requires_host_table() is expected


@pytest.mark.parametrize(("release", "expected"), [
    ("1.5.0", "line-order-unique"), ("1.7.34", "line-order-unique"),
    ("2.0.0", "table-headers"), ("2.3.4", "table-headers"),
])
def test_host_listing(release, expected):
    assert v(release).host_listing() == expected


@pytest.mark.parametrize(("release", "port", "expected"), [
    ("1.5.0", "5000", ("https", False)),
    ("1.6.8", "", ("https", False)),
    ("1.6.8", "5000", ("https", False)),
    ("1.6.9", "", ("http", True)),
    ("1.6.9", "5000", ("http", True)),
    ("1.6.24", "443", ("http", True)),
    ("1.6.25", "", ("https", True)),
    ("1.6.25", "443", ("https", True)),
    ("1.6.25", "80", ("http", False)),
    ("1.6.25", "5000", ("http", True)),
    ("1.6.39", "5000", ("http", True)),
    ("1.7.0", "", ("http", True)),
    ("1.7.7", "", ("http", True)),
    ("1.7.7", "80", ("http", True)),
    ("1.7.8", "", ("https", True)),
    ("1.7.8", "80", ("http", False)),
    ("1.7.34", "5000", ("http", True)),
    ("2.0.0", "", ("https", True)),
    ("2.3.4", "443", ("https", True)),
    ("2.3.4", "80", ("http", False)),
])
def test_localhost_upstream(release, port, expected):
    assert v(release).localhost_upstream(port) == expected


@pytest.mark.parametrize(("release", "port", "expected"), [
    # before 1.6.25 / 1.7.7: plain http, TLS keys ignored
    ("1.5.0", "5000", False), ("1.6.24", "5000", False), ("1.7.0", "5000", False), ("1.7.6", "5000", False),
    # 1.7.7: any port, 80 and no port included
    ("1.7.7", "", True), ("1.7.7", "80", True), ("1.7.7", "5000", True),
    # explicit non-80 port only
    ("1.6.25", "", False), ("1.6.25", "80", False), ("1.6.25", "5000", True),
    ("1.6.39", "", False), ("1.6.39", "5000", True),
    ("1.7.8", "", False), ("1.7.8", "80", False), ("1.7.8", "5000", True),
    ("1.7.23", "", False), ("1.7.23", "443", True),
    # any port but 80
    ("1.7.24", "", True), ("1.7.24", "80", False), ("1.7.24", "5000", True),
    ("1.7.34", "", True), ("2.0.0", "", True), ("2.0.0", "80", False), ("2.3.4", "", True), ("2.3.4", "80", False),
])
def test_https_first_with_tls(release, port, expected):
    assert v(release).https_first(port, has_tls=True) is expected
    assert v(release).https_first(port, has_tls=False) is False


def test_https_first_ranges_text():
    assert ranges_for("https_first_ports", R._HF_EXPLICIT_NON80) == "1.6.25–1.6.39, 1.7.8–1.7.23"
    assert ranges_for("https_first_ports", R._HF_ANY) == "1.7.7"
    assert ranges_for("https_first_ports", R._HF_NON80) == "1.7.24 and later"
    assert ranges_for("https_first_ports", R._HF_NEVER) == "1.5.0–1.6.24, 1.7.0–1.7.6"


@pytest.mark.parametrize(("release", "expected"), [
    ("1.5.0", "unused"), ("1.6.0", "unused"), ("1.6.31", "unused"), ("1.6.32", "refused"), ("1.6.39", "refused"),
    ("1.7.0", "unused"), ("1.7.16", "unused"), ("1.7.17", "refused"), ("1.7.34", "refused"),
    ("2.0.0", "read"), ("2.3.4", "read"),
])
def test_config_v3(release, expected):
    assert v(release).v3_config_behaviour() == expected
    assert v(release).reads_v3_config() is (expected == "read")
    assert v(release).config_version_behaviour(3) == expected


@pytest.mark.parametrize(("release", "expected"), [
    ("1.6.31", "unused"), ("1.6.32", "refused"), ("1.7.16", "unused"), ("1.7.17", "refused"),
    ("2.0.0", "refused"), ("2.2.7", "refused"), ("2.3.0", "read"), ("2.3.4", "read"),
])
def test_config_v4(release, expected):
    assert v(release).v4_config_behaviour() == expected
    assert v(release).config_version_behaviour(4) == expected


def test_config_versions_beyond_known_are_refused():
    assert v("2.3.4").config_version_behaviour(5) == "refused"
    assert v("1.7.34").config_version_behaviour(2) == "read"


@pytest.mark.parametrize(("release", "long_keys", "short_keys", "short_in_v2"), [
    ("1.5.0", "ignored", "read", "refused"),
    ("1.7.34", "ignored", "read", "refused"),
    ("2.0.0", "ignored", "ignored", "ignored"),
    ("2.2.7", "ignored", "ignored", "ignored"),
    ("2.3.0", "migrated", "migrated", "ignored"),
    ("2.3.4", "migrated", "migrated", "ignored"),
])
def test_versionless_files(release, long_keys, short_keys, short_in_v2):
    rel = v(release)
    assert rel.versionless_v2_keys() == long_keys
    assert rel.versionless_short_keys() == short_keys
    assert rel.short_key_in_v2() == short_in_v2


@pytest.mark.parametrize(("release", "tls", "tls_conflict"), [
    ("1.5.0", True, True), ("1.7.34", True, True), ("2.0.0", False, False), ("2.3.4", False, False),
])
def test_legacy_tls(release, tls, tls_conflict):
    assert v(release).legacy_tls() is tls
    assert v(release).tls_config_path_conflict() is tls_conflict
    assert v(release).mirrors_config_path_conflict() is True


@pytest.mark.parametrize(("release", "has_mirrors", "platform", "expected"), [
    ("1.7.34", False, "linux", ""),
    ("2.1.9", False, "linux", ""),
    ("2.2.0", False, "linux", CERTS),
    ("2.2.0", True, "linux", CERTS),
    ("2.2.1", True, "freebsd", CERTS),
    ("2.2.1", False, "windows", ""),
    ("2.2.2", False, "linux", CERTS),
    ("2.2.2", True, "linux", ""),
    ("2.2.2", False, "freebsd", ""),
    ("2.3.4", False, "linux", CERTS),
    ("2.3.4", True, "linux", ""),
])
def test_default_config_path(release, has_mirrors, platform, expected):
    assert v(release).default_config_path(has_mirrors, platform) == expected


@pytest.mark.parametrize(("release", "version", "expected"), [
    ("2.2.0", 3, ""), ("2.2.1", 3, ""), ("2.2.0", 2, CERTS), ("2.2.1", 2, CERTS),
    ("2.2.2", 3, CERTS), ("2.2.2", 2, CERTS), ("2.1.9", 2, ""),
])
def test_default_config_path_explicit_empty(release, version, expected):
    """#12612: on 2.2.0/2.2.1 a v2 file's `config_path = ""` is migrated into the default, so its
    mirrors conflict; a v3 file can opt out with `config_path = ""`."""
    assert v(release).default_config_path(False, "linux", explicit_empty=True, config_version=version) == expected


@pytest.mark.parametrize(("release", "expected"), [
    ("1.5.0", ("pull", "resolve")), ("2.1.9", ("pull", "resolve")),
    ("2.2.0", ("pull", "resolve", "referrers")), ("2.3.4", ("pull", "resolve", "referrers")),
])
def test_legacy_capabilities(release, expected):
    assert v(release).legacy_capabilities() == expected


@pytest.mark.parametrize(("release", "host", "expected"), [
    ("1.5.0", "localhost:5000", "http"),
    ("1.5.18", "127.0.0.1:5000", "http"),
    ("1.5.18", "127.0.0.2:5000", "https"),
    ("1.5.18", "[::1]:5000", "http"),
    ("1.6.0", "127.0.0.2:5000", "http"),
    ("1.6.0", "[::1]:5000", "http"),
    ("2.3.4", "localhost", "http"),
    ("2.3.4", "[::1]", "https"),
    ("2.3.4", "registry.example.com", "https"),
])
def test_legacy_upstream_scheme(release, host, expected):
    assert v(release).legacy_upstream_scheme(host) == expected


@pytest.mark.parametrize(("release", "transfer", "split", "auth_headers"), [
    ("1.5.0", False, True, False),
    ("2.0.11", False, True, False),
    ("2.1.0", True, False, True),
    ("2.2.1", True, False, True),
    ("2.3.4", True, False, True),
])
def test_pull_path(release, transfer, split, auth_headers):
    rel = v(release)
    assert rel.transfer_service() is transfer
    assert rel.transfer_service_localhost_defaults() is transfer
    assert rel.transfer_splits_config_path() is split
    assert rel.headers_on_auth_requests() is auth_headers


@pytest.mark.parametrize(("release", "tls", "pull_path"), [
    ("1.5.0", "read", "local pull"),
    ("1.7.34", "read", "local pull"),
    ("2.0.0", "dropped", "local pull"),
    ("2.0.11", "dropped", "local pull"),
    ("2.1.0", "dropped", "selects local pull"),
    ("2.3.4", "dropped", "selects local pull"),
])
def test_mirrors_status(release, tls, pull_path):
    status = v(release).mirrors_status()
    assert set(status) == {"mirrors", "configs_auth", "configs_tls", "auths", "headers", "pull_path"}
    assert status["configs_tls"].startswith(tls)
    assert pull_path in status["pull_path"]
    assert status["configs_auth"] == "read"
    assert status["mirrors"].startswith("read")


def test_ranges_for_text():
    assert ranges_for("default_dir") == "1.6.17 and later"
    assert ranges_for("default_dir", False) == "1.5.0–1.6.16"
    assert ranges_for("requires_host_table") == "1.5.0–1.7.31"
    assert ranges_for("dial_timeout") == "2.0.7 and later"
    assert ranges_for("dial_timeout_counts_as_tls") == "2.0.7–2.0.11"
    assert ranges_for("config_v3", "unused") == "1.5.0–1.6.31, 1.7.0–1.7.16"
    assert ranges_for("config_v3", "refused") == "1.6.32–1.6.39, 1.7.17–1.7.34"
    assert ranges_for("config_v4", "read") == "2.3.0 and later"
    assert ranges_for("localhost_upstream", R._LOCALHOST_HTTP_SKIP) == "1.6.9–1.6.24, 1.7.0–1.7.7"
    assert ranges_for("referrers", "nonsense") == "no known release"
    with pytest.raises(ValueError):
        ranges_for("config_v3")
    with pytest.raises(KeyError):
        ranges_for("nope")


def test_releases_where():
    assert [str(r) for r in R.releases_where("https_first_ports", R._HF_ANY)] == ["1.7.7"]
    assert [str(r) for r in R.releases_where("default_config_path", (CERTS, "unless-windows"))] == ["2.2.0", "2.2.1"]


def test_is_localhost_follows_go_split_host_port():
    assert R.is_localhost("localhost:5000")
    assert R.is_localhost("127.0.0.5")
    assert R.is_localhost("[::1]:5000")
    assert R.is_localhost("::1")
    assert not R.is_localhost("[::1]")  # Go cannot split it and net.ParseIP("[::1]") fails
    assert not R.is_localhost("localhost.example.com:5000")


def test_known_releases_are_in_release_order() -> None:
    """NEWEST and OLDEST are the ends of KNOWN_RELEASES, so the table must list lines in order."""
    from translator import releases

    assert list(releases.KNOWN_RELEASES) == sorted(releases.KNOWN_RELEASES)
    assert max(releases.KNOWN_RELEASES) == releases.NEWEST and min(releases.KNOWN_RELEASES) == releases.OLDEST
    assert all(r.line == line for line, rs in releases.LINES.items() for r in rs)
