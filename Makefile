# Residual Networks course package. The README's two commands: `make demo`, `make test`.
# Every target creates .venv and installs the pinned dependencies first (once: a stamp
# file remembers pyproject.toml's and constraints.txt's contents), so each works on a fresh machine with Python.

PYTHON    ?= python3
VENV      := .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
# Where `make data` takes SIGNS from: a local copy (as in CI) when present, else it downloads.
SIGNS_SOURCE ?= ../shared/data/signs
DATA      := data/train_signs.h5 data/test_signs.h5
OUT       ?= out

.PHONY: install data test demo release expected grade pretrained bench lab lab-instructor clean browser-deps sandbox-deps fonts-deps hub-deps screenshots

install: $(STAMP)

# The exact versions come from constraints.txt; the extras pick the CPU TensorFlow, the grader's,
# JupyterHub's and the tests' packages, and JAX (CPU) for the checks' cross-backend test
# (a GPU machine: EXTRAS=gpu,grader,dev,hub,jax).
EXTRAS    ?= cpu,grader,dev,hub,jax

$(STAMP): pyproject.toml constraints.txt setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[$(EXTRAS)]'
	@touch $@

data: $(DATA)

# Runs on every `make data/test/demo/...`: `data prepare` is idempotent (a no-op when the files
# are complete and current) and rebuilds damaged ones. `&:` makes one run produce both files.
$(DATA) &: FORCE | $(STAMP)
	@if [ -d "$(SIGNS_SOURCE)" ]; then \
		$(BIN)/resnet-signs data prepare --from "$(SIGNS_SOURCE)"; \
	else \
		$(BIN)/resnet-signs data fetch; \
	fi

FORCE:

# Two pytest-xdist processes, each taking whole test modules (their shared fixtures stay in one process;
# the slow modules first, tests/conftest.py):
# much of the suite waits on subprocesses, kernels and a browser, so two keep both cores busy.
# TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
test: $(STAMP) $(DATA) browser-deps sandbox-deps fonts-deps hub-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# The browser tests drive Debian's Chromium (Playwright never downloads a browser of its own).
# Installed from the system package manager when missing; without apt the browser tests skip, saying so.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)
browser-deps:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium \
	  || echo "browser-deps: could not install chromium; the browser tests will skip"; \
	else echo "browser-deps: no apt-get; the browser tests will skip (need /usr/bin/chromium)"; fi

# The Chinese editions' figures (matplotlib) and the browser need a CJK font: Debian's Noto CJK.
fonts-deps:
	@if fc-list :lang=zh-tw 2>/dev/null | grep -q CJK; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q fonts-noto-cjk \
	  || echo "fonts-deps: could not install fonts-noto-cjk; Chinese figure labels would show empty boxes"; \
	else echo "fonts-deps: no apt-get; install a Noto CJK font for the Chinese editions' figures"; fi

# The grader's sandbox prefers bubblewrap (a whitelist filesystem); without it, it falls back to
# util-linux unshare, which the isolation tests also cover.
sandbox-deps:
	@if command -v bwrap >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q bubblewrap \
	  || echo "sandbox-deps: could not install bubblewrap; the grader falls back to unshare"; \
	else echo "sandbox-deps: no apt-get; the grader falls back to unshare (install bubblewrap for the whitelist sandbox)"; fi

# JupyterHub's proxy, configurable-http-proxy, comes from npm (Node.js 20 or later) into the environment
# (.venv/bin); JupyterHub itself is the [hub] extra. Node.js and npm come from apt where missing;
# without them the JupyterHub test skips, saying so.
CHP_VERSION := 5.2.0
hub-deps: $(STAMP)
	@if [ "$$($(BIN)/configurable-http-proxy --version 2>/dev/null)" = "$(CHP_VERSION)" ]; then :; \
	elif command -v npm >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && $(SUDO) apt-get update -q \
	    && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q nodejs npm; }; then \
	  npm install --global --no-fund --no-audit --prefix $(VENV) configurable-http-proxy@$(CHP_VERSION) \
	  || echo "hub-deps: npm could not install configurable-http-proxy; the JupyterHub test will skip"; \
	else echo "hub-deps: no npm; the JupyterHub test will skip (install Node.js 20+ and npm)"; fi

# Regenerates docs/screenshots/*.png (the README's) from the browser tests and the JupyterHub test.
screenshots: $(STAMP) hub-deps
	$(BIN)/python -m pytest -m browser tests/browser -q
	$(BIN)/python -m pytest -m hub tests/hub -q
	$(BIN)/python tests/browser/copy_screenshots.py

demo: $(STAMP) $(DATA)
	$(BIN)/resnet-signs demo --out $(OUT)/demo

# Full release executes the solutions (real training: many minutes). Quick iteration:
# `make release RELEASE_FLAGS=--no-execute`; verify only: `RELEASE_FLAGS=--check`.
release: $(STAMP) $(DATA)
	$(BIN)/resnet-signs release $(RELEASE_FLAGS)

expected: $(STAMP)
	$(BIN)/resnet-signs expected

grade: $(STAMP) $(DATA)
	$(BIN)/resnet-signs grade autograder/samples --out $(OUT)/grades

pretrained: $(STAMP) $(DATA)
	$(BIN)/resnet-signs train --out models/resnet50_signs.keras

bench: $(STAMP) $(DATA)
	$(BIN)/python -m benchmarks

# `make lab LAB_LANG=zh_CN` (or zh_TW) opens a translated edition (not LANG: that is the locale).
LAB_LANG ?= en
lab: $(STAMP) $(DATA)
	$(BIN)/resnet-signs lab --role student --lang $(LAB_LANG)

lab-instructor: $(STAMP) $(DATA)
	$(BIN)/resnet-signs lab --role instructor

clean:
	rm -rf $(OUT) .pytest_cache tests/output
