"""What each containerd release does with registry configuration: the fact base behind `--containerd`.

Every version-dependent rule the rest of the code applies lives in `FACTS`, one row per
(behaviour, version ranges, value, source). A behaviour has several rows with disjoint ranges;
together they cover every release in `KNOWN_RELEASES` exactly once (`validate_facts()` checks
this and the tests call it). The query methods on `Release` only look rows up: no version
comparison is written anywhere else.

Ranges are inclusive `(first, last)` pairs of release strings; `last = None` means "and every
later release" (up to `NEWEST`, and whatever comes after it). Sources are
`vX.Y.Z:path:line` in containerd's repository, a commit and its pull request, an issue, or
`e2e 1.6.20` (SEMANTICS.md §8, observed on a running containerd). Rows derived only from
reading the source with no issue or runtime observation behind them say "runtime unconfirmed".
`docs/releases.md` quotes the source lines for every boundary.

Standard library only, no I/O; Python 3.9 syntax.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from typing import Any, NamedTuple

from .patterns import lazy
from .record import record

# --------------------------------------------------------------------------------------------
# Releases (from the tags of github.com/containerd/containerd; -rc/-beta/-alpha excluded).
# Lines before 1.5 are not supported: config_path / hosts.toml arrived in 1.5.0.
# --------------------------------------------------------------------------------------------

#: newest patch of every supported line, as tagged (tags listed up to 2026-08-22)
_LINE_NEWEST: tuple[tuple[tuple[int, int], int], ...] = (
    ((1, 5), 18),
    ((1, 6), 39),
    ((1, 7), 34),
    ((2, 0), 11),
    ((2, 1), 9),
    ((2, 2), 7),
    ((2, 3), 4),
)

#: pre-releases seen in the tags that have no final release yet (not accepted by parse_version)
PRERELEASES_WITHOUT_RELEASE: tuple[str, ...] = ("2.4.0-beta.0",)

_VERSION_RE = lazy(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")


@record(order=True)
class Release:
    """One containerd release. Ordered by (major, minor, patch)."""

    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def line(self) -> tuple[int, int]:
        return (self.major, self.minor)

    # ---- generic look-ups --------------------------------------------------------------

    def fact(self, name: str) -> Fact:
        """The row of `name` that covers this release."""
        return fact_for(name, self)

    def value(self, name: str) -> Any:
        return fact_for(name, self).value

    def source(self, name: str) -> str:
        return fact_for(name, self).source

    def supports(self, name: str) -> bool:
        """A yes/no behaviour, e.g. `default_dir`, `referrers`, `dial_timeout`, `config_path`,
        `override_path`, `legacy_tls`, `transfer_service`."""
        value = self.value(name)
        if not isinstance(value, bool):
            raise ValueError(f"fact {name!r} is not a yes/no behaviour (its value here is {value!r})")
        return value

    # ---- hosts.toml (certs.d) -------------------------------------------------------------

    def requires_host_table(self) -> bool:
        """A hosts.toml without any `[host]` table is rejected (``invalid `host` tree``)."""
        return self.supports("requires_host_table")

    def host_listing(self) -> str:
        """How `[host."…"]` entries are found: `line-order-unique` (1.x, go-toml v1 tree keys
        sorted by line) or `table-headers` (2.x: only `[host."x"…]` table headers, a sub-table
        after another host lists that host again; dotted keys and inline tables are not listed)."""
        return str(self.value("host_listing"))

    def localhost_upstream(self, port: str = "") -> tuple[str, bool]:
        """(scheme, forced skip_verify) of the upstream filled in for a localhost/loopback
        registry whose hosts.toml names no server (or has no directory). `port` is the
        registry's port as written ("" when there is none)."""
        rules = dict(self.value("localhost_upstream"))
        scheme, skip = rules.get(port, rules["*"])
        return (scheme, skip)

    def https_first(self, port: str, has_tls: bool, dial_timeout_only: bool = False) -> bool:
        """Whether an `http://` host is tried over HTTPS first (falling back to http on a TLS
        error). `port` is the host's explicit port ("" when the URL has none); `has_tls` is true
        when the entry sets `ca`, `client` or `skip_verify` (any value); `dial_timeout_only` when
        it sets `dial_timeout` and none of those."""
        configured = has_tls or (dial_timeout_only and self.supports("dial_timeout_counts_as_tls"))
        if not configured:
            return False
        rule = dict(self.value("https_first_ports"))
        if not rule["enabled"]:
            return False
        if port == "" and not rule["without_port"]:
            return False
        return port not in rule["excluded_ports"]

    # ---- config.toml ----------------------------------------------------------------------

    def v3_config_behaviour(self) -> str:
        """`version = 3`: "read" (2.x), "unused" (read as v2, the v3 registry table unused) or
        "refused" (containerd does not start)."""
        return str(self.value("config_v3"))

    def reads_v3_config(self) -> bool:
        return self.v3_config_behaviour() == "read"

    def v4_config_behaviour(self) -> str:
        """`version = 4`: "read", "unused" or "refused", as for version 3."""
        return str(self.value("config_v4"))

    def config_version_behaviour(self, version: int) -> str:
        """What this release does with a config.toml `version = N` (0 = absent): "read",
        "unused" or "refused"."""
        if version in (0, 1, 2):
            return "read"
        if version == 3:
            return self.v3_config_behaviour()
        if version == 4:
            return self.v4_config_behaviour()
        return "refused"

    def versionless_v2_keys(self) -> str:
        """`plugins."io.containerd.grpc.v1.cri"` tables in a file without `version`:
        "ignored" or "migrated"."""
        return str(self.value("versionless_v2_keys"))

    def versionless_short_keys(self) -> str:
        """`plugins.cri` tables in a file without `version`: "read", "ignored" or "migrated"."""
        return str(self.value("versionless_short_keys"))

    def short_key_in_v2(self) -> str:
        """`[plugins.cri…]` in a `version = 2` file: "refused" (1.x) or "ignored" (2.x)."""
        return str(self.value("short_key_in_v2"))

    def legacy_tls(self) -> bool:
        """`registry.configs.<host>.tls` is honoured (1.x) rather than dropped (2.x)."""
        return self.supports("legacy_tls")

    def mirrors_config_path_conflict(self) -> bool:
        """Non-empty `mirrors` together with `config_path` makes the CRI plugin fail to load."""
        return self.supports("mirrors_config_path_conflict")

    def tls_config_path_conflict(self) -> bool:
        """Any `configs.<h>.tls` together with `config_path` makes the CRI plugin fail to load."""
        return self.supports("tls_config_path_conflict")

    def default_config_path(self, has_mirrors: bool, platform: str = "linux", explicit_empty: bool = False,
                            config_version: int = 3) -> str:
        """The `config_path` CRI ends up with when the file gives none. `platform` is a Go GOOS
        value; `explicit_empty` when the file writes `config_path = ""`; `config_version` is the
        file's `version` (0 when absent)."""
        path, condition = self.value("default_config_path")
        if condition == "never":
            return ""
        if condition == "unless-windows":
            # 2.2.0/2.2.1: the default is part of DefaultImageConfig (every non-Windows build), so
            # only a v3+ file that writes config_path = "" overrides it; in a v2 file the
            # migration turns an explicit "" back into the default (on Linux)
            if platform == "windows":
                return ""
            if explicit_empty:
                return path if config_version < 3 and platform == "linux" else ""
            return path
        # "linux-without-mirrors" (2.2.2+): set at plugin init when config_path ends up empty
        return path if platform == "linux" and not has_mirrors else ""

    def mirrors_status(self) -> dict[str, str]:
        """What the release does with the legacy registry keys: `mirrors`, `configs_auth`,
        `configs_tls`, `auths`, `headers`, and `pull_path` (which pull path they select)."""
        return dict(self.value("legacy_keys"))

    # ---- legacy endpoint list (config_path empty) -------------------------------------------

    def legacy_capabilities(self) -> tuple[str, ...]:
        return tuple(self.value("legacy_capabilities"))

    def legacy_is_localhost(self, host: str) -> bool:
        """Whether the legacy endpoint list gives `host` (host[:port]) the http scheme."""
        rule = self.value("legacy_localhost")
        if rule == "loopback":
            return is_localhost(host)
        return _strip_port(host) in rule

    def legacy_upstream_scheme(self, host: str) -> str:
        return "http" if self.legacy_is_localhost(host) else "https"

    # ---- CRI pull path (2.1+ transfer service) ------------------------------------------------

    def transfer_service(self) -> bool:
        """CRI pulls go through the transfer service unless a local-pull setting is present
        (`mirrors`, `configs`, `auths`, `use_local_image_pull`, …)."""
        return self.supports("transfer_service")

    def transfer_service_localhost_defaults(self) -> bool:
        """Transfer-service pulls fill the upstream the hosts.toml way (localhost rules of
        `localhost_upstream`) even when `config_path` is empty."""
        return self.supports("transfer_service_localhost_defaults")

    def transfer_splits_config_path(self) -> bool:
        """Transfer-service pulls split a `:`-joined `config_path` (False: passed unsplit, so a
        list finds no directory)."""
        return self.supports("transfer_splits_config_path")

    def headers_on_auth_requests(self) -> bool:
        """`registry.headers` are also sent on token (auth) requests."""
        return self.supports("headers_on_auth_requests")


