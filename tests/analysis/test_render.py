"""Printed numbers claim no more than the data: no rounding onto 0, 1 or a target."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from analysis.figure import interval_text, value_text
from analysis.render import TableData, digits_for, fmt, fmt_full, number, rich_table
from analysis.stats import Estimate

inside = st.floats(min_value=1e-9, max_value=1 - 1e-9, allow_nan=False)


def test_a_value_near_an_end_never_prints_as_the_end():
    assert number(0.0001, 2) == "<0.01"
    assert number(0.9999, 2) == ">0.99"
    assert number(-0.9999, 2) == "<-0.99"
    assert number(1.0, 2) == "1.00" and number(0.0, 2) == "0.00"
    assert fmt(Estimate(0.9999, 0.9996, 1.0)) == "0.9999 [0.9996,1.0000]"  # not 1.00 [1.00, 1.00]


def test_a_figure_labels_its_interval_at_the_tables_digits():
    # 0.997 [0.945, 0.9996] once read "1.00 [0.95, 1.00]": an interval at the end
    assert interval_text(Estimate(0.997, 0.945, 0.9996)) == "0.997\n[0.945, >0.999]"
    assert interval_text(Estimate(0.63, 0.59, 0.67)) == "0.63\n[0.59, 0.67]"
    assert interval_text(Estimate(0.5, np.nan, np.nan)) == "0.50\n(no CI)"
    assert value_text(0.9999) == ">0.99"


def test_a_number_never_prints_as_the_mark_it_is_read_against():
    straddles = Estimate(0.06, 0.0485, 0.07)  # its range starts below a 0.05 target
    assert fmt(straddles) == "0.06 [0.05,0.07]"  # without the mark: reads as not straddling
    assert fmt(straddles, marks=(0.05,)) == "0.060 [0.049,0.070]"
    assert fmt_full(straddles, marks=(0.05,)) == "0.0600 [0.0485, 0.0700]"
    assert fmt(0.0485, marks=(0.05,)) == "0.049"
    assert fmt(0.05, marks=(0.05,)) == "0.05"  # the mark itself prints as itself
    table = TableData("t", "t", ["design", "half-width"], rows=[["20x2", straddles]])
    table.marks = (0.05,)
    text = "".join(cell.plain for cell in rich_table(table).columns[1].cells)
    assert "0.049" in text


@given(inside, inside)
def test_distinct_values_and_marks_never_print_alike(x, mark):
    d = digits_for((x,), marks=(mark,))
    if x != mark and d < 6:  # MAX_DIGITS caps the search
        assert number(x, d) != number(mark, d)
