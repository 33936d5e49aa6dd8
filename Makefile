# gongan — the two commands: `make run` and `make test`.
#
# Both install what is missing first (Debian packages), so a fresh Debian machine with
# Rust needs nothing else.

SHELL := /bin/bash
CARGO ?= cargo
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# What building gongan needs (cpal talks to ALSA).
RUN_PACKAGES := libasound2-dev pkg-config
# What the tests need on top: PulseAudio and its ALSA plugin for the real sound path, and
# Chromium with its WebDriver for the facilitator page's browser tests (tests/it/browser.rs).
TEST_PACKAGES := $(RUN_PACKAGES) pulseaudio pulseaudio-utils libasound2-plugins alsa-utils \
	chromium chromium-driver

# PulseAudio with a null sink: the "sound card" of machines without one (CI included).
PULSE_START := pulseaudio -D --exit-idle-time=-1 -n \
	--load="module-null-sink sink_name=gongan" --load=module-native-protocol-unix

.PHONY: run test deps test-deps pulse bench lint

## run: install missing packages, build, and serve the API on http://127.0.0.1:7070 with the
## default pack, playing through the sound card (or the null output when there is none)
run: deps
	$(CARGO) run --release -- serve --pack default

## test: install what the tests need, start a PulseAudio null sink, run every check and test
test: test-deps pulse lint
	$(CARGO) test --no-fail-fast --lib --bins --tests

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

## bench: the performance bars of PRODUCT.md §7 (numbers go in BENCHMARKS.md)
bench: deps
	$(CARGO) bench

deps:
	@./scripts/install-packages $(RUN_PACKAGES)

test-deps:
	@./scripts/install-packages $(TEST_PACKAGES)

# Starts PulseAudio unless it already answers, then waits until the null sink exists.
pulse:
	@if ! pactl list short sinks 2>/dev/null | grep -q gongan; then \
		echo "starting PulseAudio with the 'gongan' null sink"; \
		$(PULSE_START) 2>&1 | grep -v 'not intended to be run as root' || true; \
	fi
	@for i in $$(seq 100); do \
		pactl list short sinks 2>/dev/null | grep -q gongan && exit 0; sleep 0.1; \
	done; echo "PulseAudio did not start" >&2; exit 1