class Fact(NamedTuple):
    """One row: behaviour `name` has `value` in every release inside `ranges`."""

    name: str
    ranges: tuple[tuple[str, str | None], ...]
    value: Any
    source: str


# --------------------------------------------------------------------------------------------
# The table. Keep rows of one name together; ranges of one name must not overlap and must
# cover every known release.
# --------------------------------------------------------------------------------------------

_OPEN = None
_CERTS = "/etc/containerd/certs.d:/etc/docker/certs.d"

_LOCALHOST_HTTPS = (("*", ("https", False)),)
_LOCALHOST_HTTP_SKIP = (("*", ("http", True)),)
_LOCALHOST_BY_PORT = (("", ("https", True)), ("443", ("https", True)), ("80", ("http", False)),
                      ("*", ("http", True)))

_HF_NEVER = (("enabled", False), ("without_port", False), ("excluded_ports", ()))
_HF_ANY = (("enabled", True), ("without_port", True), ("excluded_ports", ()))
_HF_EXPLICIT_NON80 = (("enabled", True), ("without_port", False), ("excluded_ports", ("80",)))
_HF_NON80 = (("enabled", True), ("without_port", True), ("excluded_ports", ("80",)))

FACTS: tuple[Fact, ...] = (
    # ---- activation ------------------------------------------------------------------------
    Fact("config_path", (("1.5.0", _OPEN),), True,
         "v1.5.0:pkg/cri/config/config.go:152 (ConfigPath `toml:\"config_path\"`); "
         "v1.5.0:pkg/cri/server/image_pull.go:334 (filepath.SplitList); added b0b6d9aa0 (PR #4978); "
         "absent from v1.4.13"),
    Fact("override_path", (("1.5.0", "1.5.18"),), False,
         "v1.5.18:remotes/docker/config/hosts.go:376 (/v2 appended unconditionally; no override_path key)"),
    Fact("override_path", (("1.6.0", _OPEN),), True,
         "v1.6.0:remotes/docker/config/hosts.go:311 (OverridePath `toml:\"override_path\"`); "
         "a7ad6b3be (PR #5676)"),
    Fact("default_dir", (("1.5.0", "1.6.16"),), False,
         "v1.5.18:remotes/docker/config/config_unix.go:27-37 and v1.6.16 same lines (hostPaths: h_p_ and h only); "
         "#8053 (maintainer: _default not backported to 1.5)"),
    Fact("default_dir", (("1.6.17", _OPEN),), True,
         "v1.6.17:remotes/docker/config/config_unix.go:35, v1.7.0:remotes/docker/config/config_unix.go:34, "
         "v2.0.0:core/remotes/docker/config/config_unix.go:34 (filepath.Join(root, \"_default\")); "
         "f0bf9e7f8 (PR #7607) in 1.7.0, backport 1436641b8 (PR #8065) in 1.6.17"),

    # ---- hosts.toml parsing ----------------------------------------------------------------
    Fact("referrers", (("1.5.0", "2.1.9"),), False,
         "v2.1.9:core/remotes/docker/config/hosts.go:462 (unknown capability -> parse error, file ignored: "
         "v2.1.9:core/remotes/docker/config/hosts.go:329; v1.7.34:remotes/docker/config/hosts.go:314)"),
    Fact("referrers", (("2.2.0", _OPEN),), True,
         "v2.2.0:core/remotes/docker/config/hosts.go:461 (case \"referrers\"); b668614b5 (PR #12309)"),
    Fact("dial_timeout", (("1.5.0", "2.0.6"),), False,
         "no dial_timeout field before v2.0.7 (v2.0.6:core/remotes/docker/config/hosts.go:353 is the last "
         "hostFileConfig field); unknown keys are ignored: v2.0.0:core/remotes/docker/config/hosts.go:377 "
         "(non-strict toml.Unmarshal), v1.7.34:remotes/docker/config/hosts.go:388 (tree.Unmarshal)"),
    Fact("dial_timeout", (("2.0.7", "2.0.11"), ("2.1.0", _OPEN)), True,
         "v2.0.7:core/remotes/docker/config/hosts.go:367,530 and v2.1.0:core/remotes/docker/config/hosts.go:374,537 "
         "(DialTimeout string; time.ParseDuration error -> parse error); c4982bffc (PR #11106) in 2.1.0, "
         "backport b50cbbc98 (PR #12136) in 2.0.7"),
    Fact("dial_timeout_counts_as_tls", (("1.5.0", "2.0.6"), ("2.1.0", _OPEN)), False,
         "v2.1.0:core/remotes/docker/config/hosts.go:170 (explicitTLSFromHost without dialTimeout); "
         "fixed by f702bf9fe (PR #11546), not backported to 2.0"),
    Fact("dial_timeout_counts_as_tls", (("2.0.7", "2.0.11"),), True,
         "v2.0.7:core/remotes/docker/config/hosts.go:184, v2.0.11:core/remotes/docker/config/hosts.go:184 "
         "(`|| host.dialTimeout != nil` sets explicitTLS)"),
    Fact("requires_host_table", (("1.5.0", "1.6.39"), ("1.7.0", "1.7.31")), True,
         "v1.5.0:remotes/docker/config/hosts.go:478, v1.6.39:remotes/docker/config/hosts.go:533, "
         "v1.7.31:remotes/docker/config/hosts.go:534 (\"invalid `host` tree\"); #10027; e2e 1.6.20"),
    Fact("requires_host_table", (("1.7.32", "1.7.34"), ("2.0.0", _OPEN)), False,
         "v1.7.32:remotes/docker/config/hosts.go:533 (return nil, nil; 24007441d, PR #10028); "
         "v2.0.0:core/remotes/docker/config/hosts.go:519 (go-toml v2 parser, b5615caf1, PR #9131)"),
    Fact("host_listing", (("1.5.0", "1.7.34"),), "line-order-unique",
         "v1.7.34:remotes/docker/config/hosts.go:536-543 (iter.Keys() sorted by Position().Line)"),
    Fact("host_listing", (("2.0.0", _OPEN),), "table-headers",
         "v2.0.0:core/remotes/docker/config/hosts.go:532,544 and v2.3.4:core/remotes/docker/config/hosts.go:576 "
         "(only Table expressions; `parts[1] == host` skips only the previous host)"),

    # ---- upstream fill and HTTPS-first ----------------------------------------------------------
    Fact("localhost_upstream", (("1.5.0", "1.6.8"),), _LOCALHOST_HTTPS,
         "v1.6.8:remotes/docker/config/hosts.go:102-108 (no localhost case: https)"),
    Fact("localhost_upstream", (("1.6.9", "1.6.24"), ("1.7.0", "1.7.7")), _LOCALHOST_HTTP_SKIP,
         "v1.6.9:remotes/docker/config/hosts.go:102-109, v1.6.24 and v1.7.7 same lines (http + skipVerify); "
         "3cfde732e (PR #7393) in 1.7.0, 89e49609d (PR #7438) in 1.6.9; e2e 1.6.20 (loopback pulled over plain http)"),
    Fact("localhost_upstream", (("1.6.25", "1.6.39"), ("1.7.8", _OPEN)), _LOCALHOST_BY_PORT,
         "v1.6.25:remotes/docker/config/hosts.go:104-119, v1.7.8 same lines, "
         "v2.0.0:core/remotes/docker/config/hosts.go:104-119; 35c7634e3 (PR #9299), 51df21d09 (PR #9300)"),
    Fact("https_first_ports", (("1.5.0", "1.6.24"), ("1.7.0", "1.7.6")), _HF_NEVER,
         "v1.6.24:remotes/docker/config/hosts.go:163-169, v1.7.6 same lines (scheme copied, no fallback); "
         "e2e 1.6.20 (http:// host with ca stays plain http)"),
    Fact("https_first_ports", (("1.7.7", "1.7.7"),), _HF_ANY,
         "v1.7.7:remotes/docker/config/hosts.go:242-245 (no port test); 7779ce64e (PR #9188)"),
    Fact("https_first_ports", (("1.6.25", "1.6.39"), ("1.7.8", "1.7.23")), _HF_EXPLICIT_NON80,
         "v1.6.25:remotes/docker/config/hosts.go:254-256, v1.6.39 same, v1.7.8:254-256, "
         "v1.7.23:remotes/docker/config/hosts.go:255-257 (port != \"\" && port != \"80\"); 35c7634e3 (PR #9299), "
         "51df21d09 (PR #9300)"),
    Fact("https_first_ports", (("1.7.24", _OPEN),), _HF_NON80,
         "v1.7.24:remotes/docker/config/hosts.go:255-257, v2.0.0:core/remotes/docker/config/hosts.go:252-254, "
         "v2.3.4:core/remotes/docker/config/hosts.go:221-223 (port != \"80\"); 49c9f303b (PR #11032), "
         "02b6c6939 (PR #10286)"),

    # ---- config.toml versions -------------------------------------------------------------------
    Fact("config_v3", (("1.5.0", "1.6.31"), ("1.7.0", "1.7.16")), "unused",
         "v1.5.0:services/server/config/config.go:207-210, v1.6.31:211-213, v1.7.16:175-177 (Decode reads "
         "plugins by URI for every version != 1, no upper bound): the v3 registry table "
         "io.containerd.cri.v1.images is no 1.x plugin; e2e 1.6.20 (v3/v4 start, registry silently ignored)"),
    Fact("config_v3", (("1.6.32", "1.6.39"), ("1.7.17", "1.7.34")), "refused",
         "v1.6.32:services/server/config/config.go:106-109, v1.7.17 same lines (`version > 2` -> "
         "unsupported config version); 38607b59c (PR #10234), 00347b7fa (PR #10165)"),
    Fact("config_v3", (("2.0.0", _OPEN),), "read",
         "v2.0.0:version/version.go:40 (ConfigVersion = 3)"),
    Fact("config_v4", (("1.5.0", "1.6.31"), ("1.7.0", "1.7.16")), "unused",
         "as config_v3 (Decode has no version bound); e2e 1.6.20"),
    Fact("config_v4", (("1.6.32", "1.6.39"), ("1.7.17", "1.7.34"), ("2.0.0", "2.2.7")), "refused",
         "v1.6.32:services/server/config/config.go:106; v2.0.0:cmd/containerd/server/config/config.go:116 and "
         "v2.2.7:cmd/containerd/server/config/config.go:112 (Version > ConfigVersion = 3)"),
    Fact("config_v4", (("2.3.0", _OPEN),), "read",
         "v2.3.0:version/version.go:41 (ConfigVersion = 4); 06c23567c (PR #12562)"),
    Fact("versionless_v2_keys", (("1.5.0", "1.7.34"),), "ignored",
         "v1.5.0:services/server/config/config.go:208-209, v1.7.34:services/server/config/config.go:183-184 "
         "(version 1 looks plugins up by short ID); #5236; e2e 1.6.20"),
    Fact("versionless_v2_keys", (("2.0.0", "2.2.7"),), "ignored",
         "source reading, runtime unconfirmed: v2.0.0:cmd/containerd/server/config/config.go:316-317 migrates a "
         "version 0/1 file to out.Version (3, v2.0.0:cmd/containerd/command/config.go:160) at load, so "
         "v2.0.0:cmd/containerd/server/server.go:124,246 skips the plugin migrations that move "
         "io.containerd.grpc.v1.cri.registry to io.containerd.cri.v1.images; same in v2.2.7 (server.go:133,266)"),
    Fact("versionless_v2_keys", (("2.3.0", _OPEN),), "migrated",
         "v2.3.0:cmd/containerd/server/config/config.go:483-498 (plugin migrations run on load per version "
         "step); v2.3.0:cmd/containerd/command/main.go:156; 0d7fee062 (PR #12608)"),
    Fact("versionless_short_keys", (("1.5.0", "1.7.34"),), "read",
         "v1.5.0:services/server/config/config.go:208-209 (version 1: plugin short ID, e.g. plugins.cri)"),
    Fact("versionless_short_keys", (("2.0.0", "2.2.7"),), "ignored",
         "source reading, runtime unconfirmed: v2.0.0:cmd/containerd/server/config/config.go:196 renames "
         "cri -> io.containerd.grpc.v1.cri, then the plugin migration is skipped as for versionless_v2_keys"),
    Fact("versionless_short_keys", (("2.3.0", _OPEN),), "migrated",
         "v2.3.0:cmd/containerd/server/config/config.go:483-498; 0d7fee062 (PR #12608)"),
    Fact("short_key_in_v2", (("1.5.0", "1.7.34"),), "refused",
         "v1.5.0:services/server/config/config.go:115, v1.7.34:services/server/config/config.go:124 "
         "(invalid plugin key URI); e2e 1.6.20"),
    Fact("short_key_in_v2", (("2.0.0", _OPEN),), "ignored",
         "v2.0.0:cmd/containerd/server/config/config.go:115-131 (ValidateVersion checks no plugin keys; "
         "v1Migrate runs only for version 0/1)"),

    # ---- legacy registry keys -------------------------------------------------------------------
    Fact("legacy_tls", (("1.5.0", "1.7.34"),), True,
         "v1.7.34:pkg/cri/config/config.go:256 (RegistryConfig.TLS), v1.7.34:pkg/cri/server/image_pull.go:464"),
    Fact("legacy_tls", (("2.0.0", _OPEN),), False,
         "v2.0.0:internal/cri/config/config.go:238-240 (RegistryConfig has only Auth; the tls key is an "
         "unknown key, warned at v2.0.0:cmd/containerd/server/config/config.go:278); d2b7a1e29 (PR #8588); #11624"),
    Fact("mirrors_config_path_conflict", (("1.5.0", _OPEN),), True,
         "v1.5.0:pkg/cri/config/config.go:366, v1.7.34:pkg/cri/config/config.go:510, "
         "v2.0.0:internal/cri/config/config.go:470, v2.3.4:internal/cri/config/config.go:514; e2e 1.6.20"),
    Fact("tls_config_path_conflict", (("1.5.0", "1.7.34"),), True,
         "v1.5.0:pkg/cri/config/config.go:379, v1.6.39:pkg/cri/config/config.go:440, "
         "v1.7.34:pkg/cri/config/config.go:524; e2e 1.6.20"),
    Fact("tls_config_path_conflict", (("2.0.0", _OPEN),), False,
         "no TLS field in v2.0.0:internal/cri/config/config.go:238-240 (dropped, so no conflict)"),
    Fact("default_config_path", (("1.5.0", "2.1.9"),), ("", "never"),
         "v2.1.9:internal/cri/config/config_unix.go (DefaultImageConfig sets no ConfigPath)"),
    Fact("default_config_path", (("2.2.0", "2.2.1"),), (_CERTS, "unless-windows"),
         "v2.2.0:internal/cri/config/config_unix.go:36 (//go:build !windows; default even beside mirrors) and "
         "v2.2.0:plugins/cri/images/plugin.go:219 (a migrated empty config_path gets it too); "
         "5386802f8 (PR #6488); #12612, #12636"),
    Fact("default_config_path", (("2.2.2", _OPEN),), (_CERTS, "linux-without-mirrors"),
         "v2.2.2:plugins/cri/images/plugin.go:68-70, v2.3.4 same lines (Linux, config_path and mirrors empty); "
         "a20dead7c (PR #12987, cherry-pick of #12617)"),
    Fact("legacy_keys", (("1.5.0", "1.7.34"),),
         (("mirrors", "read; deprecated warning"), ("configs_auth", "read"),
          ("configs_tls", "read (legacy list only; conflicts with config_path)"),
          ("auths", "read; folded into configs; deprecated warning"),
          ("headers", "sent on registry requests"), ("pull_path", "local pull (no transfer service)")),
         "v1.7.34:pkg/cri/config/config.go:510-524; v1.5.0:pkg/cri/server/image_pull.go:104 (Headers)"),
    Fact("legacy_keys", (("2.0.0", "2.0.11"),),
         (("mirrors", "read; deprecation warning (removal announced for 2.1)"), ("configs_auth", "read"),
          ("configs_tls", "dropped (unknown key warning)"),
          ("auths", "read; folded into configs; deprecation warning"),
          ("headers", "sent on registry requests"), ("pull_path", "local pull (no transfer service)")),
         "v2.0.0:internal/cri/config/config.go:470-501; v2.0.0:pkg/deprecation/deprecation.go:49-53; "
         "v2.0.11:internal/cri/server/images/image_pull.go:170"),
    Fact("legacy_keys", (("2.1.0", _OPEN),),
         (("mirrors", "read; deprecation warning (removal announced, not done as of 2.3.4 and 2.4.0-beta.0)"),
          ("configs_auth", "read"),
          ("configs_tls", "dropped (unknown key warning)"),
          ("auths", "read; folded into configs; deprecation warning"),
          ("headers", "sent on registry and token requests"),
          ("pull_path", "any non-empty mirrors/configs/auths selects local pull instead of the transfer service")),
         "v2.1.0:internal/cri/config/config.go:563-575, v2.3.4:internal/cri/config/config.go:588-599, "
         "v2.3.4:internal/cri/config/config.go:514-544; v2.3.4:pkg/deprecation/deprecation.go:57-61 (v2.4)"),
    Fact("headers_on_auth_requests", (("1.5.0", "2.0.11"),), False,
         "v2.0.11:internal/cri/server/images/image_pull.go:170 (resolver Headers only, no WithAuthHeader)"),
    Fact("headers_on_auth_requests", (("2.1.0", _OPEN),), True,
         "v2.1.0:internal/cri/server/images/image_pull.go:500,551 (docker.WithAuthHeader); 4857de853 (PR #11092)"),
    Fact("legacy_capabilities", (("1.5.0", "2.1.9"),), ("pull", "resolve"),
         "v1.5.0:pkg/cri/server/image_pull.go:396, v1.7.34:pkg/cri/server/image_pull.go:505, "
         "v2.1.9:internal/cri/server/images/image_pull.go:563"),
    Fact("legacy_capabilities", (("2.2.0", _OPEN),), ("pull", "resolve", "referrers"),
         "v2.2.0:internal/cri/server/images/image_pull.go:564; c1b1297c6 (PR #12309)"),
    Fact("legacy_localhost", (("1.5.0", "1.5.18"),), ("localhost", "127.0.0.1", "::1"),
         "v1.5.0:pkg/cri/server/image_pull.go:408, v1.5.18:pkg/cri/server/image_pull.go:412 (exact names)"),
    Fact("legacy_localhost", (("1.6.0", _OPEN),), "loopback",
         "v1.6.0:pkg/cri/server/image_pull.go:413,430 (ip.IsLoopback()); 8014d9fee (PR #5100); "
         "v1.7.34:pkg/cri/server/image_pull.go:514, v2.3.4:internal/cri/server/images/image_pull.go:589"),

    # ---- CRI pull path ---------------------------------------------------------------------------
    Fact("transfer_service", (("1.5.0", "2.0.11"),), False,
         "v2.0.11:internal/cri/server/images/image_pull.go has no transfer-service pull"),
    Fact("transfer_service", (("2.1.0", _OPEN),), True,
         "v2.1.0:internal/cri/server/images/image_pull.go:184 (UseLocalImagePull else transfer service), "
         "v2.1.0:plugins/cri/images/plugin.go:77 (CheckLocalImagePullConfigs); b694be29a (PR #8515)"),
    Fact("transfer_service_localhost_defaults", (("1.5.0", "2.0.11"),), False,
         "no transfer service in CRI before 2.1.0"),
    Fact("transfer_service_localhost_defaults", (("2.1.0", _OPEN),), True,
         "v2.1.0:core/transfer/registry/registry.go:127-128,156 and v2.3.4 same lines (ConfigureHosts is "
         "always used; HostDir only when set)"),
    Fact("transfer_splits_config_path", (("1.5.0", "2.0.11"),), True,
         "no transfer service in CRI before 2.1.0 (local pull splits: "
         "v1.5.0:pkg/cri/server/image_pull.go:334)"),
    Fact("transfer_splits_config_path", (("2.1.0", _OPEN),), False,
         "v2.1.0:internal/cri/server/images/image_pull.go:312, v2.3.4:internal/cri/server/images/image_pull.go:316 "
         "(WithHostDir(ConfigPath)), v2.1.0:core/transfer/registry/registry.go:128 (HostDirFromRoot, one root); "
         "#12415, #12636, #12808 (fix PR #12829 open when checked)"),
)


