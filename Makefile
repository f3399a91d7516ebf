# Makefile — the two commands a newcomer needs, and the CI entry point.
#
#   make demo    install what is missing, build, run the demo
#   make check   install what is missing, build, run every test three ways:
#                  1. the whole suite on the normal build (build/)
#                  2. the whole suite on an ASan+UBSan build (build-asan/)
#                  3. the unit tests under valgrind memcheck (build/)
#                then print the totals as one line "N passed, N failed".
#   make bench | crash-soak | fuzz | fuzz-fs | load    the long runs (below)
#
# `check` runs every phase even when an earlier one fails, and fails at the
# end if anything failed (scripts/count-results.py decides, from the JSON log
# each phase writes). In CI (CI=true) builds use --werror.

MESON      ?= meson
NINJA      ?= ninja
PYTHON     ?= python3
BUILD      ?= build
BUILD_ASAN ?= build-asan
PREFIX     ?= /usr/local

WERROR      := $(if $(filter true 1 yes,$(CI)),--werror,)
SETUP_FLAGS := $(WERROR) --prefix=$(PREFIX)
ASAN_FLAGS  := $(WERROR) -Db_sanitize=address,undefined -Db_lundef=false

# Sanitizer reports must fail the test, not scroll by. A small quarantine
# keeps the daemon's RSS meaningful for the load test's memory bound.
ASAN_ENV := ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0:quarantine_size_mb=16 \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
VALGRIND := valgrind --error-exitcode=1 --leak-check=full \
            --errors-for-leak-kinds=definite --track-origins=yes --quiet
# Check's per-test timeouts are scaled for valgrind's slowdown.
VALGRIND_ENV := CK_TIMEOUT_MULTIPLIER=10

# Each phase's JSON test log, read by count-results.py. (With --wrapper,
# meson appends the wrapper's name: --logbase check writes check-valgrind.json.)
LOG_PLAIN    := $(BUILD)/meson-logs/check-plain.json
LOG_ASAN     := $(BUILD_ASAN)/meson-logs/check-asan.json
LOG_VALGRIND := $(BUILD)/meson-logs/check-valgrind.json

.PHONY: all deps build demo check check-plain check-asan check-valgrind \
        bench crash-soak fuzz fuzz-fs load install clean

# Long runs, not part of check; override on the command line, e.g.
# `make crash-soak CRASH_CYCLES=5000 SEED=9`.
SEED          ?= 1
CRASH_CYCLES  ?= 1000
FSX_SEEDS     ?= 1-30
FSX_OPS       ?= 20000
FUZZ_SECONDS  ?= 60
LOAD_SECONDS  ?= 60
PGBENCH_SECONDS ?= 60
BENCH_ARGS    ?=
RUN_ENV := CLAIMFSD=$(abspath $(BUILD))/daemon/claimfsd

all: build

deps:
	scripts/install-deps.sh

$(BUILD)/build.ninja:
	$(MESON) setup $(SETUP_FLAGS) $(BUILD)

$(BUILD_ASAN)/build.ninja:
	$(MESON) setup $(ASAN_FLAGS) $(BUILD_ASAN)

build: $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)

demo: deps build
	scripts/demo.sh

# The leading '-' lets every phase run; the last line judges them all.
check: deps
	@rm -f $(LOG_PLAIN) $(LOG_ASAN) $(LOG_VALGRIND)
	-$(MAKE) --no-print-directory check-plain
	-$(MAKE) --no-print-directory check-asan
	-$(MAKE) --no-print-directory check-valgrind
	@$(PYTHON) scripts/count-results.py \
	    plain=$(LOG_PLAIN) asan+ubsan=$(LOG_ASAN) valgrind=$(LOG_VALGRIND)

check-plain: build
	$(MESON) test -C $(BUILD) --print-errorlogs --logbase check-plain

check-asan: $(BUILD_ASAN)/build.ninja
	$(NINJA) -C $(BUILD_ASAN)
	$(ASAN_ENV) $(MESON) test -C $(BUILD_ASAN) --print-errorlogs \
	    --timeout-multiplier 3 --logbase check-asan

check-valgrind: build
	$(VALGRIND_ENV) $(MESON) test -C $(BUILD) --suite unit --print-errorlogs \
	    --timeout-multiplier 10 --wrapper '$(VALGRIND)' --logbase check

# Issues 7 and 18: claimfs against a native directory and FUSE passthrough
# (builds its own release build in build-release/); two groups, micro and
# real, e.g. `make bench BENCH_ARGS='--group real --quick'`.
bench:
	$(PYTHON) bench/run.py $(BENCH_ARGS)

# Issue 6: the crash loop with >= 1,000 daemon kills; issue 16: the same
# load with >= 1,000 kills of a supervised worker (writers never stopped),
# and PostgreSQL under pgbench for the issue's 60 s with 3 worker kills.
crash-soak: build
	$(RUN_ENV) CLAIMFS_CRASHWRITER=$(abspath $(BUILD))/tests/crash/crashwriter \
	    $(PYTHON) tests/crash/crashloop.py --cycles $(CRASH_CYCLES) --seed $(SEED)
	$(RUN_ENV) CLAIMFS_CRASHWRITER=$(abspath $(BUILD))/tests/crash/crashwriter \
	    $(PYTHON) tests/crash/crashloop.py --supervise --cycles $(CRASH_CYCLES) --seed $(SEED)
	$(RUN_ENV) $(PYTHON) tests/integration/pgbench/test_pgbench.py --seconds $(PGBENCH_SECONDS)

# Issue 6: each libFuzzer target (clang, build-fuzz/) for FUZZ_SECONDS.
fuzz: deps
	tests/fuzz/run-fuzzers.sh $(FUZZ_SECONDS)

# Issue 6: the differential filesystem tester (claim vs tmpfs), longer.
fuzz-fs: build
	$(RUN_ENV) CLAIMFS_FSX=$(abspath $(BUILD))/tests/fuzz/fsx/fsx \
	    $(PYTHON) tests/fuzz/fsx/fsx_run.py --seeds $(FSX_SEEDS) --ops $(FSX_OPS) \
	    --restart-every 1000

# Issue 6: 16 writers + 200 HTTP clients + hostile connections.
load: build
	$(RUN_ENV) $(PYTHON) tests/load/load.py --duration $(LOAD_SECONDS)

install: build
	$(MESON) install -C $(BUILD) $(if $(DESTDIR),--destdir "$(DESTDIR)")

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) build-release build-fuzz build-fuzz.build.log
