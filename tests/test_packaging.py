"""What `pip install .` installs: one import package, with every file the product reads at run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEFT_OUT = shutil.ignore_patterns(".git", ".venv", "out", "build", "dist", "*.egg-info", "__pycache__",
                                  ".pytest_cache", ".hypothesis")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel built from a copy of the working tree (so no earlier build/ leaks into it)."""
    tmp = tmp_path_factory.mktemp("wheel")
    shutil.copytree(ROOT, tmp / "src", ignore=LEFT_OUT)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-w", str(tmp / "dist"), str(tmp / "src")],
                   check=True, capture_output=True)
    return zipfile.ZipFile(next((tmp / "dist").glob("*.whl")))


def test_one_top_level_import_package_and_no_test_generators(wheel):
    names = wheel.namelist()
    assert {n.split("/")[0] for n in names if ".dist-info/" not in n} == {"workbench"}
    assert "workbench/analyses/levels.py" in names and "workbench/reports/html.py" in names
    assert not [n for n in names if "fixtures" in n.split("/")]


def test_every_file_the_product_reads_is_in_it(wheel):
    names = set(wheel.namelist())
    needed = {"workbench/data/rates.json", "workbench/core/report.schema.json",
              "workbench/reports/templates/report.html.j2"}
    for sums in (ROOT / "analyses").glob("*/SHA256SUMS"):
        folder = sums.parent.relative_to(ROOT / "analyses")
        needed |= {f"workbench/analyses/{folder}/{line.split()[-1]}" for line in sums.read_text().splitlines()
                   if line.strip()}
    assert needed - names == set()
