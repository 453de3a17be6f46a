"""The report as a reader of a case file meets it: the first page, the reviewer's block, the
size of the page and of the text in its figures, and table cells without raw JSON."""

import os
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner
from matplotlib.text import Text

from workbench.cli import cli
from workbench.core.plotting import PRINT_WIDTH_IN
from workbench.reports.html import cell

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
PRINT_MIN_PT = 7.0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's report folder, with the smallest text of each figure as the PDF prints it
    (``demo.smallest_pt``): an 11-in figure at the text column's width, an excerpt's at 70 %."""
    import workbench.pipeline as pipeline

    smallest, saved = {}, pipeline.save_figure

    def watch(figure, path):
        shown_in = PRINT_WIDTH_IN * (0.7 if path.name.startswith("excerpt-") else 1.0)
        scale = min(1.0, shown_in / figure.get_figwidth())
        sizes = [t.get_fontsize() * scale for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]
        smallest[path.name] = min(sizes)
        saved(figure, path)

    out = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "save_figure", watch)
        patch.setattr(os, "cpu_count", lambda: 1)  # analyses in this process, where watch records
        result = CliRunner().invoke(cli, ["-q", "demo", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return _Demo(out / "report", smallest)


class _Demo(NamedTuple):
    folder: Path
    smallest_pt: dict


def _page(pdf, number):
    return subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def test_the_demo_report_page_stays_under_3_mb(demo):
    assert (demo.folder / "report.html").stat().st_size < 3_000_000


@needs_poppler
def test_the_pdf_opens_with_a_one_page_summary(demo):
    import json

    report = json.loads((demo.folder / "report.json").read_text())
    first = _page(demo.folder / "report.pdf", 1)
    assert "Summary" in first and report["evidence"]["sha256"] in first
    # four planted artifacts, four places: each break sits at an end of another artifact and joins it
    assert "4 places to listen to" in first and "Strongest places" in first and "Limitations." in first
    assert "Evidence identity" not in first  # the summary ends its page


@needs_poppler
def test_the_reviewers_block_is_on_one_page(demo):
    pages = int(next(line.split()[-1] for line in subprocess.run(
        ["pdfinfo", str(demo.folder / "report.pdf")], capture_output=True, text=True, check=True).stdout.splitlines()
        if line.startswith("Pages:")))
    holding = [n for n in range(1, pages + 1) if "Signature" in _page(demo.folder / "report.pdf", n)]
    (page,) = holding
    text = _page(demo.folder / "report.pdf", page)
    assert all(word in text for word in ("Reviewer's assessment", "Examiner", "Assessment", "Date", "Signature"))


def test_figure_text_prints_at_7_pt_or_more_on_a4(demo):
    """Every text of every figure of the demo's full run, scaled as the PDF prints it."""
    assert len(demo.smallest_pt) >= 15 and any(name.startswith("excerpt-") for name in demo.smallest_pt)
    small = {name: round(size, 2) for name, size in demo.smallest_pt.items() if size < PRINT_MIN_PT}
    assert small == {}


def test_cells_show_lists_and_mappings_as_lines_not_json():
    assert str(cell([-0.00026507, -0.0002651], "peak_dbfs_per_channel")) == "0.00, 0.00"
    assert str(cell({"50": {"1": 24.8981, "2": 5.4259}, "60": {"1": 2.44}}, "harmonic_snr_db")) == \
        "50: 1: 24.90; 2: 5.43<br>60: 1: 2.44"
    text = str(cell([{"tag": "comment", "value": "<b>x</b>", "recognised": []}], "software_tags"))
    assert text == "tag: comment; value: &lt;b&gt;x&lt;/b&gt;; recognised: —"
    assert "{" not in str(cell({"date": "2026-03-14"}, "time_tags"))
    assert str(cell(list(range(30)), "w")) == "30 values (in report.json)"