# --------------------------------------------------------------------------------------------
# Parsing and look-ups
# --------------------------------------------------------------------------------------------


@cache
def _release(text: str) -> Release:
    major, minor, patch = (int(p) for p in text.split("."))
    return Release(major, minor, patch)


# _LINE_NEWEST is in release order (tests/test_releases.py), so its ends are the newest and oldest
NEWEST: Release = Release(*_LINE_NEWEST[-1][0], _LINE_NEWEST[-1][1])
OLDEST: Release = Release(*_LINE_NEWEST[0][0], 0)


@cache
def _lines() -> dict[tuple[int, int], tuple[Release, ...]]:
    """LINES: every known release of each line, oldest first."""
    return {(major, minor): tuple(Release(major, minor, patch) for patch in range(newest + 1))
            for (major, minor), newest in _LINE_NEWEST}


@cache
def _known_releases() -> tuple[Release, ...]:
    """KNOWN_RELEASES: every known release, oldest first."""
    return tuple(release for line in _lines().values() for release in line)


@cache
def _known() -> frozenset[Release]:
    return frozenset(_known_releases())


def __getattr__(name: str) -> Any:
    """LINES and KNOWN_RELEASES, built when first asked for: 129 releases that a run without
    --containerd never looks at (half a millisecond of every start-up)."""
    if name == "LINES":
        return _lines()
    if name == "KNOWN_RELEASES":
        return _known_releases()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_FACT_NAMES = tuple(dict.fromkeys(f.name for f in FACTS))


