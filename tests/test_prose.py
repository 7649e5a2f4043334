"""Every interval the committed prose quotes is in the exports it speaks of.

A quote is `value [low, high]` (as the tables print it: `0.54 [0.34, 0.80]`,
`0.9999 [0.9994, >0.9999]`). It is backed when some interval of the document's exports,
printed at the quote's digits (`analysis.render.number`), reads the same: the summary's
JSON at full precision, each design's predicted half-width and range in the planner's
JSON, and the printed text of the planner's and the study scripts' exports. A quote that
matches nothing is a sentence the exports do not back.
"""

import json
import re
from pathlib import Path

import pytest

from analysis.render import number

ROOT = Path(__file__).resolve().parents[1]
STUDY, PILOT = ROOT / "docs" / "study-1epoch", ROOT / "docs" / "pilot"
TEXTS = ("plan.txt", "verdicts_by_seed.md", "held_to_word.md", "summary.md")
DOCS = {
    "README.md": (STUDY, PILOT),
    "docs/study-1epoch/README.md": (STUDY,),
    "docs/pilot/README.md": (PILOT,),
}
NUM = r"-?(?:<-|-<|<|>)?\d+(?:\.\d+)?"
QUOTE = re.compile(rf"(?<![\w.\-<>])({NUM}) \[({NUM}), ({NUM})\]")


def quotes(text: str) -> list[tuple[str, str, str]]:
    """The `value [low, high]` quotes of a text (markdown line breaks joined)."""
    return QUOTE.findall(re.sub(r"\s*\n\s*", " ", text))


def exported(folder: Path) -> list[tuple[float, float, float]]:
    """Every (value, low, high) the exports in `folder` hold."""
    out = []

    def walk(x):
        if isinstance(x, dict):
            keys = ("value", "low", "high")
            if set(keys) <= x.keys() and None not in [x[k] for k in keys]:
                out.append(tuple(x[k] for k in keys))
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(json.loads((folder / "summary.json").read_text()))
    if (folder / "plan.json").exists():  # each design's predicted half-width and its range
        for design in json.loads((folder / "plan.json").read_text())["designs"]:
            for q, archs in design["half_width"].items():
                for arch, kinds in archs.items():
                    for kind, h in kinds.items():
                        r = design["range"][q][arch][kind]
                        if h is not None and r is not None and None not in r:
                            out.append((h, *r))
    for name in TEXTS:
        if (folder / name).exists():
            out += [tuple(map(_parse, q)) for q in quotes((folder / name).read_text())]
    return out


def _parse(token: str) -> float:
    """A printed number as a float; "<0.001" as 0.0001, ">0.999" as 0.9999 (a value
    between the end and the bound, which prints the same)."""
    for mark, sign in (("-<", -1), ("<-", -1), ("<", 1), (">", 1)):
        if token.startswith(mark):
            bound = float(token[len(mark) :])
            inside = bound / 10 if mark in ("<", "-<") else 1 - (1 - bound) / 10
            return sign * inside
    return float(token)


def _digits(token: str) -> int:
    return len(token.split(".")[1]) if "." in token else 0


def backed(quote: tuple[str, str, str], candidates) -> bool:
    digits = [_digits(t) for t in quote]
    return any(
        all(number(x, d) == t for x, d, t in zip(c, digits, quote, strict=True)) for c in candidates
    )


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_every_quoted_interval_is_in_the_exports(doc):
    text = (ROOT / doc).read_text()
    candidates = [c for folder in DOCS[doc] for c in exported(folder)]
    found = quotes(text)
    assert found, f"{doc} quotes no interval"
    missing = [f"{v} [{lo}, {hi}]" for v, lo, hi in found if not backed((v, lo, hi), candidates)]
    assert not missing, f"{doc}: not in the exports: {missing}"


def test_a_quote_matches_only_at_its_own_digits():
    assert backed(("0.54", "0.34", "0.80"), [(0.538, 0.3443, 0.7985)])
    assert not backed(("0.54", "0.34", "0.81"), [(0.538, 0.3443, 0.7985)])
    assert backed(("0.9999", "0.9994", ">0.9999"), [(0.99991, 0.99943, 0.99998)])
    assert not backed(("0.9999", "0.9994", "1.0000"), [(0.99991, 0.99943, 0.99998)])
    assert quotes("a 0.07 [-0.14,\n  0.26] and -<0.001 [-0.003, 0.001].") == [
        ("0.07", "-0.14", "0.26"),
        ("-<0.001", "-0.003", "0.001"),
    ]
