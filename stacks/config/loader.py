"""Builds frozen, typed configuration objects from plain YAML data, and rejects bad input.

The loader knows the configuration's shape from the dataclasses' type hints, so a section
declares its keys once: as typed fields with defaults (the cheap sandbox values) and, where a
value has a range or a set of choices, as `setting(...)` metadata; a subclass that changes only
defaults keeps its base's bounds. A section that needs a check across fields defines
`check(self, path)` and raises `ConfigError` through `fail`.

Every error is one line that names the full key and shows the bad value, for example
`eks.kubernetes_version must be one of '1.34', '1.35', '1.36', got '1.2'`.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints


class ConfigError(ValueError):
    """A configuration value is unknown, of the wrong type, or out of range."""


T = TypeVar("T")


def setting(
    default: Any = dataclasses.MISSING,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[Any, ...] | None = None,
    pattern: str | None = None,
    example: str | None = None,
    max_items: int | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
) -> Any:
    """A dataclass field with bounds that the loader enforces.

    `pattern` is a full-match regular expression applied to a string, or to every item of a
    tuple of strings; `example` is a value that matches it, shown in the error instead of the
    expression (`region must look like 'ap-northeast-1', got 'tokyo'`). A string default is the
    example unless another is given (and must then match the pattern too). `max_items` bounds a
    tuple's length, `min_length` and `max_length` a string's (or every item's of a tuple of strings).
    """
    if pattern is not None and example is None and isinstance(default, str):
        example = default
    if pattern is not None and (example is None or not re.fullmatch(pattern, example)):
        raise TypeError(f"a pattern setting needs an example that matches it, got {example!r}")
    metadata = {
        "minimum": minimum,
        "maximum": maximum,
        "choices": choices,
        "pattern": pattern,
        "example": example,
        "max_items": max_items,
        "min_length": min_length,
        "max_length": max_length,
    }
    if isinstance(default, (list, dict)):
        raise TypeError("use a tuple, not a mutable default")
    return dataclasses.field(default=default, metadata=metadata)


def fail(path: str, message: str, value: Any) -> typing.NoReturn:
    """Raise the one-line error for the key at `path`."""
    raise ConfigError(f"{path} {message}, got {_show(value)}")


def build(cls: type[T], data: Any, path: str = "") -> T:
    """Turn `data` (parsed YAML) into an instance of the frozen dataclass `cls`."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        fail(path or "the configuration", "must be a mapping of keys to values", data)
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{_join(path, str(key))} is not a known setting (known here: {known})")
    values: dict[str, Any] = {}
    for name, field in fields.items():
        key_path = _join(path, name)
        if name in data:
            values[name] = _convert(hints[name], data[name], key_path)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            if dataclasses.is_dataclass(hints[name]):
                values[name] = build(hints[name], {}, key_path)
            else:
                raise ConfigError(f"{key_path} is required")
        else:
            continue
        _check_bounds(_bounds(cls, name), values[name], key_path)
    try:
        instance = cls(**values)
    except ConfigError:
        raise
    except ValueError as error:
        # A construct's props type (reused as a section) checks itself when built, so that a
        # copied construct keeps its checks; its messages open with the field's name.
        raise ConfigError(_join(path, str(error))) from None
    check = getattr(instance, "check", None)
    if callable(check):
        check(path)
    return instance


def _convert(hint: Any, value: Any, path: str) -> Any:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _convert(options[0], value, path)
    if origin is Literal:
        allowed = get_args(hint)
        if value not in allowed or isinstance(value, bool) != any(isinstance(a, bool) for a in allowed):
            fail(path, f"must be one of {', '.join(_show(a) for a in allowed)}", value)
        return value
    if origin is tuple:
        item_hint = get_args(hint)[0]
        if not isinstance(value, list):
            fail(path, "must be a list", value)
        return tuple(_convert(item_hint, item, f"{path}[{i}]") for i, item in enumerate(value))
    if origin in (dict, Mapping, typing.Mapping):
        key_hint, value_hint = get_args(hint)
        if not isinstance(value, Mapping):
            fail(path, "must be a mapping", value)
        return types.MappingProxyType(
            {
                _convert(key_hint, k, f"{path} key"): _convert(value_hint, v, f"{path}.{k}")
                for k, v in value.items()
            }
        )
    if dataclasses.is_dataclass(hint):
        return build(hint, value, path)  # type: ignore[arg-type]
    if hint is bool:
        if not isinstance(value, bool):
            fail(path, "must be true or false", value)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            fail(path, "must be a whole number", value)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail(path, "must be a number", value)
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            fail(path, "must be a string (quote it in YAML)", value)
        return value
    raise TypeError(f"{path}: the loader does not support the type {hint!r}")


def _bounds(cls: type, name: str) -> Mapping[str, Any]:
    """The bounds of field `name` of `cls`, from the nearest class in its MRO that declares them.

    A subsection that only gives a setting another default (`min_size: int = 0` in a subclass)
    keeps the bounds its base declared with `setting(...)`.
    """
    for klass in cls.__mro__:
        field = getattr(klass, "__dataclass_fields__", {}).get(name)
        if field is not None and field.metadata:
            return field.metadata
    return {}


def _check_bounds(metadata: Mapping[str, Any], value: Any, path: str) -> None:
    if value is None or not metadata:
        return
    minimum, maximum = metadata.get("minimum"), metadata.get("maximum")
    if minimum is not None and value < minimum:
        fail(path, f"must be at least {minimum}", value)
    if maximum is not None and value > maximum:
        fail(path, f"must be at most {maximum}", value)
    choices = metadata.get("choices")
    if choices is not None:
        items = value if isinstance(value, tuple) else (value,)
        for i, item in enumerate(items):
            if item not in choices:
                where = f"{path}[{i}]" if isinstance(value, tuple) else path
                fail(where, f"must be one of {', '.join(_show(c) for c in choices)}", item)
    max_items = metadata.get("max_items")
    if max_items is not None and len(value) > max_items:
        raise ConfigError(f"{path} may list at most {max_items} items, got {len(value)}")
    min_length, max_length = metadata.get("min_length"), metadata.get("max_length")
    if min_length is not None or max_length is not None:
        items = value if isinstance(value, tuple) else (value,)
        for i, item in enumerate(items):
            where = f"{path}[{i}]" if isinstance(value, tuple) else path
            if min_length is not None and len(item) < min_length:
                fail(where, f"must be at least {min_length} characters", item)
            if max_length is not None and len(item) > max_length:
                fail(where, f"must be at most {max_length} characters", item)
    pattern = metadata.get("pattern")
    if pattern is not None:
        items = value if isinstance(value, tuple) else (value,)
        for i, item in enumerate(items):
            if not re.fullmatch(pattern, item):
                where = f"{path}[{i}]" if isinstance(value, tuple) else path
                fail(where, f"must look like {metadata['example']!r}", item)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    return repr(value)
