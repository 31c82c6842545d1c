# FlowMRD — set up, build, run and test on a fresh Debian machine.
# `make run` and `make test` install what is missing (libhdf5-dev, pkg-config) first.

SWIFT ?= swift
SAMPLE ?= samples/demo-10color.fcs
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
DEBIAN_PACKAGES := libhdf5-dev pkg-config libxml2

.PHONY: deps build release run test bench clean

## Install the Debian packages the build needs, only when missing.
deps:
	@missing=""; \
	for p in $(DEBIAN_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else \
	  echo "Dependencies present: $(DEBIAN_PACKAGES)"; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## Build, then show what FlowMRD reads from the bundled sample.
run: release
	.build/release/flowmrd inspect $(SAMPLE)

## The whole test suite.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

## Read throughput on a generated 10-million-event file (release build).
bench: release
	.build/release/flowmrd bench read --events 10000000 --channels 14

clean:
	rm -rf .build
