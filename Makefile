# gongan — the two commands: `make run` and `make test`.
#
# Both install what is missing first (Debian packages), so a fresh Debian machine with
# Rust needs nothing else.

SHELL := /bin/bash
CARGO ?= cargo
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# What building gongan needs (cpal talks to ALSA).
RUN_PACKAGES := libasound2-dev pkg-config
# What the tests need on top: PulseAudio and its ALSA plugin for the real sound path,
# stress-ng to keep both cores busy under it (tests/it/sound_load.rs), and Chromium with its
# WebDriver for the facilitator page's browser tests (tests/it/browser.rs), tmux to drive
# `gongan run`'s full-screen view as a terminal (tests/it/run_screen.rs), and Snapcast's
# server and client for the pipe output's rooms (tests/it/snapcast.rs).
TEST_PACKAGES := $(RUN_PACKAGES) pulseaudio pulseaudio-utils libasound2-plugins alsa-utils \
	stress-ng chromium chromium-driver tmux snapserver snapclient

# The sound-path tests: every test that opens the sound card or records it. They need the
# tests' own PulseAudio (scripts/test-pulse: a null sink in a private runtime folder, never
# the user's sound server).
SOUND_TESTS := sound_path:: sound_load:: http_sound:: snapcast::
# The tests that run last, alone and one at a time: the sound path, the event stream's
# real-time strokes and cue storm, and the browser (Chromium alone loads both cores). Each
# asserts what the server does on time, which holds on a busy machine, not on one where a
# browser, a request storm and a debug build of the pack decoder share two cores with it.
ALONE_TESTS := $(SOUND_TESTS) http_events:: browser::
ALONE_RUN = ./scripts/test-pulse run \
	$(CARGO) test --no-fail-fast --test it -- --test-threads=1 $(ALONE_TESTS) $(TEST_ARGS)

.PHONY: run test test-sound deps test-deps pulse bench lint

## run: install missing packages, build, and serve the API on http://127.0.0.1:7070 with the
## default pack, playing through the sound card (or the null output when there is none)
run: deps
	$(CARGO) run --release -- serve --pack default

## test: install what the tests need, run every check and test — the sound-path, event-stream
## and browser tests last, alone and one at a time, against a private PulseAudio null sink.
## Both parts always run; it fails if either failed, and its last line is a `test result:` line (a failing one, if
## any part failed).
test: test-deps lint
	@set -o pipefail; mkdir -p target; rest=0; sound=0; \
	$(CARGO) test --no-fail-fast --lib --bins --tests -- $(ALONE_TESTS:%=--skip %) 2>&1 \
		| tee target/test-rest.log || rest=$$?; \
	$(ALONE_RUN) || sound=$$?; \
	if [ $$rest -ne 0 ]; then \
		echo "the tests before the last, one-at-a-time part failed (target/test-rest.log):"; \
		grep -E '^error' target/test-rest.log; grep -E '^test result: FAILED' target/test-rest.log; \
	fi; \
	[ $$rest -eq 0 ] && [ $$sound -eq 0 ]

## test-sound: the sound-path tests alone, one at a time, against the tests' own PulseAudio
## (started for the run and stopped after it); TEST_ARGS=--nocapture shows their numbers
test-sound: ALONE_TESTS = $(SOUND_TESTS)
test-sound: test-deps
	@$(ALONE_RUN)

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

## pulse: start the tests' own PulseAudio and keep it running (for running sound tests by
## hand: eval "$(scripts/test-pulse env)"; stop it with scripts/test-pulse stop)
pulse: test-deps
	@./scripts/test-pulse start
	@echo 'eval "$$(scripts/test-pulse env)"  # points this shell at it'
