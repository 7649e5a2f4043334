"""Options described once: a frozen dataclass field carries its flag, help, type and range.

A command's options are one frozen dataclass (fields may hold nested option dataclasses,
such as a sweep's `Budget`: `group`). Each field, made by `option`, says how its
command-line text becomes a value (`parse`) and which values are valid (`check`); the
command line is built from the fields (`add_options`), and the dataclass checks every
value when it is made (`check_fields` in its `__post_init__`), from the command line or
from library code alike. A bad value is one `UserError` line naming the option.

    @dataclass(frozen=True)
    class MyOptions:
        steps: int = option(100, "training steps", parse=integer, check=at_least(1))

        def __post_init__(self):
            check_fields(self)

    parser = ArgumentParser(prog="...")
    add_options(parser, MyOptions)
    opts = from_namespace(MyOptions, parser.parse_args(argv))

Options left out of the command line are absent from the parsed namespace
(`argparse.SUPPRESS`), so `typed(namespace)` is what the user typed, whatever its value:
the sweep's presets fill only the others.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from collections.abc import Callable
from typing import Any

from fakedet.errors import UserError

Check = Callable[[Any], str | None]
"""A range check: None when the value is valid, else what it must be ('must be > 0')."""


def option(
    default: Any = None,
    help: str = "",
    *,
    factory: Callable[[], Any] | None = None,
    flag: str | None = None,
    parse: Callable[[str], Any] | None = None,
    check: Check | None = None,
    collect: Callable[[list], Any] | None = None,
    show: str | None = None,
    **argparse_kwargs,
) -> Any:
    """A dataclass field that is a command-line option: its default, help, flag, type, range.

    Args:
        default: the field's default (or `factory` for a mutable one).
        help: the option's help, without its default (added from the field's default,
            or from `show`).
        flag: the option's flag (default: `--field-name`); a boolean field whose default
            is True is cleared by its flag (e.g. `--no-detector`).
        parse: text -> value; a `ValueError` or `UserError` is one line naming the option.
        check: the valid values (`positive`, `at_least(1)`, `between(0.5, 1)`, ...).
        collect: for a repeatable option (`action="append"`): the list of parsed values ->
            the field's value.
        show: the default as `--help` shows it, where the field's default reads badly.
        **argparse_kwargs: passed to `add_argument` (choices, metavar, action).
    """
    meta = {
        "help": help,
        "flag": flag,
        "parse": parse,
        "check": check,
        "collect": collect,
        "show": show,
        "argparse": argparse_kwargs,
    }
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata={"option": meta})
    return dataclasses.field(default=default, metadata={"option": meta})


def group(cls) -> Any:
    """A field holding another options dataclass, whose options the command line shows
    flattened (e.g. a sweep's `Budget`)."""
    return dataclasses.field(default_factory=cls, metadata={"nested": cls})


# --- types and ranges ----------------------------------------------------------------------
def finite_float(text: str) -> float:
    """A number, never nan or inf (argparse's one line names the option)."""
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def integer(text: str) -> int:
    return int(text)


def finite(value) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return None if ok else "must be a finite number"


def at_least(low: float) -> Check:
    """`low` or more (None allowed: the option's 'no value')."""

    def check(value) -> str | None:
        if value is None:
            return None
        return finite(value) or (None if value >= low else f"must be >= {low:g}")

    return check


def positive(value) -> str | None:
    """More than 0 (None allowed)."""
    if value is None:
        return None
    return finite(value) or (None if value > 0 else "must be > 0")


def between(low: float, high: float) -> Check:
    """Strictly between `low` and `high`."""

    def check(value) -> str | None:
        bad = f"must be in ({low:g}, {high:g})"
        return finite(value) or (None if low < value < high else bad)

    return check


# --- the dataclass side --------------------------------------------------------------------
def _nested(f: dataclasses.Field) -> bool:
    return bool(f.metadata.get("nested"))


def flag_of(f: dataclasses.Field) -> str:
    meta = f.metadata.get("option") or {}
    return meta.get("flag") or "--" + f.name.replace("_", "-")


def check_fields(obj) -> None:
    """Raise `UserError` naming the first field of `obj` whose value is out of range."""
    for f in dataclasses.fields(obj):
        meta = f.metadata.get("option")
        if meta and meta["check"]:
            value = getattr(obj, f.name)
            if problem := meta["check"](value):
                raise UserError(f"{flag_of(f)} {_text(value)}: {problem}")


def _text(value) -> str:
    if isinstance(value, tuple | list):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def fields_of(cls) -> dict[str, dataclasses.Field]:
    """{name: field} of `cls`'s options, nested option dataclasses flattened."""
    out = {}
    for f in dataclasses.fields(cls):
        if _nested(f):
            out.update(fields_of(f.metadata["nested"]))
        elif "option" in f.metadata:
            out[f.name] = f
    return out


def defaults(cls) -> dict[str, Any]:
    """{name: default} of every option of `cls` (nested ones flattened)."""
    out = {}
    for name, f in fields_of(cls).items():
        if f.default is not dataclasses.MISSING:
            out[name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[name] = f.default_factory()
    return out


def build(cls, values: dict[str, Any]):
    """An instance of `cls` from flat {option name: value} (missing ones: defaults)."""
    kwargs = {}
    for f in dataclasses.fields(cls):
        if _nested(f):
            kwargs[f.name] = build(f.metadata["nested"], values)
        elif f.name in values and "option" in f.metadata:
            kwargs[f.name] = values[f.name]
    return cls(**kwargs)


# --- the command-line side -----------------------------------------------------------------
_TYPE_NAMES = {"integer": "int", "finite_float": "float"}


def _typed_parser(f: dataclasses.Field, parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """`parse` as argparse's `type`: a `ValueError` is argparse's one line naming the
    option ('argument --seed: invalid int value: 'x''); a `UserError` that does not name
    the option is prefixed with it ('--archs resnet: unknown arch ...')."""
    flag = flag_of(f)

    def convert(text: str):
        try:
            return parse(text)
        except UserError as e:
            if str(e).startswith(flag):
                raise
            raise UserError(f"{flag} {text}: {e}") from None

    convert.__name__ = _TYPE_NAMES.get(parse.__name__, f.name)
    return convert


def add_options(parser: argparse.ArgumentParser, cls) -> None:
    """Declare every option of `cls` (nested ones flattened) on `parser`; an option left
    out is absent from the parsed namespace, and `--help` shows each default."""
    values = defaults(cls)
    for name, f in fields_of(cls).items():
        meta = f.metadata["option"]
        kwargs = dict(meta["argparse"])
        flag = flag_of(f)
        default = values.get(name)
        if f.type in (bool, "bool"):
            kwargs["action"] = "store_false" if default else "store_true"
        elif meta["parse"]:
            kwargs["type"] = _typed_parser(f, meta["parse"])
        silent = default is None or isinstance(default, bool) or default in ((), {})
        shown = meta["show"] or ("" if silent else _text(default))
        help_text = meta["help"]
        if shown and "default" not in help_text:
            help_text = f"{help_text} (default: {shown})"
        parser.add_argument(flag, dest=name, help=help_text, default=argparse.SUPPRESS, **kwargs)


def typed(namespace: argparse.Namespace, cls) -> dict[str, Any]:
    """The options of `cls` the user typed, as values ({name: value})."""
    out = {}
    for name, f in fields_of(cls).items():
        if name in vars(namespace):
            value = getattr(namespace, name)
            collect = f.metadata["option"]["collect"]
            out[name] = collect(value) if collect else value
    return out


def from_namespace(cls, namespace: argparse.Namespace, **filled):
    """The options of a parsed command line: typed values over `filled` over defaults."""
    return build(cls, {**defaults(cls), **filled, **typed(namespace, cls)})


def names(text: str) -> tuple[str, ...]:
    """'a, b,a' -> ('a', 'b'): a comma-separated list of names, in order, once each."""
    out = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if not out:
        raise ValueError(f"{text!r}: expected comma-separated names")
    return out


MOST_NUMBERS = 10_000
"""The most numbers a list of numbers may hold (`--seeds 0-9999`): a typo such as 0-10**12
is refused before a range is expanded."""


class TooMany(ValueError):
    """A list of numbers longer than its cap (`integers`)."""


def integers(text: str, most: int = MOST_NUMBERS) -> tuple[int, ...]:
    """'0-4' -> (0, 1, 2, 3, 4); '0,3' -> (0, 3); '2' -> (2,): in order, once each; a
    ValueError for anything else, a `TooMany` for more than `most` numbers (checked before
    a range is expanded)."""
    out: list[int] = []
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        ids = range(int(lo), int(hi) + 1) if sep else [int(lo)]
        if len(out) + len(ids) > most:
            raise TooMany(f"{text!r}: more than {most:,} numbers")
        out += ids
    if not out:
        raise ValueError(f"{text!r}: expected e.g. 0-4 or 0,1,2")
    return tuple(dict.fromkeys(out))


def writable_dir(path: str) -> str | None:
    """Why files cannot be written into the local directory `path` (None when they can),
    found without creating anything: `path`, or the nearest folder above it that exists,
    must be a writable directory."""
    here = os.path.abspath(path)
    while not os.path.exists(here):
        here = os.path.dirname(here)
    if not os.path.isdir(here):
        return f"{here} is a file, not a directory"
    if not os.access(here, os.W_OK | os.X_OK):
        return f"{here} is not writable"
    return None
