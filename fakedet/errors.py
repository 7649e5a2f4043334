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


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (`error: ...`) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)