def newest_in_line(major: int, minor: int) -> Release:
    try:
        return _lines()[(major, minor)][-1]
    except KeyError:
        raise ValueError(f"containerd {major}.{minor} has no known release; {_supported_text()}") from None


def _supported_text() -> str:
    lines = ", ".join(f"{a}.{b} (to {a}.{b}.{n})" for (a, b), n in _LINE_NEWEST)
    return f"known release lines: {lines}; newest known release {NEWEST}"


def parse_version(text: str) -> Release:
    """`1.6.20`, `v2.1.4` -> that release; `1.7` -> the newest known 1.7.x.

    Raises ValueError for text that is not a version, a pre-release, a line before 1.5 (no
    config_path/hosts.toml) or a release the table does not know."""
    raw = str(text).strip()
    match = _VERSION_RE.match(raw)
    if not match:
        hint = ""
        if re.match(r"^v?\d+\.\d+\.\d+-", raw):
            hint = " (pre-releases such as -rc/-beta are not supported; give a released version)"
        raise ValueError(f"invalid containerd version {text!r}{hint}: expected 1.7, 1.6.20 or v2.1.4; "
                         f"{_supported_text()}")
    major, minor = int(match.group(1)), int(match.group(2))
    if (major, minor) < OLDEST.line:
        raise ValueError(f"containerd {major}.{minor} is not supported: registry config_path and hosts.toml "
                         f"arrived in 1.5.0; {_supported_text()}")
    if (major, minor) not in _lines():
        pre = [p for p in PRERELEASES_WITHOUT_RELEASE if p.startswith(f"{major}.{minor}.")]
        extra = f" (only pre-release {', '.join(pre)} is tagged)" if pre else ""
        raise ValueError(f"containerd {major}.{minor} has no known release{extra}; {_supported_text()}")
    if match.group(3) is None:
        return newest_in_line(major, minor)
    release = Release(major, minor, int(match.group(3)))
    if release not in _known():
        raise ValueError(f"containerd {release} is not a known release; the {major}.{minor} line runs "
                         f"{major}.{minor}.0 to {newest_in_line(major, minor)} ({_supported_text()})")
    return release


