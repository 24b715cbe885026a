#!/usr/bin/env bash
# Build the web page into web/dist, which `couchpay serve` serves at /.
#   web/build.sh          npm ci (only when web/node_modules is missing or stale), then vite build
#   web/build.sh --test   the same, plus typecheck, formatting check and the Vitest unit tests
# Needs Node.js >= 20.19 and npm; packages come from package-lock.json only.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  echo "web/build.sh: the web page needs Node.js >= 20.19 and npm (https://nodejs.org/)" >&2
  exit 1
fi
stamp=node_modules/.couchpay-package-lock.json
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "web/build.sh: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
if [ "${1:-}" = "--test" ]; then
  npm run --silent check
  npm test --silent
fi
npm run --silent build
