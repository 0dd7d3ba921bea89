"""Value classes that cost little to define: `@record` is the part of `@dataclass` the tool uses.

Why not dataclasses: on 3.11 `@dataclass(frozen=True, slots=True)` compiles six methods per class
when the module is imported (about 0.8 ms a class); the twenty classes on every command's path
cost 15 ms, a sixth of the interpreter's own start-up with yaml and typer (issue 16). A record
compiles one method, its `__init__` (keeping instance creation as fast as a dataclass's, which
matters at 100,000 registries); equality, hashing, ordering, `repr`, immutability and pickling are
shared functions over the field names, and the `__init__` is compiled only once a record has
made COMPILE_AFTER instances (before that, arguments are bound in Python).

What it keeps from dataclasses: fields from the class's own annotations, in order, with defaults or
`field(default_factory=...)`; `field(repr=False)` (secrets) and `field(compare=False)`; positional
or keyword construction; `__slots__` always (on 3.9 too); frozen by default (`mutable=True` for
builders), `order=True`; `replace()`. No inheritance between records, no `__post_init__`.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Callable, TypeVar

T = TypeVar("T")

_MISSING: Any = object()


class FrozenRecordError(AttributeError):
    """An assignment to a frozen record's field (dataclasses' FrozenInstanceError)."""


class Field:
    """A field's default and how it takes part in `repr` and comparisons."""

    __slots__ = ("compare", "default", "default_factory", "repr")

    def __init__(self, default: Any, default_factory: Any, repr: bool, compare: bool) -> None:
        self.default, self.default_factory, self.repr, self.compare = default, default_factory, repr, compare


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] = _MISSING, repr: bool = True,
          compare: bool = True) -> Any:
    """A field's options, as `dataclasses.field` takes them."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("a field cannot have both a default and a default_factory")
    return Field(default, default_factory, repr, compare)


def _frozen_setattr(self: object, name: str, value: object) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")


def _frozen_delattr(self: object, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        return self.__record_key__(self) == other.__record_key__(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self.__record_key__(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_repr__)
    return f"{type(self).__qualname__}({shown})"


def _reduce(self: Any) -> tuple[Any, tuple[Any, ...]]:
    return self.__class__, tuple(getattr(self, name) for name in self.__record_fields__)


def _comparison(operator: str) -> Callable[[Any, Any], Any]:
    compare = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
               ">=": lambda a, b: a >= b}[operator]

    def method(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return compare(self.__record_key__(self), other.__record_key__(other))
        return NotImplemented
    return method


_ORDER = {"__lt__": _comparison("<"), "__le__": _comparison("<="), "__gt__": _comparison(">"),
          "__ge__": _comparison(">=")}


def _key_of(names: list[str]) -> Callable[[Any], Any]:
    """A function giving the compared values as one tuple (attrgetter gives a bare value for one name)."""
    if not names:
        return lambda _: ()
    if len(names) == 1:
        only = attrgetter(names[0])
        return lambda obj: (only(obj),)
    return attrgetter(*names)


def _init(name: str, fields: dict[str, Field], frozen: bool, cls: type) -> Callable[..., None]:
    """The one compiled method: `__init__(self, a, b=<default>, c=<factory>)` setting each slot of
    CLS. A frozen record's slots are set through their descriptors (`_set_a(self, a)`): past the
    refusing `__setattr__`, and faster than `object.__setattr__(self, "a", a)`, which looks the
    descriptor up on every call (the model makes 100,000s of endpoints)."""
    scope: dict[str, Any] = {"_MISSING": _MISSING}
    params, body = [], []
    for index, (field_name, spec) in enumerate(fields.items()):
        value = field_name
        if spec.default_factory is not _MISSING:
            scope[f"_factory{index}"] = spec.default_factory
            params.append(f"{field_name}=_MISSING")
            value = f"_factory{index}() if {field_name} is _MISSING else {field_name}"
        elif spec.default is not _MISSING:
            scope[f"_default{index}"] = spec.default
            params.append(f"{field_name}=_default{index}")
        else:
            params.append(field_name)
        if frozen:
            scope[f"_set{index}"] = getattr(cls, field_name).__set__  # the slot's member descriptor
            body.append(f"_set{index}(self, {value})")
        else:
            body.append(f"self.{field_name} = {value}")
    source = f"def __init__(self, {', '.join(params)}):\n    " + "\n    ".join(body or ["pass"]) + "\n"
    exec(compile(source, f"<record {name}>", "exec"), scope)
    return scope["__init__"]  # type: ignore[no-any-return]


#: instances made by binding arguments in Python before a record's `__init__` is compiled
COMPILE_AFTER = 64


def _first_init(name: str, fields: dict[str, Field], frozen: bool) -> Callable[..., None]:
    """An `__init__` that binds its arguments itself for the first COMPILE_AFTER instances, then
    compiles the real one and puts it on the class: a command's run makes a few instances of a
    few records (no compile at all), a fleet makes 100,000 (compiled once, early)."""
    names = tuple(fields)
    known = frozenset(names)
    set_value = object.__setattr__ if frozen else setattr
    made = 0

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal made
        made += 1
        if made > COMPILE_AFTER:
            real = _init(name, fields, frozen, type(self))
            real.__qualname__ = f"{name}.__init__"
            type.__setattr__(type(self), "__init__", real)
            real(self, *args, **kwargs)
            return
        if len(args) > len(names):
            raise TypeError(f"{name}.__init__() takes {len(names) + 1} positional arguments but {len(args) + 1} "
                            "were given")
        values = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in known:
                raise TypeError(f"{name}.__init__() got an unexpected keyword argument {key!r}")
            if key in values:
                raise TypeError(f"{name}.__init__() got multiple values for argument {key!r}")
            values[key] = value
        for field_name in names:
            if field_name in values:
                set_value(self, field_name, values[field_name])
                continue
            spec = fields[field_name]
            if spec.default_factory is not _MISSING:
                set_value(self, field_name, spec.default_factory())
            elif spec.default is not _MISSING:
                set_value(self, field_name, spec.default)
            else:
                raise TypeError(f"{name}.__init__() missing required argument: {field_name!r}")
    return __init__


def record(cls: type[T] | None = None, *, mutable: bool = False, order: bool = False) -> Any:
    """Make CLS a record (see the module's docstring); `@record`, `@record(mutable=True)`, `@record(order=True)`."""
    def make(cls: type[T]) -> type[T]:
        return _build(cls, frozen=not mutable, order=order)
    return make if cls is None else make(cls)


_GENERATED = frozenset({"__init__", "__repr__", "__eq__", "__hash__", "__reduce__", "__setattr__", "__delattr__",
                        "__slots__", *_ORDER})


def _build(cls: type[T], *, frozen: bool, order: bool) -> type[T]:
    namespace = dict(cls.__dict__)
    own = _GENERATED.intersection(namespace)
    if own:
        raise TypeError(f"{cls.__name__} defines {sorted(own)[0]}, which a record generates")
    fields: dict[str, Field] = {}
    seen_default = False
    for name, annotation in namespace.get("__annotations__", {}).items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = namespace.pop(name, _MISSING)
        spec = value if isinstance(value, Field) else Field(value, _MISSING, True, True)
        has_default = spec.default is not _MISSING or spec.default_factory is not _MISSING
        if seen_default and not has_default:
            raise TypeError(f"{cls.__name__}.{name}: a field without a default follows one with a default")
        seen_default = seen_default or has_default
        fields[name] = spec
    names = list(fields)
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    namespace.update({
        "__slots__": tuple(names),
        "__record_fields__": tuple(names),
        "__record_key__": staticmethod(_key_of([n for n in names if fields[n].compare])),
        "__record_repr__": tuple(n for n in names if fields[n].repr),
        "__init__": _first_init(cls.__qualname__, fields, frozen),
        "__repr__": _repr,
        "__eq__": _eq,
        "__hash__": _hash if frozen else None,
        "__reduce__": _reduce,
        "__match_args__": tuple(names),
    })
    if frozen:
        namespace["__setattr__"], namespace["__delattr__"] = _frozen_setattr, _frozen_delattr
    if order:
        namespace.update(_ORDER)
    return type(cls)(cls.__name__, cls.__bases__, namespace)


def replace(obj: T, **changes: Any) -> T:
    """A copy of the record OBJ with CHANGES (`dataclasses.replace`)."""
    values = {name: getattr(obj, name) for name in obj.__record_fields__}  # type: ignore[attr-defined]
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {sorted(unknown)[0]!r}")
    values.update(changes)
    return type(obj)(**values)


def fields(obj_or_cls: Any) -> tuple[str, ...]:
    """The field names of a record or a record class, in order."""
    return obj_or_cls.__record_fields__  # type: ignore[no-any-return]
