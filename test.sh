#!/usr/bin/env bash
# The whole test suite: every module of the repository, with the race
# detector. The redisrate tests run against a real redis-server, installed
# here when missing (Debian/Ubuntu; root or sudo), and started by the tests
# themselves on a free loopback port.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v redis-server >/dev/null 2>&1; then
  echo "test.sh: installing redis-server for the redisrate tests" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update
  $sudo apt-get install -y redis-server
fi

# The race runtime sleeps 1 s when each test binary exits, to let reports
# flush; the reports are printed before that, so skip the sleep.
export GORACE="${GORACE:-atexit_sleep_ms=0}"

for module in . redisrate; do
  echo "== go test -race ($module)"
  (cd "$module" && go test -race -count=1 ./...)
done

# The benchmarks, 100 iterations each: not a measurement (see
# docs/PERFORMANCE.md for that), but proof they still run.
echo "== benchmarks, short mode"
go test -run '^$' -bench . -benchtime=100x ./...
