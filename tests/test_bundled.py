import hashlib
import sys

import pytest

from workbench.core.bundled import BundledFileError, bundled_file


@pytest.fixture
def vendored(tmp_path, monkeypatch):
    """A package ``shipped`` with a vendored folder ``model`` holding one listed file."""
    folder = tmp_path / "shipped" / "model"
    folder.mkdir(parents=True)
    (tmp_path / "shipped" / "__init__.py").write_text("")
    (folder / "weights.bin").write_bytes(b"\x00\x01weights")
    (folder / "extra.bin").write_bytes(b"not listed")
    digest = hashlib.sha256(b"\x00\x01weights").hexdigest()
    (folder / "SHA256SUMS").write_text(f"{digest}  weights.bin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "shipped", raising=False)  # each test's own copy
    bundled_file.cache_clear()
    yield folder
    bundled_file.cache_clear()


def test_a_listed_file_is_handed_over_with_its_hash(vendored):
    got = bundled_file("shipped", "model", "weights.bin")
    assert got.data == b"\x00\x01weights"
    assert got.sha256 == hashlib.sha256(got.data).hexdigest()
    assert got.path == "shipped:model/weights.bin"


def test_a_changed_byte_is_refused(vendored):
    (vendored / "weights.bin").write_bytes(b"\x00\x02weights")
    with pytest.raises(BundledFileError, match="differs from the vendored"):
        bundled_file("shipped", "model", "weights.bin")


def test_an_unlisted_or_missing_file_is_refused(vendored):
    with pytest.raises(BundledFileError, match="not listed"):
        bundled_file("shipped", "model", "extra.bin")
    with pytest.raises(BundledFileError, match="cannot be read"):
        bundled_file("shipped", "model", "absent.bin")
