"""Every default analysis runs with torch (and the packages only the export needs) impossible to import."""

import json
import subprocess
import sys

from fixtures import scenes
from workbench import registry

BLOCKED = ("torch", "torchaudio", "resemblyzer", "perth", "onnx")
RUN_BLOCKED = f"""
import sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)")
        return None

sys.meta_path.insert(0, Blocked())
sys.argv[0] = "workbench"
from workbench.cli import main
try:
    main()
finally:
    assert not set({BLOCKED!r}) & set(sys.modules), "a blocked package was imported"
"""


def test_analyze_runs_every_default_analysis_without_torch(tmp_path):
    clip = scenes.speaker("a", seed=41, duration_s=30.0).write(tmp_path / "speech.wav")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", RUN_BLOCKED, "-q", "analyze", str(clip), "-o", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    status = {a["name"]: (a["status"], a.get("message")) for a in report["analyses"]}
    assert list(status) == [a.name for a in registry.build()]
    for name in ("synthesis", "speaker", "watermark"):
        assert status[name][0] == "ok", (name, status[name])
    assert not [name for name, (s, _) in status.items() if s == "error"], status
    assert not [m for _, m in status.values() if m and "install" in m], status
