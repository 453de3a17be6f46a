# Every target creates .venv on first use, so a fresh machine needs only python3 and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

.PHONY: test demo validate train-joins bench fuzz export-models clean

# The tests, validation and the export need PyTorch (the torch originals of the ONNX graphs, the
# Perth encoder that puts the mark in): asking for 2.13.0 takes the CPU build this machine kind keeps
# on disk (/opt/wheels); an unpinned torch would pull a CUDA build of several GB. The workbench
# itself needs no torch: `make demo` installs the package alone.
TORCH ?= torch==2.13.0

$(RUNTIME): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $(RUNTIME)

$(DEV): $(RUNTIME)
	$(PY) -m pip install --quiet --disable-pip-version-check '$(TORCH)' -e '.[test,export]'
	touch $(DEV)

# Two worker processes (this machine kind has 2 cores); worksteal keeps both busy to the end.
test: $(DEV)
	$(PY) -m pytest -q -n 2 --dist worksteal

demo: $(RUNTIME)
	$(VENV)/bin/workbench demo -o out/demo

# The learned models as ONNX graphs, exported again from their published weights into their vendored
# folders (analyses/*/): each .onnx beside a .json of what it came from, both listed in SHA256SUMS.
export-models: $(DEV)
	$(PY) -m workbench.analyses.export_models

# Measured detection and false-alarm rates: the generated set and the real recordings of CORPUS
# (about 75 minutes, ENF tables included, and about 35 more for the countermeasures on a first run: their outputs are
# kept in out/validation/countermeasure_cache): updates docs/validation.md, the rows each report
# cites (workbench/data/rates.json), the synthesis back-end and the join detector (analyses/backend/).
CORPUS ?= ../shared/corpus
validate: $(DEV)
	@test -d '$(CORPUS)' || { echo "make validate: no corpus at $(CORPUS) (set CORPUS=DIR)"; exit 2; }
	$(VENV)/bin/workbench -q validate -o out/validation --corpus '$(CORPUS)'
	cp out/validation/validation.md docs/validation.md
	for fitted in countermeasure_backend.json join_detector.json; do \
	  if [ -f out/validation/$$fitted ]; then cp out/validation/$$fitted analyses/backend/; fi; done
	cd analyses/backend && sha256sum countermeasure_backend.json join_detector.json > SHA256SUMS
	cp out/validation/rates.json workbench/data/rates.json

# The join detector alone (issue 32's recipe): fitted on the tuning half of CORPUS into
# analyses/backend/join_detector.json, with the list of recordings it was trained on inside.
train-joins: $(DEV)
	@test -d '$(CORPUS)' || { echo "make train-joins: no corpus at $(CORPUS) (set CORPUS=DIR)"; exit 2; }
	$(PY) -m workbench.validation.joins '$(CORPUS)' analyses/backend
	cd analyses/backend && sha256sum countermeasure_backend.json join_detector.json > SHA256SUMS

# Performance harness (peers need the [bench] extra): writes benchmarks/results.md. BENCH_ARGS are
# passed on, e.g. BENCH_ARGS="--batch-clips 100" for a smaller batch than the 1,000 messages.
bench: $(DEV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(PY) -m benchmarks.run $(BENCH_ARGS)

# Hostile containers (mutated WAV chunks, FLAC metadata blocks, Ogg pages, MP3 frames, MP4 atoms)
# opened as evidence for FUZZ_SECONDS; prints inputs tried, time, peak memory and every finding.
FUZZ_SECONDS ?= 600
fuzz: $(DEV)
	$(PY) tests/fuzz.py --seconds $(FUZZ_SECONDS)

clean:
	rm -rf $(VENV) out build *.egg-info
