"""``c2pa``: C2PA content credentials (a signed provenance manifest inside the file), read offline.

The manifest store is read and validated by :func:`workbench.analyses.common.credentials.read_credentials` (the
C2PA reference library, in a limited child process; no network). This module sorts what the
library reports into two questions kept apart: **integrity** (do the file's bytes and the
manifest still match what was signed) and **trust** (does the signer's certificate chain to an
anchor the user supplied). What the manifest declares, such as a generative-AI source type, is
reported as the signer's statement, never as a finding about the recording.
"""

from __future__ import annotations

from typing import Any

from workbench.analyses.common.credentials import read_credentials
from workbench.core.analysis import Analysis, Finding, FindingKind, InputFile, Result, param
from workbench.core.clip import Clip
from workbench.core.errors import EvidenceError, ParameterError

NOTE = "c2pa_note"
TRUST_CODES = ("signingCredential.trusted", "signingCredential.untrusted",
               "timeStamp.trusted", "timeStamp.untrusted")
"""Validation codes about trust in the signer; every other failure code is one of integrity."""
GENERATIVE_SOURCE_TYPES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia",
                           "algorithmicMedia", "compositeSynthetic")
"""IPTC digital source types that state the content was made or composited by an algorithm."""
ANCHORS_MAX_BYTES = 1 << 20


class ContentCredentials(Analysis):
    """C2PA manifest: what it declares, whether it still matches the file, whom it chains to."""

    name = "c2pa"
    version = "1.0"
    description = "C2PA content credentials: declarations, integrity (hashes, signature), trust."
    measures = (
        "Whether the file carries a C2PA manifest store (WAV, MP3, M4A/MP4, FLAC), read offline "
        "with the C2PA reference library (c2pa-rs): the claim generator, the signer and its "
        "issuer, the signing time when a time-stamp holds one, every assertion and action "
        "(including a digital source type such as trainedAlgorithmicMedia, and training-mining "
        "assertions), and the ingredients. Integrity (the hashes of the audio and of the "
        "assertions, and the claim signature) and trust (the signer's certificate chains to an "
        "anchor supplied with --param c2pa.trust_anchors=PEM) are reported apart."
    )
    cannot_show = (
        "Most recordings carry no manifest, and messengers and platforms strip them, so an absent "
        "manifest is neutral. A manifest states what its signer declares; an intact, trusted "
        "manifest shows who signed the file and that it has not changed since, not that what it "
        "declares is true. Without trust anchors nothing is said about who the signer is."
    )

    kinds = (
        FindingKind(NOTE, "1.0 integrity broken, 0.8 a generative source or AI assertion declared, 0.6 a "
                          "store that cannot be read, 0.3 a manifest present", flagged=False),
    )
    measurement_keys = (
        "c2pa_ai_assertions", "c2pa_claim_generator", "c2pa_declared_source_types", "c2pa_embedded",
        "c2pa_error", "c2pa_integrity", "c2pa_manifest", "c2pa_manifests", "c2pa_reader",
        "c2pa_reading", "c2pa_signed_at", "c2pa_signer", "c2pa_signer_issuer", "c2pa_trust",
        "c2pa_validation_state", "tables",
    )

    trust_anchors: InputFile | None = param(
        None, "PEM certificates whose holders you trust as C2PA signers; read and hashed by the "
        "workbench. Without it trust is not checked.", max_bytes=ANCHORS_MAX_BYTES)

    def check(self) -> None:
        if self.trust_anchors is not None:
            from cryptography import x509

            try:
                x509.load_pem_x509_certificates(self.trust_anchors.data)
            except ValueError:
                raise ParameterError(f"{self.trust_anchors.path}: holds no PEM certificate "
                                     "(c2pa.trust_anchors takes PEM certificates)") from None

    def run(self, clip: Clip) -> Result:
        info = clip.info
        if info is None:
            return Result.skipped("the audio was not read from a file, so there is no manifest")
        anchors = self.trust_anchors.data.decode("ascii", "replace") if self.trust_anchors else None
        try:
            found = read_credentials(info.path, anchors)
        except EvidenceError as exc:
            found = {"read": "unreadable", "error": str(exc)}
        if found["read"] == "not applicable":
            return Result.skipped(f"the container '{info.container}' is not one C2PA defines for audio "
                                  "here (WAV, MP3, M4A/MP4, FLAC)")
        measurements: dict[str, Any] = {"c2pa_manifest": found["read"]}
        if found["read"] == "absent":
            measurements["c2pa_reading"] = ("No C2PA manifest in the file. Most recordings have none "
                                            "and platforms strip them: this is neutral.")
            return Result(measurements=measurements)
        if found["read"] == "unreadable":
            measurements["c2pa_error"] = found["error"]
            return Result(measurements=measurements, findings=[_note(
                clip, f"A C2PA manifest store is there but could not be read: {found['error']}.", 0.6)])
        return _read_store(found, clip, trust_checked=anchors is not None)


