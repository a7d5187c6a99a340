#!/usr/bin/env bash
# The test suite: unit, op conformance, whole zoo models (skipped visibly when the zoo is absent).
# Usage: bash tools/test.sh [PYTEST ARGS]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$EDGEML_ROOT"
ruff check .
set +e
pytest -q "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "edgeml: pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
