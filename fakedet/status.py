"""Status lines for the commands' long steps, so that no command is silent for long.

On a terminal a step shows a spinner with its description (rich's `Console.status`),
cleared when the step ends. Elsewhere (a log file, a pipe, CI) a step that is still
running after `LOG_AFTER` seconds prints its description once as a plain line; a quick
step prints nothing, so a quick failure stays one line. Entry points choose the console:
the summary and the planner use stderr, so that their exports on stdout stay clean.

    with step(console, "loading Fashion-MNIST"):
        data = load()
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from rich.console import Console

LOG_AFTER = 3.0
"""Seconds a step runs before a log (not a terminal) hears of it."""


@contextlib.contextmanager
def step(console: Console | None, description: str) -> Iterator[None]:
    """Show `description` while the block runs: a spinner on a terminal, else one line
    once it has run `LOG_AFTER` seconds; nothing without a console (a library call)."""
    if console is None:
        yield
    elif console.is_terminal:
        with console.status(f"{description} …"):
            yield
    else:
        line = threading.Timer(
            LOG_AFTER, console.print, (f"{description} …",), {"highlight": False}
        )
        line.daemon = True
        line.start()
        try:
            yield
        finally:
            line.cancel()


def stderr_console() -> Console:
    """A console on stderr: status lines that do not mix into an export on stdout."""
    return Console(stderr=True)
