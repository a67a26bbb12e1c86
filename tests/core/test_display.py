"""The compact HTML of notebook displays: escaped values, bounded tables, no scripts."""

from __future__ import annotations

from mloop.core import display

SCRIPT = "<script>alert(1)</script>"


def test_every_value_and_header_is_escaped() -> None:
    html = display.block(
        SCRIPT, display.facts({SCRIPT: SCRIPT}), display.table([SCRIPT], [[SCRIPT]])
    )
    assert "<script>" not in html
    # the title, the fact's name and value, the header and the cell
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 5


def test_a_badge_is_kept_as_html_in_a_cell_and_its_text_is_escaped() -> None:
    html = display.table(["status"], [[display.badge("<b>ok</b>", "ok")]])
    assert "<span style=" in html and "&lt;b&gt;ok&lt;/b&gt;" in html and "#1a7f37" in html


def test_a_long_table_shows_its_first_rows_and_says_how_many_more() -> None:
    html = display.table(["n"], ([i] for i in range(25)), limit=20)
    assert html.count("<tr>") == 21  # the header and 20 rows
    assert "… 5 more" in html
    assert ">19<" in html and ">20<" not in html


def test_values_are_written_for_people() -> None:
    assert display.cell(0.123456789) == "0.1235"
    assert display.cell(1234567) == "1,234,567"
    assert display.cell(None) == ""
    assert display.cell(True) == "yes"
    assert display.cell(float("nan")) == "nan"
    assert display.when(0) == "1970-01-01 00:00 UTC"
    assert display.percent(1 / 26115) == "<0.01%"  # one bad row is not 0.00%
    assert display.percent(0.0) == "0.00%" and display.percent(0.1045) == "10.45%"


def test_a_whole_page_goes_into_a_sandboxed_frame_with_its_markup_escaped() -> None:
    html = display.iframe(f'<html><body>"quoted" {SCRIPT}</body></html>')
    assert html.startswith('<iframe sandbox=""')
    assert "<script>" not in html and "&lt;script&gt;" in html and "&quot;quoted&quot;" in html
