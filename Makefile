# WardMQ - top-level Makefile over CMake.
#   make          build everything (release) into build/bin/
#   make run      install missing packages, build, start the broker
#   make test     install missing packages, build with ASan+UBSan, run every test
#   make bench    benchmarks side by side with mosquitto
#   make fuzz     build the libFuzzer targets (clang) and run each briefly
#   make docs     regenerate docs/CONFIG.md from the option table
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
CMAKE ?= cmake

.PHONY: all deps run test test-only bench fuzz docs clean

all: deps-build
	@$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@$(CMAKE) --build $(BUILD) -j $(JOBS)

deps-build:
	@scripts/deps.sh build

deps:
	@scripts/deps.sh all

run: all
	@mkdir -p -m 0700 var
	$(BUILD)/bin/wardmq --db var/wardmq.db --admin-socket var/wardmq.sock $(ARGS)

$(ASAN_BUILD)/bin/wardmq: FORCE
	@scripts/deps.sh test
	@CC=$${CC:-gcc} $(CMAKE) -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWMQ_SANITIZE=ON >/dev/null
	@$(CMAKE) --build $(ASAN_BUILD) -j $(JOBS)
FORCE:

# The release tree is built too: -O2 enables warnings (truncation,
# maybe-uninitialized) that the sanitizer build does not see, and make run /
# make bench use it.
test: $(ASAN_BUILD)/bin/wardmq all
	@tests/run.sh $(ASAN_BUILD)

bench: all
	@scripts/deps.sh bench
	@bench/run.sh $(BUILD)

fuzz:
	@scripts/deps.sh test
	@CC=clang $(CMAKE) -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWMQ_FUZZ=ON -DWMQ_SANITIZE=ON >/dev/null
	@$(CMAKE) --build $(FUZZ_BUILD) -j $(JOBS)
	@fuzz/run.sh $(FUZZ_BUILD) $${FUZZ_SECONDS:-60}

docs: all
	@$(BUILD)/bin/wardmq --config-doc > docs/CONFIG.md

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
