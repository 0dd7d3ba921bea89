"""The YAML layout shortcut writes exactly what PyYAML writes, for any document it is given."""

from __future__ import annotations

import os

import yaml
from hypothesis import given
from hypothesis import strategies as st

from translator.formats import yaml_out

from .conftest import ROOT

_TEXT = st.one_of(
    st.text(alphabet="ab:/.-_ #'\"*&!?@~{}[],|>%`=\\\t\n1é", max_size=12),
    st.sampled_from(["", "true", "yes", "null", "~", "1", "1.5", "0x1F", "2024-01-01", "-", "- a", "a: b",
                     "https://mirror.example.com/v2", "registry.example.com:5000", "*", "---", "...",
                     "a #b", "x" * 130, "word " * 30, "'quoted'", "tag:yaml.org,2002:str"]),
)
_SCALAR = st.one_of(_TEXT, st.booleans(), st.none(), st.integers(-10**6, 10**6))
_DATA = st.recursive(_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(_TEXT, inner, max_size=3)), max_leaves=12)


@given(st.dictionaries(_TEXT, _DATA, min_size=1, max_size=4), st.sampled_from([80, 120, 1000]))
def test_layout_is_pyyamls(document, width):
    expected = yaml.dump(document, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=width)
    assert yaml_out.dump(document, width) == expected


def test_a_model_sized_document_takes_the_shortcut(monkeypatch):
    """The shortcut really is taken for what the tool writes (not a silent fallback every time)."""
    document = {"mirrors": {"docker.io": {"endpoint": ["https://mirror.example.com", "http://10.0.0.1:5000"]},
                            "*": {"endpoint": ["https://any.example.com/path/v2"]}},
                "configs": {"mirror.example.com": {"auth": {"username": "robot", "password": "***"},
                                                   "tls": {"insecure_skip_verify": True}}}}
    monkeypatch.setattr(yaml, "dump", lambda *a, **k: (_ for _ in ()).throw(AssertionError("fell back")))
    text = yaml_out.dump(document, 1000)
    assert yaml.safe_load(text) == document


def test_show_of_the_bundled_example_takes_the_shortcut(monkeypatch):
    """`show` of a configuration with a client certificate pair (a list in a list) is laid out here."""
    from translator import formats, show

    data = show.model_dict(formats.read(os.path.join(ROOT, "examples", "registries.yaml")))
    assert any("client" in e for endpoints in data["hosts"].values() for e in endpoints)
    expected = yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=120)
    monkeypatch.setattr(yaml, "dump", lambda *a, **k: (_ for _ in ()).throw(AssertionError("fell back")))
    assert yaml_out.dump(data, 120) == expected


@given(st.one_of(st.text(max_size=12), st.sampled_from(["", "~", "null", "yes", "On", "0x1f", "1e3", ".inf", "<<", "=",
                                                        "2001-12-14", "https://r", "!", "*"])))
def test_a_plain_scalar_is_a_string_where_pyyaml_resolves_one(text):
    """The first-character shortcut of _resolves_to_str agrees with PyYAML's implicit resolvers."""
    resolver = yaml.resolver.Resolver()
    expected = resolver.resolve(yaml.ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"
    assert yaml_out._resolves_to_str(text) == expected

