"""Recompute every trial's metric rows from its saved per-image scores.

    python -m analysis.rescore --results results/
    python -m analysis.rescore --results s3://bucket/run --force

Results computed on expensive runs gain the metrics of a newer metric version without
retraining (`analysis.rescoring` says how). Files already current are skipped unless
`--force`; a file that cannot be read or rescored is reported by name and left as it was.

The command checks that the results root holds results and can be written before it
reads any of them; pandas, pyarrow and the metrics load after the arguments are parsed,
so `--help` answers at once.
"""

from __future__ import annotations

import sys

from fakedet.errors import ArgumentParser, exit_on_user_error


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m analysis.rescore",
        description=__doc__.split("\n\n")[0],
        epilog="Exit status: 0 when every file is current afterwards, 1 when some failed.",
    )
    p.add_argument("--results", required=True, help="results root: a path or a URI")
    p.add_argument(
        "--force",
        action="store_true",
        help="also rescore files already at the current metric version",
    )
    return p


def parse(argv: list[str] | None = None):
    """The arguments, after checking that the results root holds results and can be
    written (before any file is read or written)."""
    args = build_parser().parse_args(argv)
    from fakedet.status import stderr_console, step

    with step(stderr_console(), "loading pyarrow"):
        from analysis.rescoring import metrics_files
        from fakedet.store import ResultsStore

    store = ResultsStore(args.results)
    metrics_files(store)  # no results there: one line
    store.check_writable()
    return args


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from analysis.rescoring import rescore
    from fakedet.schema import METRIC_VERSION

    report = rescore(args.results, args.force)
    print(
        f"metric version {METRIC_VERSION}: rescored {len(report.rescored)}, already current "
        f"{len(report.current)}, failed {len(report.failed)}"
    )
    for path, reason in report.failed:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
