# faultline — the two set-up commands are `make demo` and `make test` (see README.md).
SWIFT ?= swift
SOURCES := Sources Tests bench/FaultlineBench Package.swift

.PHONY: build release test demo demo-local lint format bench bench-smoke fuzz clean deps

deps:
	@scripts/install-deps.sh

build:
	$(SWIFT) build

release:
	@scripts/release-build.sh

## Builds everything (the end-to-end tests run the built binary) and runs every test.
test: deps
	python3 scripts/check-kinds.py
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip GuestTests
	@# The QEMU guest's measurements alone: an emulated guest's timers go late when the two
	@# cores are shared with every other suite.
	$(SWIFT) test --skip-build --filter GuestTests

## The failover game-day on real Redis Sentinel in a lab; prints where the report is.
demo:
	@scripts/demo.sh

## A self-healing game-day without a lab: a web server under supervisord is killed.
demo-local:
	@scripts/demo-local.sh

lint:
	$(SWIFT) format lint --strict --recursive $(SOURCES)

format:
	$(SWIFT) format --in-place --recursive $(SOURCES)

## Side by side with Chaos Toolkit, curl and the physical limits (see BENCHMARKS.md).
bench: release
	bench/run.sh
	bench/probes.sh
	bench/checkers.sh
	bench/report-html.sh
	@if [ "$$(id -u)" -eq 0 ]; then bench/activation.sh; else echo "bench: activation figures need root (namespaces)"; fi
	bench/proxy.sh
	bench/queue-engine.sh
	@if [ "$$(id -u)" -eq 0 ]; then bench/ssh-fanout.sh; else echo "bench: the SSH fan-out needs root (lab hosts)"; fi
	python3 bench/collect.py

# About a minute: every figure once, fewer repetitions; CI runs it to keep the harness working.
bench-smoke: release
	BENCH_RUNS=3 bench/run.sh
	BENCH_SMOKE=1 bench/probes.sh
	BENCH_SMOKE=1 bench/checkers.sh
	BENCH_SMOKE=1 bench/proxy.sh
	BENCH_SMOKE=1 bench/queue-engine.sh
	python3 bench/collect.py

## libFuzzer on the experiment, lab and inventory readers and the proxy API for FUZZ_TIME seconds (CI runs 60).
FUZZ_TIME ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ_TIME)

clean:
	rm -rf .build .build-fuzz reports/*/ reports/latest
