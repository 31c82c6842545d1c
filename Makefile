# FlowMRD — set up, build, run and test on a fresh Debian machine.
# `make run` and `make test` install what is missing (libhdf5-dev, pkg-config) first.

SWIFT ?= swift
SAMPLE ?= samples/positive.fcs
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
DEBIAN_PACKAGES := libhdf5-dev pkg-config libxml2

.PHONY: deps pydeps browser slurm build release static install deb deb-test run samples reference test fuzz fuzz-build bench clean

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

## A release build with the Swift runtime and Foundation linked in (--static-swift-stdlib), so the
## binary runs on a machine without a Swift toolchain; only Debian libraries (libhdf5…) are needed.
STATIC_BUILD := .build-static
PREFIX ?= /usr/local
static: deps
	$(SWIFT) build -c release --static-swift-stdlib --build-path $(STATIC_BUILD) --product flowmrd

## Install the binary as PREFIX/bin/flowmrd and the templates (with the bundled reference) under
## PREFIX/share/flowmrd/gating-templates, where the binary finds them from any working folder.
install: static
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/flowmrd/gating-templates
	install -m 755 $(STATIC_BUILD)/release/flowmrd $(DESTDIR)$(PREFIX)/bin/flowmrd
	install -m 644 gating-templates/* $(DESTDIR)$(PREFIX)/share/flowmrd/gating-templates/

## flowmrd_VERSION_amd64.deb in .build-deb/: the install above under /usr, depending on the
## Debian packages that provide the binary's shared libraries (found with ldd and dpkg -S).
DEB_DIR := .build-deb
deb: static
	@set -e; version=$$($(STATIC_BUILD)/release/flowmrd --version | awk '{print $$2}'); \
	root=$(DEB_DIR)/flowmrd_$${version}_amd64; rm -rf $$root; \
	$(MAKE) --no-print-directory install DESTDIR=$$root PREFIX=/usr STATIC_BUILD=$(STATIC_BUILD) >/dev/null; \
	depends=$$(for lib in $$(ldd $(STATIC_BUILD)/release/flowmrd | awk '/=>/ {print $$3}'); do \
	    real=$$(readlink -f $$lib); \
	    for candidate in $$lib $$real $${lib#/usr} $${real#/usr} /usr$$lib /usr$$real; do \
	      owner=$$(dpkg -S $$candidate 2>/dev/null | head -1 | cut -d: -f1) && [ -n "$$owner" ] && { echo $$owner; break; }; \
	    done; \
	  done | sort -u | paste -sd, - | sed 's/,/, /g'); \
	mkdir -p $$root/DEBIAN; \
	printf 'Package: flowmrd\nVersion: %s\nArchitecture: amd64\nMaintainer: FlowMRD developers\nDepends: %s\nSection: science\nPriority: optional\nDescription: Minimal residual disease in myeloma from flow-cytometry files\n FlowMRD reads FCS files, gates them with a template and reports MRD.\n' "$$version" "$$depends" > $$root/DEBIAN/control; \
	dpkg-deb --build --root-owner-group $$root $(DEB_DIR)/flowmrd_$${version}_amd64.deb >/dev/null; \
	echo "built $(DEB_DIR)/flowmrd_$${version}_amd64.deb (Depends: $$depends)"

## The package, unpacked into a scratch root (dpkg -x, no installation), runs from outside the
## repository: --version, and the bundled positive sample analysed with the installed template;
## ldd must show no Swift library.
deb-test: deb
	@set -e; deb=$$(ls $(DEB_DIR)/flowmrd_*_amd64.deb | head -1); scratch=$$(mktemp -d); \
	dpkg -x $$deb $$scratch; cp samples/positive.fcs $$scratch/; \
	if ldd $$scratch/usr/bin/flowmrd | grep -i swift; then echo "deb-test: the binary needs a Swift library"; exit 1; fi; \
	(cd / && env -u FLOWMRD_TEMPLATES $$scratch/usr/bin/flowmrd --version); \
	(cd / && env -u FLOWMRD_TEMPLATES $$scratch/usr/bin/flowmrd analyze $$scratch/positive.fcs --quiet --no-checksum > $$scratch/out.txt) || status=$$?; \
	if [ "$${status:-0}" != "10" ]; then echo "deb-test: analyze exited $${status:-0}, expected 10 (positive)"; cat $$scratch/out.txt; exit 1; fi; \
	grep -q "template legend2-10color" $$scratch/out.txt; \
	dpkg-deb --info $$deb | grep Depends; rm -rf $$scratch; echo "deb-test: passed"

## Build, then analyse the bundled sample and print its MRD report.
## analyze exits 0/10/11/20 for negative/positive/positive below LLOQ/not evaluable; only 1 (an error) fails.
run: release
	@.build/release/flowmrd analyze $(SAMPLE); status=$$?; \
	if [ $$status -eq 1 ] || [ $$status -gt 20 ]; then exit $$status; fi

## Generate the samples too large to commit (samples/generated/, ignored by git).
samples: release
	mkdir -p samples/generated
	.build/release/flowmrd synth samples/generated/negative-2M.fcs --overwrite --events 2000000 --mrd 0 --seed 104
	.build/release/flowmrd synth samples/generated/positive-1e-4-2M.fcs --overwrite --events 2000000 --mrd 1e-4 --seed 105
	.build/release/flowmrd synth samples/generated/positive-1e-5-5M.fcs --overwrite --events 5000000 --mrd 1e-5 --seed 106 --light-chain lambda
	.build/release/flowmrd analyze samples/generated/*.fcs --no-checksum; status=$$?; \
	if [ $$status -eq 1 ] || [ $$status -gt 20 ]; then exit $$status; fi

## The bundled normal reference (gating-templates/legend2-10color.reference): 16 synthetic normal
## and 4 regenerating marrows of the realistic-marrow generator, 2 million events each, seeds
## 5001-5020 (none of the validation matrix's), every parameter drawn from its seed and
## hemodilution drawn once from 0-0.3 (listed below) as the matrix's normals have it. Labelled synthetic in the file.
REFERENCE_DIR ?= $(if $(wildcard /dev/shm),/dev/shm,/tmp)/flowmrd-reference
reference: release
	rm -rf $(REFERENCE_DIR) && mkdir -p $(REFERENCE_DIR)
	@set -e; s=5000; for h in 0.171 0.191 0.047 0.098 0.064 0.05 0.037 0.003 0.296 0.286 0.202 0.019 0.078 0.047 0.111 0.245 0.205 0.036 0.058 0.257; do \
	  s=$$((s + 1)); extra=$$([ $$s -gt 5016 ] && echo --regenerating || true); \
	  .build/release/flowmrd synth $(REFERENCE_DIR)/normal-$$s.fcs --events 2000000 --seed $$s --mrd 0 --hemodilution $$h $$extra --quiet; \
	done
	FLOWMRD_TEMPLATES=gating-templates .build/release/flowmrd reference build $(REFERENCE_DIR)/normal-*.fcs --template legend2-10color \
	  --synthetic --description "SYNTHETIC: 16 normal and 4 regenerating marrows of the FlowMRD realistic-marrow generator (make reference); not a lab's own reference" \
	  --out gating-templates/legend2-10color.reference --overwrite --quiet
	rm -rf $(REFERENCE_DIR)

## Python packages the interoperability tests use (h5py and anndata read our HDF5 files), from
## PyPI (pip itself from Debian when missing); a failure here only makes those tests skip, with a message.
pydeps:
	@if ! command -v python3 >/dev/null 2>&1; then \
	  echo "python3 is missing: the h5py/anndata interoperability tests will skip"; \
	elif python3 -c "import h5py, anndata" 2>/dev/null; then \
	  echo "Python packages present: h5py anndata"; \
	else \
	  python3 -m pip --version >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends python3-pip; } >/dev/null 2>&1; \
	  python3 -m pip install -q h5py anndata 2>/dev/null \
	    || python3 -m pip install -q --break-system-packages h5py anndata 2>/dev/null \
	    || echo "h5py/anndata could not be installed: the interoperability tests will skip"; \
	fi
	@if ! command -v python3 >/dev/null 2>&1; then \
	  echo "python3 is missing: the FlowKit cross-checks will skip"; \
	elif python3 -c "import flowkit, sys; sys.exit(flowkit.__version__ != '1.3.2')" 2>/dev/null; then \
	  echo "FlowKit 1.3.2 present"; \
	else \
	  python3 -m pip install -q flowkit==1.3.2 2>/dev/null \
	    || python3 -m pip install -q --break-system-packages flowkit==1.3.2 2>/dev/null \
	    || echo "FlowKit 1.3.2 could not be installed: the FlowKit cross-checks will skip"; \
	fi
	@if ! command -v python3 >/dev/null 2>&1; then \
	  echo "python3 is missing: the Snakemake workflow test will skip"; \
	elif command -v snakemake >/dev/null 2>&1 || python3 -m snakemake --version >/dev/null 2>&1; then \
	  echo "Snakemake present"; \
	else \
	  python3 -m pip install -q snakemake snakemake-executor-plugin-slurm 2>/dev/null \
	    || python3 -m pip install -q --break-system-packages snakemake snakemake-executor-plugin-slurm 2>/dev/null \
	    || echo "snakemake could not be installed: the workflow test will skip"; \
	fi

## Debian's slurm-wlm and munge, for the test that starts a single-node SLURM cluster
## (Tests/slurm/single-node-cluster.sh) and runs the Snakemake workflow through it. Installed only
## as root, which the cluster needs (slurmd starts jobs as their user); otherwise, or when the
## install fails, that test says why and the SLURM profile's dry run stands in.
slurm:
	@if command -v slurmctld >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; then \
	  echo "SLURM present: slurm-wlm munge"; \
	elif [ "$$(id -u)" != "0" ]; then \
	  echo "not root: slurm-wlm/munge not installed; the SLURM cluster test will say why and the dry run stands in"; \
	else \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge; } >/dev/null 2>&1 \
	    && echo "Installed: slurm-wlm munge" \
	    || echo "slurm-wlm/munge could not be installed: the SLURM cluster test will say why and the dry run stands in"; \
	fi

## Chromium from Debian's packages, for the test that opens the HTML report in a real headless
## browser; a failure here only makes that test skip, with a message.
browser:
	@if command -v chromium >/dev/null 2>&1; then \
	  echo "Chromium present"; \
	else \
	  { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; } >/dev/null 2>&1 \
	    && echo "Installed: chromium" \
	    || echo "chromium could not be installed: the headless-browser report test will skip"; \
	fi

## The whole test suite.
test: deps pydeps browser slurm
	$(SWIFT) build --build-tests
	$(SWIFT) test
	@if [ "$$CI" = "true" ]; then $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=60 FUZZ_SEED=$(CI_FUZZ_SEED) FUZZ_TARGETS="$(CI_FUZZ_TARGETS)"; fi
	@if [ "$$CI" = "true" ]; then $(MAKE) --no-print-directory deb-test; fi

## Fuzzing (docs/reliability.md): every parser for FUZZ_SECONDS each under libFuzzer with
## AddressSanitizer, memory capped (RSS FUZZ_RSS_MB, any single allocation FUZZ_MALLOC_MB), a
## 10-second limit per input. Seeds from ../shared and the repository; new interesting inputs
## accumulate in .build-fuzz/corpus/TARGET; a crash, leak-free OOM or hang stops with its input
## saved as .build-fuzz/crash-TARGET-*; keep it under Tests/FuzzRegressions/TARGET/.
FUZZ_SECONDS ?= 60
## 0: libFuzzer draws a seed (exploration: `make fuzz`). CI fixes it, so a red CI can be replayed
## with the same mutations, and a finding is fixed before it lands rather than by luck of the draw.
FUZZ_SEED ?= 0
CI_FUZZ_SEED ?= 20261204
FUZZ_RSS_MB ?= 2048
FUZZ_MALLOC_MB ?= 1024
## libhdf5 allocates buffers sized from the file (up to 4 GB from a 32-bit length) before it
## checks them against the file's end, and never touches them: only the RSS limit bounds hdf5.
FUZZ_HDF5_MALLOC_MB ?= 1048576
ALL_FUZZ_TARGETS := fcs spillover template gatingml hdf5 flowjo
FUZZ_TARGETS ?= $(ALL_FUZZ_TARGETS)
## CI runs every target (hdf5 too, since libhdf5 is first run in a separate checking process,
## where its crashes are contained; docs/reliability.md).
CI_FUZZ_TARGETS ?= $(ALL_FUZZ_TARGETS)
SHARED ?= ../shared
FUZZ_BIN := .build-fuzz/release/flowmrd-fuzz

## Swift 6.3's -sanitize=fuzzer adds no coverage instrumentation to Swift code once
## -sanitize=address is on too (only C targets got counters: the fuzzer ran blind), so the
## coverage kinds libFuzzer needs are named explicitly; `make fuzz` checks the counters.
FUZZ_COVERAGE := edge,trace-cmp,pc-table,inline-8bit-counters
FUZZ_MIN_COUNTERS ?= 20000

fuzz-build: deps
	$(SWIFT) build -c release --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize-coverage=$(FUZZ_COVERAGE) -Xswiftc -DFUZZING --product flowmrd-fuzz --build-path .build-fuzz

fuzz: fuzz-build build
	@set -e; mkdir -p .build-fuzz/seeds; \
	rm -rf .build-fuzz/seeds/*; mkdir -p $(addprefix .build-fuzz/seeds/,$(ALL_FUZZ_TARGETS)) $(addprefix .build-fuzz/corpus/,$(ALL_FUZZ_TARGETS)); \
	if [ -d $(SHARED)/fcs-corpus ]; then find $(SHARED)/fcs-corpus -type f \( -iname '*.fcs' -o -iname '*.lmd' \) -size -3M -exec cp {} .build-fuzz/seeds/fcs/ \; ; \
	else echo "$(SHARED)/fcs-corpus is absent: FCS seeds are the committed samples only"; fi; \
	cp samples/demo-10color.fcs .build-fuzz/seeds/fcs/; \
	cp Tests/FuzzCorpus/spillover/* .build-fuzz/seeds/spillover/; \
	cp gating-templates/*.yaml .build-fuzz/seeds/template/; \
	if [ -d $(SHARED)/conformance/gatingml2/gml ]; then cp $(SHARED)/conformance/gatingml2/gml/*.xml .build-fuzz/seeds/gatingml/; fi; \
	if [ -d $(SHARED)/flowjo ]; then find $(SHARED)/flowjo -name '*.wsp' -size -128k -exec cp {} .build-fuzz/seeds/flowjo/ \; ; fi; \
	cp Tests/FuzzCorpus/flowjo/* .build-fuzz/seeds/flowjo/; \
	.build/debug/flowmrd synth .build-fuzz/seeds/small.fcs --events 300 --seed 1 --quiet >/dev/null; \
	.build/debug/flowmrd convert .build-fuzz/seeds/small.fcs .build-fuzz/seeds/hdf5/small.h5 >/dev/null; \
	.build/debug/flowmrd convert .build-fuzz/seeds/small.fcs .build-fuzz/seeds/hdf5/small.h5ad >/dev/null; \
	rm -f .build-fuzz/seeds/small.*; \
	for t in $(FUZZ_TARGETS); do \
	  if [ -d Tests/FuzzRegressions/$$t ]; then cp Tests/FuzzRegressions/$$t/* .build-fuzz/seeds/$$t/ 2>/dev/null || true; fi; \
	  echo "fuzz $$t for $(FUZZ_SECONDS) s"; \
	  FLOWMRD_FUZZ_TARGET=$$t SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:malloc_context_size=0:allocator_may_return_null=1 $(FUZZ_BIN) \
	    -max_total_time=$(FUZZ_SECONDS) -seed=$(FUZZ_SEED) -timeout=10 -rss_limit_mb=$(FUZZ_RSS_MB) -malloc_limit_mb=$$( [ $$t = hdf5 ] && echo $(FUZZ_HDF5_MALLOC_MB) || echo $(FUZZ_MALLOC_MB) ) \
	    -max_len=131072 -print_final_stats=1 -artifact_prefix=.build-fuzz/crash-$$t- \
	    .build-fuzz/corpus/$$t .build-fuzz/seeds/$$t 2>.build-fuzz/$$t.log \
	    || { tail -40 .build-fuzz/$$t.log; echo "fuzz $$t FAILED: input kept as .build-fuzz/crash-$$t-*"; exit 1; }; \
	  grep -E "^stat::number_of_executed_units|^Done" .build-fuzz/$$t.log | tr '\n' ' '; echo; \
	  counters=$$(sed -n 's/^INFO: Loaded 1 modules *(\([0-9]*\) inline 8-bit counters.*/\1/p' .build-fuzz/$$t.log); \
	  if [ "$${counters:-0}" -lt $(FUZZ_MIN_COUNTERS) ]; then echo "fuzz $$t: only $${counters:-0} coverage counters: flowmrd-fuzz is not instrumented (see fuzz-build)"; exit 1; fi; \
	done

## Throughput on generated 10-million-event files (release build).
bench: release
	.build/release/flowmrd bench read --events 10000000 --channels 14
	.build/release/flowmrd bench analyze --events 10000000

clean:
	rm -rf .build .build-fuzz
