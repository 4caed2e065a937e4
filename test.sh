#!/usr/bin/env bash
# The whole test suite: every module of the repository (each directory with
# a go.mod), with the race detector. The redisrate tests run against a real
# redis-server, installed here when missing (Debian/Ubuntu; root or sudo),
# and started by the tests themselves on a free loopback port; so is
# chromium, the headless browser of examples/webapp's browser test (which
# under CI fails rather than skip without it). The tools module's tests run
# the release check against small fixture trees.
set -euo pipefail
cd "$(dirname "$0")"
export GOWORK="${GOWORK:-off}"

if ! command -v redis-server >/dev/null 2>&1; then
  echo "test.sh: installing redis-server for the redisrate tests" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update
  $sudo apt-get install -y redis-server
fi

if ! command -v chromium >/dev/null 2>&1; then
  echo "test.sh: installing chromium for examples/webapp's browser test" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update
  $sudo apt-get install -y chromium
fi

# The race runtime sleeps 1 s when each test binary exits, to let reports
# flush; the reports are printed before that, so skip the sleep.
export GORACE="${GORACE:-atexit_sleep_ms=0}"

# Outside testdata (fixtures), vendor and hidden directories.
mapfile -t modules < <(find . \( -name testdata -o -name vendor -o -name '.?*' \) -prune -o -name go.mod -print | sed 's|/go.mod$||' | sort)

for module in "${modules[@]}"; do
  echo "== go test -race ($module)"
  (cd "$module" && go test -race -count=1 ./...)
done

# The benchmarks, 100 iterations each: not a measurement (see
# docs/PERFORMANCE.md for that), but proof they still run.
for module in "${modules[@]}"; do
  echo "== benchmarks, short mode ($module)"
  (cd "$module" && go test -run '^$' -bench . -benchtime=100x ./...)
done
