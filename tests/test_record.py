"""translator.record: the dataclass behaviour the model relies on (equality and hashing as sets and
dict keys use them, immutability, secrets kept out of repr, defaults not shared between instances)."""

from __future__ import annotations

import copy
import pickle

import pytest

from translator.model import Auth, Config, Endpoint, Host
from translator.record import FrozenRecordError, field, fields, record, replace
from translator.releases import Release


@record
class Point:
    """A frozen record with a default."""

    x: int
    y: int = 0
    label: str = field(default="", compare=False)
    token: str = field(default="", repr=False)


@record(mutable=True)
class Bag:
    items: list[int] = field(default_factory=list)
    name: str = ""


def test_construction_positional_keyword_and_defaults() -> None:
    assert Point(1) == Point(x=1, y=0)
    assert (Point(1, 2).x, Point(1, 2).y) == (1, 2)
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, z=3)  # type: ignore[call-arg]


def test_equality_and_hash_follow_the_compared_fields() -> None:
    assert Point(1, 2, label="a") == Point(1, 2, label="b")
    assert hash(Point(1, 2, label="a")) == hash(Point(1, 2, label="b"))
    assert Point(1, 2) != Point(2, 1)
    assert len({Point(1), Point(1), Point(2)}) == 2
    assert Point(1) != (1, 0)  # a record equals only a record of its class


def test_frozen_records_refuse_assignment_and_new_attributes() -> None:
    point = Point(1)
    with pytest.raises(FrozenRecordError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(FrozenRecordError):
        del point.x  # type: ignore[misc]
    with pytest.raises(AttributeError):
        point.other = 1  # type: ignore[attr-defined]
    assert not hasattr(point, "__dict__")


def test_repr_leaves_out_secret_fields() -> None:
    assert repr(Point(1, token="hunter2")) == "Point(x=1, y=0, label='')"
    assert "s3cret" not in repr(Auth(username="u", password="s3cret", auth="s3cret", identitytoken="s3cret"))
    assert "s3cret" not in repr(Endpoint("https://m.example.com", header=(("Authorization", ("s3cret",)),)))


def test_mutable_records_get_fresh_defaults_and_no_hash() -> None:
    first, second = Bag(), Bag()
    first.items.append(1)
    first.name = "changed"
    assert second.items == [] and second.name == ""
    with pytest.raises(TypeError):
        hash(first)


def test_replace_and_fields() -> None:
    point = Point(1, 2, token="t")
    assert replace(point, y=5) == Point(1, 5, token="t")
    assert replace(point, y=5).token == "t"
    with pytest.raises(TypeError):
        replace(point, z=1)
    assert fields(Point) == ("x", "y", "label", "token")
    config = Config().with_(config_path="/etc/containerd/certs.d")
    assert config.config_path == "/etc/containerd/certs.d" and config.hosts == {}


def test_order() -> None:
    assert Release(1, 7, 0) < Release(2, 0, 0) <= Release(2, 0, 0)
    assert max(Release(1, 6, 20), Release(1, 7, 8)) == Release(1, 7, 8)


def test_copy_and_pickle_keep_the_value() -> None:
    host = Host("docker.io", (Endpoint("https://m.example.com", skip_verify=True),))
    assert copy.deepcopy(host) == host
    assert copy.copy(host) == host
    assert pickle.loads(pickle.dumps(host)) == host


def test_a_field_without_default_after_one_with_is_refused() -> None:
    class Wrong:
        a: int = 0
        b: int

    with pytest.raises(TypeError, match="without a default"):
        record(Wrong)


def test_a_class_defining_a_generated_method_is_refused() -> None:
    class Custom:
        a: int

        def __repr__(self) -> str:
            return "custom"

    with pytest.raises(TypeError, match="__repr__"):
        record(Custom)


def test_binding_before_and_after_the_init_is_compiled_agree() -> None:
    """The first instances bind their arguments in Python, later ones use the compiled __init__:
    the same values, defaults and factories, and a TypeError for the same mistakes."""
    from translator import record as record_module

    @record
    class Fresh:
        a: int
        b: str = "b"
        c: list[int] = field(default_factory=list)

    calls = [((1,), {}), ((1, "x"), {}), ((1, "x", [2]), {}), ((), {"a": 1, "c": [3]}), ((1,), {"b": "k"}),
             ((), {}), ((1, 2, 3, 4), {}), ((1,), {"a": 2}), ((1,), {"z": 0})]

    def outcomes() -> list[object]:
        results: list[object] = []
        for args, kwargs in calls:
            try:
                made = Fresh(*args, **kwargs)
            except TypeError:
                results.append(TypeError)
            else:
                results.append((made.a, made.b, made.c))
        return results

    before = outcomes()
    assert "<record" not in Fresh.__init__.__code__.co_filename  # still binding in Python
    for _ in range(record_module.COMPILE_AFTER + 1):
        Fresh(0)
    assert "<record" in Fresh.__init__.__code__.co_filename  # compiled now
    assert outcomes() == before
    assert before[0] == (1, "b", []) and before[5] is TypeError and before[8] is TypeError
    first, second = Fresh(1), Fresh(1)
    first.c.append(1)
    assert second.c == []  # a fresh default each time
    with pytest.raises(AttributeError):  # the compiled __init__ sets slots; assignment is still refused
        first.a = 2
