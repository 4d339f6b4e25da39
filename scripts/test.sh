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
integration=$(find test/integration -name '*.test.ts' | sort)
echo "== unit and fuzz tests"
node --import tsx --test --test-reporter=spec --test-reporter-destination=stdout $unit
echo "== integration tests"
node --import tsx --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout $integration
