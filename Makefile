# SPDX-License-Identifier: MIT
# The two commands a newcomer types: `make demo` and `make test`. Everything else is a helper.
# Both install missing Debian packages first (scripts/install-deps.sh, a no-op when all is there).

JOBS     ?= $(shell nproc)
RELEASE  := build/release
ASAN     := build/asan
FUZZ     := build/fuzz
# Seconds each libFuzzer target runs in `make test` (tests/fuzz/run.sh).
FUZZ_SECONDS ?= 30
DARTLAB  := $(RELEASE)/sim/dartlab
QEMU     := build/qemu/qemu-system-x86_64
GUEST    := build/guest
SAMPLES  := $(sort $(wildcard traces/samples/*.trace))
FTRACES  := $(sort $(wildcard traces/samples/ftrace-*.txt))

.PHONY: all deps build build-asan build-fuzz qemu guest bench-guest test test-release test-asan test-fuzz demo bench install clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

build-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

build-fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS) --target dartlab_fuzzers

# qemu-system-x86_64 (Debian's QEMU 7.2 source) with the apple-dma-pci device linked in
# (scripts/build-qemu.sh: cached, a no-op unless the device files or our libraries changed), and
# the Linux guest it boots (make guest); then the release tree learns where both are, which
# registers the QEMU tests (tests/qemu) and the guest tests (tests/guest) with ctest.
qemu: build guest
	@JOBS=$(JOBS) ./scripts/build-qemu.sh $(RELEASE)
	@cmake --preset release -DDARTLAB_QEMU=$(CURDIR)/$(QEMU) -DDARTLAB_GUEST=$(CURDIR)/$(GUEST) >/dev/null
	@cmake --build --preset release -j $(JOBS) --target test_qemu test_guest

# Debian bookworm's kernel, the apple_dma module built against its headers, the guest tools and an
# initramfs (scripts/build-guest.sh: downloads with apt into build/guest-dl/ once, cached; see
# docs/guest-image.md). Boot it by hand: scripts/run-guest.sh --shell.
guest: deps
	@JOBS=$(JOBS) ./scripts/build-guest.sh

# Unit, property and command-line tests under the optimised build and again under ASan+UBSan
# (the QEMU device tests with the optimised build only: QEMU itself is no sanitizer build),
# then every fuzz target for FUZZ_SECONDS.
test: test-release test-asan test-fuzz

test-release: build qemu
	@echo "== tests (release)"
	@ctest --preset release -j $(JOBS)

test-asan: build-asan
	@echo "== tests (asan+ubsan)"
	@ctest --preset asan -j $(JOBS)

# libFuzzer (clang) over the trace readers and the apple-dma device core, FUZZ_SECONDS per target from the seeds in tests/fuzz/corpus.
test-fuzz: build-fuzz
	@echo "== fuzz targets ($(FUZZ_SECONDS) s each)"
	@./tests/fuzz/run.sh $(FUZZ) $(FUZZ_SECONDS)

demo: build
	@echo "== dartlab replay on the bundled samples"
	$(DARTLAB) replay $(SAMPLES) --policy direct --policy window:64K --policy window:256K --policy window:1M
	@echo
	@echo "== the same game under a stingier host: 2048 mappings, 64 MiB"
	$(DARTLAB) replay traces/samples/game.trace --policy direct --policy window:256K --policy window:1M \
	  --dart aperture=64M,slots=2048
	@echo
	@echo "== what the game asks for, before any policy (dartlab stats)"
	$(DARTLAB) stats traces/samples/game.trace
	@echo "== Linux ftrace recordings (one per importer form), imported as they are read"
	$(DARTLAB) replay $(FTRACES) --policy direct --policy window:256K
	@echo
	@echo "== the QEMU device's trace events (apple_dma_*), read from its log"
	$(DARTLAB) replay traces/samples/qemu-apple-dma.log --policy direct --policy window:256K
	@echo
	@echo "== the real system records itself: its guest module's debugfs CSV (whole, and as a ring that wrapped),"
	@echo "   and its QEMU device's log at the guest level (the module's requests) and the host level (the DART's)"
	$(DARTLAB) replay traces/samples/apple-dma-debugfs.csv traces/samples/apple-dma-debugfs-wrapped.csv \
	  --policy direct --policy window:256K
	$(DARTLAB) stats traces/samples/apple-dma-debugfs-wrapped.csv | grep -E "^(peak live|recording's own)"
	$(DARTLAB) replay traces/samples/qemu-apple-dma-real.log --policy direct
	$(DARTLAB) replay traces/samples/qemu-apple-dma-real.log --policy direct --level host
	@echo
	@echo "== two recordings a real Linux 6.12 kernel made: NVMe I/O under an IOMMU, dma:* and iommu:* events"
	$(DARTLAB) replay traces/samples/real/real-dma.trace traces/samples/real/real-iommu.trace --policy direct --policy window:256K
	@echo
	@echo "== the policy lab: every policy family x 3 hosts over the samples (dartlab sweep; the Pareto frontier shown), and its report"
	@mkdir -p build/demo
	$(DARTLAB) sweep traces/samples/policy-lab.toml --json build/demo/policy-lab.json --csv build/demo/policy-lab.csv \
	  | grep -E '^[a-z]|^  point| \* ' | cut -c1-160
	$(DARTLAB) report build/demo/policy-lab.json -o build/demo/policy-lab.html --title "dartlab policy lab"
	@echo "   open build/demo/policy-lab.html in a browser: plots against the 64k-slot and 1.5 GiB lines, Pareto"
	@echo
	@echo "== fragmentation stress: churn under window:1M on a 92 MiB host until a map is refused, shrunk"
	$(DARTLAB) stress --policy window:1M --dart aperture=92M --seed 2 --shrink -o build/demo/minimal.trace || [ $$? -eq 4 ]
	@echo
	@echo "== the cost in time: the game through a Thunderbolt 3 link and the DART (SystemC)"
	$(DARTLAB) replay traces/samples/game.trace --timed --link tb3 --json - | grep -E '"(simulated_time_ns|mapping_fraction|iotlb_hit_rate|p50|p99)"'
	$(DARTLAB) bandwidth --link tb3 --dir h2d --size 256M
	$(DARTLAB) bandwidth --link pcie-gen4-x16 --dir h2d --size 256M

# BASELINE=REV also builds that revision's benchmarks (bench/baseline.sh) and measures both
# builds alternately in the closing table, for before/after figures from one run.
bench: build
	@base=; if [ -n "$(BASELINE)" ]; then base=$$(./bench/baseline.sh $(BASELINE)) || exit 1; fi; \
	  DARTLAB_BENCH_BASELINE=$$base ./bench/run.sh $(RELEASE)

# A real guest's NVMe through apple_dma and the DART against the same guest without them
# (bench/guest_io.sh: a few minutes of TCG; numbers only).
bench-guest: qemu
	@./bench/guest_io.sh

# dartlab, a man page per subcommand and bash completion under PREFIX (default /usr/local);
# DESTDIR=/tmp/stage stages the files there instead, as packagers do.
PREFIX ?= /usr/local
install: build
	@cmake --install $(RELEASE) --prefix $(PREFIX)

clean:
	rm -rf build
