#!/usr/bin/env bash
# The one test command: installs test dependencies when missing, then the build, typecheck, lint,
# unit + fuzz tests, and integration tests against real Sluice processes (compiled) and ffmpeg.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-test-deps.sh

echo "== build"
# bin/sluice.js runs the compiled build: every test that spawns it runs what was just built.
node scripts/build.js --if-stale
echo "== typecheck"
npx tsc --noEmit -p .
echo "== lint"
npx eslint .
echo "== format"
npx prettier --check . >/dev/null || { npx prettier --check . | tail -20; exit 1; }

unit=$(find test/unit test/fuzz test/bench test/soak -name '*.test.ts' | sort)
# Integration files run two at a time (each waits on real processes and timers far more than it
# computes), except those that load the machine or need it quiet: the soak run, the browser, the
# connection storm of limits, RTSP through an edge with its read timeouts, the bench (pinned CPUs)
# the write-window counts and the slow-viewer drops of media-path. Those run alone after.
alone='test/integration/(soak|browser-playback|limits|cluster-rtsp|bench|media-node-writes|media-path)\.test\.ts$'
integration=$(find test/integration -name '*.test.ts' | sort | grep -v -E "$alone" || true)
integration_alone=$(find test/integration -name '*.test.ts' | sort | grep -E "$alone" || true)
spec=(--test-reporter=spec --test-reporter-destination=stdout)
echo "== unit and fuzz tests"
node --import tsx --test --test-concurrency=2 "${spec[@]}" $unit
echo "== integration tests, two at a time"
node --import tsx --test --test-concurrency=2 "${spec[@]}" $integration
echo "== integration tests that run alone"
node --import tsx --test --test-concurrency=1 "${spec[@]}" $integration_alone
