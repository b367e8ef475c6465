# paddock: the front door. Meson and Ninja do the building; this file only
# names the everyday tasks. See README.md.
MESON        ?= meson
NINJA        ?= ninja
PYTHON       := /usr/bin/python3
BUILD        := build
TEST_BUILD   := build-test
FUZZ_BUILD   := build-fuzz
# make fuzz: the budget of each fuzz target, in seconds (the run takes about
# this times the number of targets); FUZZ_MERGE=1 merges what they found
# into the checked-in corpus.
FUZZ_SECONDS ?= 60
FUZZ_MERGE   ?=

# make soak: the mixed load's duration in seconds (bench/soak.py).
SOAK_SECONDS ?= 1800
PREFIX       ?= /usr/local
DESTDIR      ?=

.PHONY: all deps build run test lint fuzz bench soak clean install uninstall

all: build

deps:
	@tools/install-deps

build: deps
	@test -f $(BUILD)/build.ninja || $(MESON) setup $(BUILD) >/dev/null
	@$(NINJA) -C $(BUILD)

# Install into $(DESTDIR)$(PREFIX) what Meson installs (docs/install.md):
# the binary, the library with its header and pkg-config file, the manual
# pages, the shell completions, the systemd unit and the example config.
install: build
	@$(MESON) configure $(BUILD) -Dprefix=$(PREFIX) >/dev/null
	@$(MESON) install -C $(BUILD) --quiet $(if $(DESTDIR),--destdir "$(DESTDIR)")

# Remove what the last `make install` from $(BUILD) installed (Meson keeps
# the list, DESTDIR included, in $(BUILD)/meson-logs/install-log.txt).
uninstall:
	@test -f $(BUILD)/meson-logs/install-log.txt || \
	    { echo "uninstall: nothing was installed from $(BUILD)" >&2; exit 1; }
	@$(NINJA) -C $(BUILD) uninstall

# The example profile: the proxy on 127.0.0.1:3128 for a few package
# registries, in the foreground (Ctrl-C stops it).
run: build
	$(BUILD)/paddock proxy --config examples/config.toml

# The test build has ASan and UBSan on and warnings as errors; a sanitizer
# report fails the run.
test: deps
	@test -f $(TEST_BUILD)/build.ninja || $(MESON) setup $(TEST_BUILD) \
	    -Db_sanitize=address,undefined --werror -Dbuildtype=debug \
	    -Doptimization=1 >/dev/null
	@$(NINJA) -C $(TEST_BUILD)
	@$(PYTHON) tools/run-tests --build $(TEST_BUILD)

lint: deps
	@$(PYTHON) tools/run-tests --only lint

fuzz: deps
	@test -f $(FUZZ_BUILD)/build.ninja || CC=clang $(MESON) setup \
	    $(FUZZ_BUILD) -Dfuzzing=true -Db_sanitize=address,undefined \
	    -Db_lundef=false -Dbuildtype=debugoptimized --werror >/dev/null
	@$(NINJA) -C $(FUZZ_BUILD)
	@$(PYTHON) tools/run-fuzz --build $(FUZZ_BUILD) --seconds $(FUZZ_SECONDS) \
	    $(if $(FUZZ_MERGE),--merge)

bench: build
	@tools/install-deps --bench
	@$(PYTHON) bench/run --build $(BUILD)

# Fault and soak runs (bench/soak.py), loopback only, never part of make
# test: SOAK_SECONDS of mixed load with faults and reloads, then 10,000
# held CONNECT tunnels (fewer when RLIMIT_NOFILE cannot fit them).
soak: build
	@SOAK_SECONDS=$(SOAK_SECONDS) $(PYTHON) bench/soak.py --build $(BUILD)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(FUZZ_BUILD) tests/fuzz/work
