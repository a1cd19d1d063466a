#!/usr/bin/env bash
# The official Array API conformance suite against anygrad.array_api, file by file.
#   bash tests/array_api_suite/run.sh /path/to/array-api-tests [numpy|array_api_strict]
# The suite (github.com/data-apis/array-api-tests, with its spec submodule) is not on the
# package index: clone it beside the project. It needs ndindex and pytest-json-report.
# strict-xfails.txt lists the special cases array_api_strict itself fails.
set -uo pipefail
suite=$1; backend=${2:-numpy}
xfails=$(cd "$(dirname "$0")" && pwd)/strict-xfails.txt
cd "$suite"
export ARRAY_API_TESTS_MODULE=anygrad.array_api ANYGRAD_BACKEND=$backend
export ARRAY_API_STRICT_API_VERSION=2024.12 ARRAY_API_TESTS_VERSION=2024.12
for f in array_api_tests/test_*.py; do
  printf '%s: ' "$(basename "$f" .py)"
  python -m pytest "$f" --max-examples 50 --disable-deadline --hypothesis-seed=0 \
    --xfails-file "$xfails" -q -p no:cacheprovider 2>&1 | tail -1
done
