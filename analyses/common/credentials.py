"""C2PA content credentials of an evidence file, read and validated offline as hostile input.

:func:`read_credentials` hands the file to the C2PA reference library (c2pa-python, the Rust
``c2pa-rs`` core) inside a limited child process (:mod:`workbench.core.sandbox`): the manifest store is
parsed from bytes someone else wrote. Nothing is fetched: remote manifests and OCSP are switched
off, and trust is judged only against the anchors the user supplies. The result is plain data
(dicts, lists, strings through :func:`workbench.core.untrusted.clean_text`) that the ``c2pa`` analysis
interprets; nothing here judges it.
"""

from __future__ import annotations

import json
import os
from typing import Any

from workbench.core.containers import sniff
from workbench.core.sandbox import run_limited
from workbench.core.untrusted import clean_text

MIME_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "mp4": "audio/mp4", "flac": "audio/flac"}
"""The structure families whose credentials are read here (C2PA 2.x defines audio in these)."""
READ_TIMEOUT_S = 60.0
READ_S_PER_MIB = 1.0
"""Reading may take 60 s plus 1 s per MiB of file (the data hash reads every byte)."""
MAX_LISTED = 100
"""At most this many assertions, actions, ingredients or validation codes are kept per manifest."""


def family_of(path: str | os.PathLike) -> str | None:
    """The file's C2PA-relevant family ("wav", "mp3", "mp4", "flac") from its first bytes, or None."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head[:4] == b"fLaC":
        return "flac"
    family = sniff(head)
    return family if family in MIME_TYPES else None


def read_credentials(path: str | os.PathLike, trust_anchors_pem: str | None) -> dict[str, Any]:
    """The content credentials of the file at ``path``, validated offline.

    Parameters
    ----------
    path : path-like
        The evidence file, opened read-only.
    trust_anchors_pem : str or None
        PEM certificates the user trusts; None: trust is not checked.

    Returns
    -------
    dict
        ``read`` ("present", "absent", "unreadable" or "not applicable"), ``format``, and when
        present ``validation_state`` (the library's: "Invalid", "Valid" or "Trusted"),
        ``active_manifest``, ``manifests`` (each summarised by :func:`summarise_manifest`) and
        ``results`` (the active manifest's validation codes, by ``success``/``informational``/
        ``failure``). ``error`` says why a store could not be read.
    """
    family = family_of(path)
    if family is None:
        return {"read": "not applicable", "format": None}
    size_mib = os.path.getsize(path) / 2**20
    return run_limited(_read, str(path), MIME_TYPES[family], trust_anchors_pem,
                       timeout_s=READ_TIMEOUT_S + READ_S_PER_MIB * size_mib)


def settings(trust_anchors_pem: str | None) -> dict[str, Any]:
    """The c2pa settings of an offline read: no remote manifest, no OCSP; trust only when anchored."""
    found: dict[str, Any] = {"verify": {
        "verify_after_reading": True, "verify_trust": trust_anchors_pem is not None,
        "verify_timestamp_trust": trust_anchors_pem is not None,
        "remote_manifest_fetch": False, "ocsp_fetch": False}}
    if trust_anchors_pem is not None:
        found["trust"] = {"trust_anchors": trust_anchors_pem}
    return found


def _read(path: str, mime: str, trust_anchors_pem: str | None) -> dict[str, Any]:
    """Runs in the limited child: the c2pa library is imported and used only here."""
    import c2pa

    found: dict[str, Any] = {"format": mime, "library": f"c2pa-python {c2pa.__version__} "
                             f"(c2pa-rs {c2pa.sdk_version()})"}
    context = c2pa.Context(settings=c2pa.Settings.from_dict(settings(trust_anchors_pem)))
    with open(path, "rb") as handle:
        try:
            reader = c2pa.Reader.try_create(mime, handle, context=context)
        except c2pa.C2paError as exc:
            return {**found, "read": "unreadable", "error": clean_text(exc)[:300]}
        if reader is None:
            return {**found, "read": "absent"}
        with reader:
            store = json.loads(reader.json())
            results = reader.get_validation_results() or {}
            state = reader.get_validation_state()
            embedded = reader.is_embedded()
    manifests = store.get("manifests") or {}
    active = store.get("active_manifest")
    active_results = results.get("activeManifest") or {}
    return {
        **found, "read": "present", "embedded": bool(embedded),
        "validation_state": clean_text(state) if state else None,
        "active_manifest": clean_text(active) if active else None,
        "manifests": {clean_text(label): summarise_manifest(m) for label, m in
                      list(manifests.items())[:MAX_LISTED]},
        "results": {kind: [_code(c) for c in (active_results.get(kind) or [])[:MAX_LISTED]]
                    for kind in ("success", "informational", "failure")},
        "ingredient_failures": [_code(c) for delta in (results.get("ingredientDeltas") or [])
                                for c in ((delta.get("validationDeltas") or {}).get("failure") or [])
                                ][:MAX_LISTED],
    }


def _code(entry: dict[str, Any]) -> dict[str, str]:
    return {"code": clean_text(entry.get("code", "")), "explanation": clean_text(entry.get("explanation", ""))[:300],
            "url": clean_text(entry.get("url", ""))[:300]}


def summarise_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """What one manifest declares, as clean text: generator, title, signer, time, assertions."""
    signature = manifest.get("signature_info") or {}
    generators = [
        " ".join(clean_text(g.get(k, "")) for k in ("name", "version") if g.get(k))
        for g in (manifest.get("claim_generator_info") or []) if isinstance(g, dict)]
    if manifest.get("claim_generator"):
        generators.insert(0, clean_text(manifest["claim_generator"]))
    actions = []
    assertions = []
    for assertion in (manifest.get("assertions") or [])[:MAX_LISTED]:
        label = clean_text(assertion.get("label", ""))
        data = assertion.get("data") if isinstance(assertion.get("data"), dict) else {}
        assertions.append({"label": label, "data": clean_text(json.dumps(data, sort_keys=True))[:600]})
        if label.startswith("c2pa.actions"):
            for action in (data.get("actions") or [])[:MAX_LISTED]:
                if isinstance(action, dict):
                    actions.append({
                        "action": clean_text(action.get("action", "")),
                        "source_type": clean_text(action.get("digitalSourceType", "")),
                        "software": clean_text((action.get("softwareAgent") or {}).get("name", "")
                                               if isinstance(action.get("softwareAgent"), dict)
                                               else action.get("softwareAgent", "")),
                        "when": clean_text(action.get("when", ""))})
    return {
        "title": clean_text(manifest.get("title", "")),
        "claim_generator": "; ".join(g for g in generators if g),
        "signer": clean_text(signature.get("common_name", "")),
        "issuer": clean_text(signature.get("issuer", "")),
        "algorithm": clean_text(signature.get("alg", "")),
        "signed_at": clean_text(signature.get("time", "")),
        "assertions": assertions,
        "actions": actions,
        "ingredients": [{"title": clean_text(i.get("title", "")),
                         "relationship": clean_text(i.get("relationship", "")),
                         "manifest": clean_text(i.get("active_manifest", ""))}
                        for i in (manifest.get("ingredients") or [])[:MAX_LISTED] if isinstance(i, dict)],
    }
