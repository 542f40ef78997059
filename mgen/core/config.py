"""Typed dataclass configs that round-trip through plain JSON-able dicts."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, TypeVar

from mgen.core.errors import ConfigError

T = TypeVar("T", bound="Config")


@dataclasses.dataclass
class Config:
    """Base for every component's settings: `to_dict`/`from_dict` with unknown-key checks."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

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
        kwargs = {k: _coerce(hints.get(k), v) for k, v in data.items()}
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


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def _coerce(hint: Any, value: Any) -> Any:
    # JSON has no tuples: turn lists back into tuples where the field says tuple.
    origin = typing.get_origin(hint)
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    if origin is typing.Union or str(origin) == "types.UnionType":
        for arg in typing.get_args(hint):
            if typing.get_origin(arg) is tuple and isinstance(value, list):
                return tuple(value)
    return value
