# sysboot top-level build.
#
#   make            build the host tool, the emulator and the firmware into build/
#   make test       install missing packages, build, run every test (sanitized)
#   make demo       a complete in-field update of the emulated board
#   make reliability  power cuts over an update, updates over a bad line: no brick
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

.PHONY: all deps host firmware san test demo reliability bench clean

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

# The long campaign: power cuts over an update, then updates over a bad
# line; prints cuts injected, boards recovered, bricks, and the outcomes.
CUTS ?= 40
RUNS ?= 10
reliability: deps
	$(MAKE) all
	tests/interop/powercut.sh $(BUILD)/host/sysboot $(BUILD)/sim/sysboot-sim $(BUILD)/firmware $(CUTS)
	tests/interop/badline.sh $(BUILD)/host/sysboot $(BUILD)/sim/sysboot-sim $(BUILD)/firmware $(RUNS)

# A few minutes (the 1 MB runs); not part of `make test`. BENCH_ARGS passes
# options to sysboot-bench (e.g. BENCH_ARGS="--sizes 64 --runs 1").
BENCH_ARGS ?=
bench: deps
	$(MAKE) all
	$(BUILD)/bench/sysboot-bench --sysboot $(BUILD)/host/sysboot --firmware $(BUILD)/firmware \
		--noparity $(BUILD)/tests/interop/noparity.so $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)
	$(MAKE) -C firmware clean O=$(abspath $(BUILD)/firmware)
