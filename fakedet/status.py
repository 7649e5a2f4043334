"""Status lines for the commands' long steps, so that no command is silent for long.

On a terminal a step shows a spinner with its description (rich's
`Console.status`), cleared when the step ends; elsewhere (a log file, a pipe, CI) the
description is printed once as a plain line when the step starts. Entry points print
these on a console of their own choosing: the summary and the planner use stderr, so
that their exports on stdout stay clean.

    with step(console, "loading Fashion-MNIST"):
        data = load()
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console


@contextlib.contextmanager
def step(console: Console | None, description: str) -> Iterator[None]:
    """Show `description` while the block runs: a spinner on a terminal, else one line;
    nothing without a console (a library call)."""
    if console is None:
        yield
    elif console.is_terminal:
        with console.status(f"{description} …"):
            yield
    else:
        console.print(f"{description} …", style="dim", highlight=False)
        yield


def stderr_console() -> Console:
    """A console on stderr: status lines that do not mix into an export on stdout."""
    return Console(stderr=True)
