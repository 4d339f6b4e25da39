#!/usr/bin/env bash
# Lays out the production bundle in DEST as the container image holds it at /app (deploy/Dockerfile
# runs this very script): the compiled build, the launcher, default configs and their schemas, and
# production dependencies only (no TypeScript, no tsx, no tests).
#   bash scripts/stage-bundle.sh DEST
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:?usage: stage-bundle.sh DEST}

node scripts/build.js --if-stale
rm -rf "$dest"
mkdir -p "$dest"
cp -R dist bin conf LICENSE package.json package-lock.json "$dest/"
rm -f "$dest/dist/.build-stamp"
# Install scripts are not needed by any production dependency; not running them is safer.
(cd "$dest" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
rm -f "$dest/package-lock.json"
