# faultline — the two set-up commands are `make demo` and `make test` (see README.md).
SWIFT ?= swift
SOURCES := Sources Tests Package.swift

.PHONY: build release test demo demo-local lint format bench clean deps

deps:
	@scripts/install-deps.sh

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release --static-swift-stdlib --product faultline

## Builds everything (the end-to-end tests run the built binary) and runs every test.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

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

bench: release
	bench/run.sh

clean:
	rm -rf .build reports/*/ reports/latest
