"""Typed dataclass configs that round-trip through plain JSON-able dicts."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from mgen.core.contracts.errors import ConfigError

T = TypeVar("T", bound="Config")


@dataclasses.dataclass
class Config:
    """Base for every component's settings: `to_dict`/`from_dict` with unknown-key checks."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(
                f"{cls.__name__}: unknown setting(s) {', '.join(unknown)}; "
                f"valid: {', '.join(sorted(names)) or '(none)'}"
            )
        hints = typing.get_type_hints(cls)
        kwargs = {k: _coerce(k, hints.get(k), v) for k, v in data.items()}
        try:
            obj = cls(**kwargs)
        except TypeError as e:
            raise ConfigError(f"{cls.__name__}: {e}") from None
        obj.validate()
        return obj

    def validate(self) -> None:
        """Raise ConfigError for impossible values; subclasses extend."""

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]


MAX_SEED = 2**63 - 1  # what torch's generators take; numpy's take any non-negative integer


def check_seed(seed: int, flag: str = "--seed") -> None:
    """Seeds are integers from 0 to MAX_SEED (training and sampling alike)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"{flag} must be an integer from 0 to {MAX_SEED}, got {seed!r}")


def plain(value: Any) -> Any:
    """A setting as JSON holds it: tuples as lists."""
    if isinstance(value, tuple):
        return list(value)
    return value


def _coerce(name: str, hint: Any, value: Any) -> Any:
    """Check `value` against the field's type hint; JSON lists become tuples, ints floats."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is None or hint is Any:
        return value
    if origin is typing.Union or isinstance(hint, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(name, arg, value)
            except ConfigError:
                continue
        raise _type_error(name, hint, value)
    if hint in _SCALARS:
        ok = isinstance(value, _SCALARS[hint]) and (hint is bool or not isinstance(value, bool))
        if not ok:
            raise _type_error(name, hint, value)
        return float(value) if hint is float else value
    container = origin or hint
    if container in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise _type_error(name, hint, value)
        item = args[0] if args else Any
        items = [_coerce(name, item, v) for v in value]
        return tuple(items) if container is tuple else items
    if container is dict and not isinstance(value, dict):
        raise _type_error(name, hint, value)
    return value


_SCALARS: dict[Any, tuple[type, ...]] = {
    int: (int,),
    float: (int, float),
    bool: (bool,),
    str: (str,),
}


def _type_error(name: str, hint: Any, value: Any) -> ConfigError:
    want = getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
    return ConfigError(f"setting {name} must be {want}, got {value!r}")
