import json
import re

from click.testing import CliRunner

from fixtures import scenes
from workbench.cli import cli

HOSTILE = '<script>alert("x")</script> & \'quoted\' "dq" Ω ünïcödé'


def make_hostile(tmp_path):
    fixture = scenes.clean(seed=21, duration_s=3.0, sample_rate_hz=16000)
    name = 'evil <b>"name"<\\b> & ñ.wav'
    return fixture.write(tmp_path / name, tags={"title": HOSTILE, "comment": "<img src=x onerror=alert(1)>"})


def test_hostile_tags_and_names_are_escaped(tmp_path):
    clip = make_hostile(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["-q", "analyze", str(clip), "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;quoted&#39;" in html
    assert "ünïcödé" in html
    assert "evil &lt;b&gt;&#34;name&#34;&lt;\\b&gt; &amp; ñ.wav" in html
    # The JSON keeps the untrusted text exactly, for the record.
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert HOSTILE in report["evidence"]["tags"].values()


def test_html_is_self_contained_with_a_strict_csp(clean_wav, tmp_path):
    out = tmp_path / "out"
    CliRunner().invoke(cli, ["-q", "analyze", str(clean_wav), "-o", str(out)])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert re.search(r'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'', html)
    assert "<script" not in html.lower()
    assert not re.search(r"(src|href)=\"(?!data:)", html)
    assert not re.search(r"https?://", html)
    images = re.findall(r'<img src="data:image/png;base64,', html)
    report = json.loads((out / "report.json").read_text())
    n_figures = sum(len(a["figures"]) for a in report["analyses"]) + len(report["figures"])
    assert len(images) == n_figures


def test_report_sections_are_present(artifacts_wav, tmp_path):
    out = tmp_path / "out"
    CliRunner().invoke(cli, ["-q", "analyze", str(artifacts_wav), "-o", str(out)])
    html = (out / "report.html").read_text(encoding="utf-8")
    for heading in ("Evidence identity", "Places to listen to", "Limitations",
                    "Reviewer's assessment", "Appendix: tool, parameters and reproduction",
                    "What it measures.", "What it cannot show."):
        assert heading in html, heading
    # Flagged places are listed with m:ss.s times, e.g. the DC step planted at 17 s.
    assert re.search(r"<td class=\"time\">0:1[67]\.\d</td>", html)
    assert "workbench analyze" in html
    # The report takes no side: no verdict words, and it says so.
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert not re.search(r"\b(fake|deepfake|probability)\b", text, re.IGNORECASE)
    assert "the reviewer decides" in html


def test_error_rate_rows_give_the_rate_measured_nearest_the_clips_sample_rate(tmp_path):
    from workbench.reports.html import at_rate
    from workbench.rates import rates_by_kind

    clip = scenes.clean(seed=22, duration_s=6.0, sample_rate_hz=8000).write(tmp_path / "phone.wav")
    out = tmp_path / "out"
    CliRunner().invoke(cli, ["-q", "analyze", str(clip), "-o", str(out), "--only", "discontinuity"])
    html = (out / "report.html").read_text(encoding="utf-8")
    by_rate = rates_by_kind()["discontinuity"]["detected_moderate_by_rate"]
    assert f"{by_rate['8000']:.0%} at 8,000 Hz" in html
    assert at_rate({"8000": 0.5, "44100": 1.0}, 48000) == "100% at 44,100 Hz"
    assert at_rate(None, 8000) == "—"


def test_a_kind_measured_on_real_recordings_only_is_cited_and_the_all_kinds_rate_is_stated(tmp_path):
    from workbench.rates import rates_by_kind

    clip = scenes.clean(seed=23, duration_s=6.0, sample_rate_hz=16000).write(tmp_path / "clip.wav")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["-q", "analyze", str(clip), "-o", str(out), "--only", "speaker"])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    row = rates_by_kind()["speaker_change"]
    section = html[html.index('id="analysis-speaker"'):]
    assert "No generated cases: measured on genuine recordings only." in section
    assert f"{row['real_false_flags_per_hour']:.1f} <span class=\"hint\">(" in section
    every = row["real_all_kinds_per_hour"]
    verdict = "met" if every < row["false_flag_budget_per_hour"] else "not met"
    assert (f"{every:.1f} flagged places per hour, all kinds together" in html
            and f"against the target of fewer than 6: {verdict}." in html)


SR = 16000


def _tone(seconds: float):
    """A 200 Hz tone at 0.3 FS, the base of the pattern tests."""
    import numpy as np

    return 0.3 * np.sin(2 * np.pi * 200 * np.arange(int(SR * seconds)) / SR)


def _levels_report_html(tmp_path, x) -> str:
    """Analyse ``x`` (a float WAV at ``SR``) with levels only; the HTML report's text."""
    import soundfile as sf

    path = tmp_path / "planted.wav"
    sf.write(path, x, SR, subtype="FLOAT")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["-q", "analyze", str(path), "-o", str(out), "--only", "levels"])
    assert result.exit_code == 0, result.output
    return (out / "report.html").read_text(encoding="utf-8")


def test_repeated_unflagged_findings_read_as_one_pattern(tmp_path):
    """Six noise-gated pauses (exact zero reached from near-silence): one line in "Other
    observations", with every time, not six lines."""
    x = _tone(12)
    for start in [1.0, 2.5, 4.0, 5.5, 7.0, 8.5]:
        lo = int(start * SR)
        x[lo - 800 : lo] *= 10 ** (-85 / 20) / 0.3  # the gate's tail: 50 ms at -88 dBFS RMS
        x[lo : lo + int(0.1 * SR)] = 0.0
    html = _levels_report_html(tmp_path, x)
    assert "<strong>6 × digital_silence</strong>" in html
    assert html.count("as a noise gate or an inserted pause leaves") == 1 + 6  # the pattern + the section's table


def test_repeated_flagged_places_are_one_numbered_place_with_every_time(tmp_path):
    """Five dropouts (sound on both sides) and one clipped stretch: two places in the table, the
    dropouts as one pattern listing each time."""
    import numpy as np

    x = _tone(14)
    for start in (1.0, 2.5, 4.0, 5.5, 7.0):
        x[int(start * SR) : int((start + 0.1) * SR)] = 0.0
    x[int(10 * SR) : int(10.5 * SR)] = np.clip(x[int(10 * SR) : int(10.5 * SR)] * 4, -0.5, 0.5)
    html = _levels_report_html(tmp_path, x)
    places = html.split('<section id="timeline">')[1].split("</table>")[0]
    assert places.count("<tr><td>") == 2
    assert "5 places of one kind" in places and "At 0:01.0, 0:02.5, 0:04.0, 0:05.5, 0:07.0." in places


def test_the_synthesis_section_cites_the_measured_rows_and_marks_the_clips_channel(tmp_path):
    """An 8-kHz call: the telephone row is the one marked as this clip's channel."""
    import pytest

    pytest.importorskip("torch")
    clip = scenes.speaker("a", seed=5, duration_s=6.0, sample_rate_hz=8000).write(tmp_path / "call.wav")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["-q", "analyze", str(clip), "-o", str(out), "--only", "synthesis"])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    section = html[html.index('id="analysis-synthesis"'):]
    assert "on generator families and genuine sources it was never fitted on" in section
    marked = re.findall(r'<tr class="applies"><td class="kind">([^<]*)', section)
    assert [m.strip() for m in marked] == ["telephone band, 8 kHz mu-law"]
    assert "against references of the same speaker (z-score)" in section and "Read first:" in section
