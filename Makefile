# sysboot top-level build.
#
#   make            build the host tool, the emulator and the firmware into build/
#   make test       install missing packages, build, run every test (sanitized)
#   make demo       a complete in-field update of the emulated board
#   make reliability  power cuts aimed at every phase of an update, updates over
#                   bad lines at several rates: the figures, and no brick
#   make fuzz       the fuzzers for FUZZ_SECONDS each (libFuzzer, ASan+UBSan)
#   make bench      update times against stm32flash and the physical limit,
#                   emulator speed, firmware size (docs/performance.md)
#
# The host tool and emulator are a CMake project (build/, and build/san with
# ASan+UBSan for the tests); the firmware is cross-built by firmware/Makefile
# into build/firmware/.

BUILD      := build
SAN_BUILD  := $(BUILD)/san
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps host firmware san test demo reliability fuzz bench clean

all: host firmware

deps:
	@scripts/setup-deps --quiet

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

host: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The firmware build stamps application images with the host tool.
firmware: host
	$(MAKE) -C firmware O=$(abspath $(BUILD)/firmware) SYSBOOT=$(abspath $(BUILD)/host/sysboot)

$(SAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(SAN_BUILD) -DSYSBOOT_SANITIZE=ON -DSYSBOOT_FIRMWARE_DIR=$(abspath $(BUILD)/firmware) $(CMAKE_ARGS)

san: $(SAN_BUILD)/CMakeCache.txt
	cmake --build $(SAN_BUILD) -j $(JOBS)

test: deps
	$(MAKE) all san
	cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

demo: deps
	$(MAKE) all
	scripts/demo

# The long campaign (the test suite runs a short one): power cuts aimed at
# every phase of an update, CUTS_PER_PHASE each, over TRANSPORT; then RUNS
# updates at each bad-line rate (drop:corrupt:delay:stall, per million
# bytes). Prints cuts, recoveries and bricks per phase, and the outcomes per
# rate. About 2 minutes for the cuts and 10 for the lines.
CUTS_PER_PHASE ?= 8
TRANSPORT ?= usart
RUNS ?= 6
RATES ?= 200:1000:1000:100 500:2000:2000:300 700:3000:3000:300
reliability: deps
	$(MAKE) all
	tests/interop/powercut.sh $(BUILD)/host/sysboot $(BUILD)/sim/sysboot-sim $(BUILD)/firmware \
		$(CUTS_PER_PHASE) $(TRANSPORT)
	tests/interop/badline.sh $(BUILD)/host/sysboot $(BUILD)/sim/sysboot-sim $(BUILD)/firmware \
		$(RUNS) $(RATES)

# Every fuzzer for FUZZ_SECONDS (the test suite runs each 3 s), from the seed
# corpus in tests/fuzz/corpus; FUZZ_KEEP=1 merges the inputs that reach new
# code into it. Prints executions and coverage per fuzzer.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_KEEP ?=
fuzz: deps
	$(MAKE) all san
	@for t in $(FUZZ_TARGETS); do \
		tests/fuzz/run.sh $(SAN_BUILD)/tests/fuzz/targets/fuzz_$$t tests/fuzz/corpus/$$t \
			$(FUZZ_SECONDS) $(FUZZ_KEEP) || exit 1; \
	done

# About 7 minutes (the 1 MB runs, USB DFU in its hosts' real poll timeouts);
# not part of `make test`. BENCH_ARGS passes options to sysboot-bench
# (e.g. BENCH_ARGS="--links usb --sizes 64 --runs 1").
BENCH_ARGS ?=
bench: deps
	$(MAKE) all
	$(BUILD)/bench/sysboot-bench --sysboot $(BUILD)/host/sysboot --firmware $(BUILD)/firmware \
		--noparity $(BUILD)/tests/interop/noparity.so $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)
	$(MAKE) -C firmware clean O=$(abspath $(BUILD)/firmware)