def _bounds(rng: tuple[str, str | None]) -> tuple[Release, Release | None]:
    first, last = rng
    return _release(first), (_release(last) if last is not None else None)


def _in_range(release: Release, rng: tuple[str, str | None]) -> bool:
    first, last = _bounds(rng)
    return first <= release and (last is None or release <= last)


def fact_names() -> tuple[str, ...]:
    return _FACT_NAMES


@cache
def facts_named(name: str) -> tuple[Fact, ...]:
    rows = tuple(f for f in FACTS if f.name == name)
    if not rows:
        raise KeyError(f"unknown containerd fact {name!r}; known: {', '.join(_FACT_NAMES)}")
    return rows


@cache  # asked for every endpoint of every file: a fleet asks the same few questions 100,000 times
def fact_for(name: str, release: Release) -> Fact:
    for row in facts_named(name):
        if any(_in_range(release, rng) for rng in row.ranges):
            return row
    raise LookupError(f"no row of fact {name!r} covers containerd {release}")


def _render_range(rng: tuple[str, str | None]) -> str:
    first, last = rng
    if last is None:
        return f"{first} and later"
    return first if first == last else f"{first}–{last}"


def ranges_for(name: str, value: Any = None) -> str:
    """Human text of the releases where `name` has `value`, e.g. "1.6.25–1.6.39, 1.7.8–1.7.23".

    Without `value`, a yes/no fact is taken as True; other facts need the value."""
    rows = facts_named(name)
    if value is None:
        if not all(isinstance(r.value, bool) for r in rows):
            raise ValueError(f"fact {name!r} has several values; pass the one wanted")
        value = True
    spans = sorted((_bounds(rng) for r in rows if r.value == value for rng in r.ranges), key=lambda g: g[0])
    if not spans:
        return "no known release"
    merged: list[tuple[Release, Release | None]] = []
    for first, last in spans:
        if merged:
            prev_first, prev_last = merged[-1]
            if prev_last is not None and _next_release(prev_last) == first:
                merged[-1] = (prev_first, last)
                continue
        merged.append((first, last))
    return ", ".join(_render_range((str(a), None if b is None else str(b))) for a, b in merged)


