#!/bin/sh
# The short fuzz run that make test includes: each harness, its seeds and
# a few thousand mutations.
exec sh "$(dirname "$0")/run.sh" "$1" runs "${FUZZ_RUNS:-20000}"
