"""Files vendored inside the package (model weights, their configuration), read by the workbench.

A vendored folder carries a ``SHA256SUMS`` list beside its licence and provenance. Each file is
read once per process, checked against that list and handed over with its hash, so an analysis
receives bundled data the way it receives a file named by ``--param``: as an :class:`InputFile`,
never opening a file itself. A file missing from the list, or whose bytes no longer match it, is a
broken installation and is refused.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from workbench.core.errors import WorkbenchError
from workbench.core.params import InputFile

CHECKSUMS = "SHA256SUMS"


class BundledFileError(WorkbenchError):
    """A vendored file is missing, unlisted or differs from its recorded SHA-256."""


@lru_cache(maxsize=32)  # every vendored file a run reads (graphs, weights, back-ends): more than 8
def bundled_file(package: str, folder: str, relative: str) -> InputFile:
    """Read the vendored file ``folder/relative`` of ``package`` and check it against
    ``folder/SHA256SUMS``.

    Parameters
    ----------
    package : str
        Dotted name of the package that ships the folder, e.g. ``"analyses"``.
    folder : str
        The vendored folder inside it, holding ``SHA256SUMS``, e.g. ``"aasist"``.
    relative : str
        The file's path inside the folder, as ``SHA256SUMS`` lists it.

    Returns
    -------
    InputFile
        ``path`` is ``package:folder/relative``; ``sha256`` the checked hash.

    Raises
    ------
    BundledFileError
        When the file or its list cannot be read, the list does not name it, or the hashes differ.
    """
    root = resources.files(package).joinpath(folder)
    name = f"{package}:{folder}/{relative}"
    try:
        listed = _checksums(root.joinpath(CHECKSUMS).read_text(encoding="utf-8"))
        data = root.joinpath(relative).read_bytes()
    except OSError as exc:
        raise BundledFileError(f"{name}: the vendored file cannot be read ({exc.strerror or exc}); "
                               "reinstall the workbench") from None
    digest = hashlib.sha256(data).hexdigest()
    if relative not in listed:
        raise BundledFileError(f"{name}: not listed in {folder}/{CHECKSUMS}")
    if listed[relative] != digest:
        raise BundledFileError(f"{name}: SHA-256 {digest[:12]}... differs from the vendored "
                               f"{listed[relative][:12]}...; reinstall the workbench")
    return InputFile(name, digest, data)


def _checksums(text: str) -> dict[str, str]:
    """``sha256sum`` output (``<hex>  <path>`` lines) as {path: hex}."""
    pairs = (line.split(None, 1) for line in text.splitlines() if line.strip())
    return {path.strip().lstrip("*"): digest.lower() for digest, path in pairs}


@lru_cache(maxsize=4)
def installed_file(package: str, relative: str, sha256: str) -> InputFile | None:
    """Read a data file shipped inside an installed third-party package (the weights of an optional
    extra) and check it against the SHA-256 the workbench was measured with.

    The package is located, not imported: its own code does not run.

    Parameters
    ----------
    package : str
        Top-level import name of the package, e.g. ``"perth"``.
    relative : str
        The file's path inside the package folder.
    sha256 : str
        The hash the file must have.

    Returns
    -------
    InputFile or None
        ``path`` is ``package:relative``; None when the package is not installed.

    Raises
    ------
    BundledFileError
        When the package is installed but the file cannot be read or its hash differs.
    """
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    name = f"{package}:{relative}"
    try:
        data = (Path(list(spec.submodule_search_locations)[0]) / relative).read_bytes()
    except OSError as exc:
        raise BundledFileError(f"{name}: cannot be read ({exc.strerror or exc}); reinstall {package}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise BundledFileError(f"{name}: SHA-256 {digest[:12]}... is not the {sha256[:12]}... the workbench "
                               f"was measured with; install the version it names")
    return InputFile(name, digest, data)