def _read_store(found: dict[str, Any], clip: Clip, *, trust_checked: bool) -> Result:
    results = found["results"]
    failures = results["failure"] + found["ingredient_failures"]
    broken = [c for c in failures if c["code"] not in TRUST_CODES]
    codes = {c["code"] for kind in results.values() for c in kind}
    if not trust_checked:
        trust = "not checked (no trust anchors supplied)"
    elif "signingCredential.trusted" in codes:
        trust = "trusted: the signer chains to a supplied anchor"
    else:
        trust = "not trusted: the signer does not chain to a supplied anchor"
    active = found["manifests"].get(found["active_manifest"]) or {}
    source_types = sorted({a["source_type"].rsplit("/", 1)[-1] for a in active.get("actions", [])
                           if a["source_type"]})
    generative = [t for t in source_types if t in GENERATIVE_SOURCE_TYPES]
    mining = sorted({a["label"] for m in found["manifests"].values() for a in m["assertions"]
                     if "training-mining" in a["label"] or "ai_generat" in a["label"]})
    measurements = {
        "c2pa_manifest": "present",
        "c2pa_integrity": "broken" if broken else "intact",
        "c2pa_trust": trust,
        "c2pa_validation_state": found["validation_state"],
        "c2pa_claim_generator": active.get("claim_generator") or None,
        "c2pa_signer": active.get("signer") or None,
        "c2pa_signer_issuer": active.get("issuer") or None,
        "c2pa_signed_at": active.get("signed_at") or "not stated (no time-stamp)",
        "c2pa_declared_source_types": source_types,
        "c2pa_ai_assertions": mining,
        "c2pa_manifests": len(found["manifests"]),
        "c2pa_embedded": found["embedded"],
        "c2pa_reader": found["library"],
        "tables": _tables(found, failures),
    }
    signer = f"{active.get('signer') or 'an unnamed signer'} (issued by {active.get('issuer') or 'unnamed'})"
    findings = [_note(clip, f"The file carries a C2PA manifest signed by {signer}; integrity "
                      f"{measurements['c2pa_integrity']}; trust {trust}.", 0.3)]
    if broken:
        listed = ", ".join(sorted({c["code"] for c in broken}))
        findings.append(_note(clip, f"The C2PA manifest does not validate ({listed}): the audio or the "
                              "manifest changed after signing, or the manifest was made badly.", 1.0))
    if generative or mining:
        findings.append(_note(clip, "The C2PA manifest declares "
                              + "; ".join(filter(None, [
                                  f"a digital source type of {', '.join(generative)}" if generative else "",
                                  f"the assertions {', '.join(mining)}" if mining else ""]))
                              + ": this is the signer's statement about how the audio was made.", 0.8))
    return Result(measurements=measurements, findings=findings)


def _tables(found: dict[str, Any], failures: list[dict[str, str]]) -> list[dict[str, Any]]:
    results = found["results"]
    rows = [[kind, c["code"], c["explanation"]] for kind, listed in
            (("failure", failures), ("success", results["success"]),
             ("informational", results["informational"])) for c in listed]
    manifests = found["manifests"]
    tables = [
        {"title": "Validation of the active manifest", "columns": ["Result", "Code", "Explanation"],
         "rows": rows},
        {"title": "Manifests in the store", "columns": ["Label", "Title", "Claim generator", "Signer",
                                                        "Issuer", "Signed at"],
         "rows": [[label + (" (active)" if label == found["active_manifest"] else ""), m["title"],
                   m["claim_generator"], m["signer"], m["issuer"], m["signed_at"] or "not stated"]
                  for label, m in manifests.items()]},
        {"title": "Actions", "columns": ["Manifest", "Action", "Digital source type", "Software", "When"],
         "rows": [[label, a["action"], a["source_type"], a["software"], a["when"]]
                  for label, m in manifests.items() for a in m["actions"]]},
        {"title": "Assertions", "columns": ["Manifest", "Label", "Data"],
         "rows": [[label, a["label"], a["data"]] for label, m in manifests.items() for a in m["assertions"]]},
        {"title": "Ingredients", "columns": ["Manifest", "Title", "Relationship", "Its manifest"],
         "rows": [[label, i["title"], i["relationship"], i["manifest"]]
                  for label, m in manifests.items() for i in m["ingredients"]]},
    ]
    return [t for t in tables if t["rows"]]


def _note(clip: Clip, summary: str, strength: float) -> Finding:
    return Finding.whole_file(NOTE, clip.duration_s, strength, summary)
