"""User-facing errors and the guard that turns them into one line and exit status 2.

Errors a user can cause (bad arguments, missing or corrupt data, an unusable results
location) raise `UserError`. Entry points wrap `main` in `exit_on_user_error`, so such an
error ends with one clear line on stderr and exit status 2. Anything else is a bug and
still raises with its traceback.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

T = TypeVar("T")


def first_line(error: BaseException, last: bool = False) -> str:
    """The first (or `last`) non-empty line of an exception's message, else its type name.

    Ray wraps a task's error in a multi-line message whose last line is the cause.
    """
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    return lines[-1] if last else lines[0]


class UserError(Exception):
    """An error the user can fix: bad input, missing data, unusable output location."""


class DataError(UserError):
    """Fashion-MNIST is missing, unreadable or corrupt."""


def exit_on_user_error(main: Callable[..., T]) -> Callable[..., T]:
    """Wrap an entry point: a `UserError` prints `error: ...` and exits with status 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except UserError as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(2)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            sys.exit(130)

    return wrapper


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """`--help` shows every option's default: `(default: X)` appended where the help does
    not already say it; an option without a value (None, False, []) says nothing more, its
    help says what leaving it out means."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        silent = default is None or default is False or default in ([], argparse.SUPPRESS)
        if "default" in text or silent or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (`error: ...`) and exit status 2, and
    `--help` shows the defaults (`DefaultsHelpFormatter`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)