def _next_release(release: Release) -> Release | None:
    later = [r for r in _known_releases() if r > release]
    return min(later) if later else None


def releases_where(name: str, value: Any = True) -> tuple[Release, ...]:
    """Every known release in which `name` has `value`."""
    return tuple(r for r in _known_releases() if fact_for(name, r).value == value)


def validate_facts() -> list[str]:
    """Problems with the table: ranges out of order or unknown, overlaps, gaps. Empty when sound."""
    problems: list[str] = []
    for row in FACTS:
        for first, last in row.ranges:
            for end in (first, last):
                if end is not None and _release(end) not in _known():
                    problems.append(f"{row.name}: range end {end} is not a known release")
            if last is not None and _release(last) < _release(first):
                problems.append(f"{row.name}: range {first}–{last} is reversed")
        if not row.source.strip():
            problems.append(f"{row.name}: row without a source")
    for name in _FACT_NAMES:
        rows = facts_named(name)
        for release in _known_releases():
            hits = [r for r in rows if any(_in_range(release, g) for g in r.ranges)]
            if len(hits) != 1:
                problems.append(f"{name}: {release} is covered by {len(hits)} rows")
    return problems


def _strip_port(host: str) -> str:
    """host[:port] -> host, as Go's net.SplitHostPort leaves it: an address it cannot split
    (no port, an unbracketed IPv6 address, "[::1]" without a port) stays as written."""
    if host.startswith("["):
        end = host.find("]")
        if end > 0 and host[end + 1:end + 2] == ":":
            return host[1:end]
        return host
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def is_localhost(host: str) -> bool:
    """containerd's docker.IsLocalhost (1.6.9+; the same test CRI used since 1.6.0): `localhost`
    or a loopback IP, after stripping a port the Go way."""
    name = _strip_port(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------------------------
# The release a command works for
# --------------------------------------------------------------------------------------------


@record
class Target:
    """The containerd release a configuration is read, written and judged for.

    `explicit` is false when the user gave no `--containerd`: the tool then follows the newest
    known release, and a problem that depends on the version names every release it applies
    to instead of being silent about the others.
    """

    release: Release
    explicit: bool = False

    def has(self, name: str, value: Any = True) -> bool:
        """Does the release read with `name` = `value`?"""
        return fact_for(name, self.release).value == value

    def concerns(self, name: str, value: Any = True) -> bool:
        """Is a problem about `name` = `value` worth reporting: for an explicit release, when it
        has it; by default, when any known release has it."""
        if self.explicit:
            return self.has(name, value)
        return any(row.value == value for row in facts_named(name))

    def who(self, name: str, value: Any = True) -> str:
        """`containerd 1.7.20` for an explicit release, else the releases that have the value."""
        if self.explicit:
            return f"containerd {self.release}"
        return f"containerd {ranges_for(name, value)}"

    def verb(self, word: str) -> str:
        """WORD agreeing with `who`: one release ("ignores"), or several ("ignore")."""
        if not self.explicit:
            return word
        irregular = {"do": "does", "have": "has"}
        return irregular.get(word, word + ("es" if word.endswith(("s", "sh")) else "s"))

    def __str__(self) -> str:
        return f"containerd {self.release}" + ("" if self.explicit else " (the newest known release)")


DEFAULT_TARGET = Target(NEWEST, explicit=False)


def target(text: str | None) -> Target:
    """`--containerd TEXT` as a Target; None: the newest known release, not explicit."""
    if text is None:
        return DEFAULT_TARGET
    return Target(parse_version(text), explicit=True)
