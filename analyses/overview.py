"""``overview``: what the recording looks like, and how loud it is."""

from __future__ import annotations

import numpy as np

from workbench.analyses.common.loudness import integrated_loudness
from workbench.analyses.common.units import to_db
from workbench.core.analysis import Analysis, FigureOut, Result, param
from workbench.core.clip import Clip
from workbench.core.plotting import (
    LOG_FREQ_TICKS_HZ, add_colorbar, draw_spectrogram, draw_waveform, format_time_axis, new_figure,
    plain_log_axis,
)


class Overview(Analysis):
    """Waveform, spectrograms, long-term average spectrum and level statistics."""

    name = "overview"
    version = "1.1"
    description = "Waveform, spectrograms, long-term average spectrum, peak/RMS/loudness."
    measures = (
        "The waveform (per-pixel minimum and maximum), the spectrogram of the mono mix on linear "
        "and logarithmic frequency axes, the long-term average spectrum (LTAS), peak and RMS level "
        "in dBFS, crest factor and integrated loudness (ITU-R BS.1770-4, pyloudnorm's K-weighting "
        "filters, computed a block at a time)."
    )
    cannot_show = (
        "These pictures and levels describe the recording; they do not by themselves indicate "
        "editing or synthesis. Loudness is undefined for clips shorter than 0.4 s."
    )
    measurement_keys = ("crest_factor_db", "duration_s", "integrated_loudness_lufs", "peak_dbfs", "rms_dbfs")

    dynamic_range_db: float = param(100.0, "Range of the spectrogram colour scale below its 99.9th "
                                    "percentile.", above=0)

    def run(self, clip: Clip) -> Result:
        peak, energy = 0.0, 0.0
        for block in clip.blocks(block_s=60.0):  # no whole-signal temporaries for long recordings
            peak = max(peak, float(np.max(np.abs(block.samples))))
            energy += float(np.einsum("ij,ij->", block.samples, block.samples, dtype=np.float64))
        rms = float(np.sqrt(energy / (clip.frames * clip.channels)))
        measurements = {
            "duration_s": clip.duration_s,
            "peak_dbfs": to_db(peak),
            "rms_dbfs": to_db(rms),
            "crest_factor_db": to_db(peak) - to_db(rms) if rms > 0 else None,
            "integrated_loudness_lufs": integrated_loudness(
                (b.samples for b in clip.blocks(block_s=60.0)), clip.sample_rate_hz),
        }
        spec = clip.spectrogram
        return Result(
            measurements=measurements,
            figures=[
                self._waveform_and_spectrogram(clip),
                self._log_spectrogram(clip),
                self._ltas(clip),
            ],
            parameters=spec.parameters(),
        )

    def _waveform_and_spectrogram(self, clip: Clip) -> FigureOut:
        fig, (ax_wave, ax_spec) = new_figure(height_in=5.2, nrows=2, height_ratios=[1, 2])
        draw_waveform(ax_wave, clip)
        ax_wave.set_title("Waveform (mono mix)", loc="left")
        image = draw_spectrogram(
            ax_spec, clip.spectrogram, duration_s=clip.duration_s,
            dynamic_range_db=self.dynamic_range_db,
        )
        ax_spec.set_title("Spectrogram, linear frequency", loc="left")
        add_colorbar(fig, image, [ax_wave, ax_spec])
        format_time_axis(ax_spec, clip.duration_s)
        ax_wave.set_xlabel("")
        return FigureOut(
            "waveform", fig,
            "Waveform envelope and linear-frequency spectrogram of the mono mix.",
        )

    def _log_spectrogram(self, clip: Clip) -> FigureOut:
        fig, (ax,) = new_figure(height_in=3.6)
        image = draw_spectrogram(
            ax, clip.spectrogram, duration_s=clip.duration_s, log_freq=True,
            dynamic_range_db=self.dynamic_range_db,
        )
        ax.set_title("Spectrogram, logarithmic frequency (mains hum and low bands visible)", loc="left")
        add_colorbar(fig, image, ax)
        format_time_axis(ax, clip.duration_s)
        return FigureOut(
            "spectrogram-log", fig,
            "Log-frequency spectrogram: low-frequency hum, rumble and pitch harmonics are easier "
            "to see here.",
        )

    def _ltas(self, clip: Clip) -> FigureOut:
        spec = clip.spectrogram
        ltas_db = 10 * np.log10(np.maximum(spec.bin_power / spec.n_frames, 1e-20) / (spec.n_fft / 4) ** 2)
        fig, (ax,) = new_figure(height_in=3.2)
        keep = spec.freqs_hz > 0
        ax.semilogx(spec.freqs_hz[keep], ltas_db[keep], color="#1f4e79", linewidth=1.0)
        low = max(20.0, spec.freqs_hz[1])
        ax.set_xlim(low, spec.freqs_hz[-1])
        plain_log_axis(ax.xaxis, ticks=[f for f in LOG_FREQ_TICKS_HZ if low <= f <= spec.freqs_hz[-1]])
        ax.set_xlabel("frequency (Hz)")
        ax.set_ylabel("mean power (dB re FS sine)")
        ax.set_title("Long-term average spectrum (mono mix)", loc="left")
        ax.grid(True, which="both", alpha=0.3)
        return FigureOut(
            "ltas", fig,
            "Long-term average spectrum: a steep drop shows where the recorded band ends.",
        )
