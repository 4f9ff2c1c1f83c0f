#!/bin/sh
# Every C file git tracks is formatted with the checked-in .clang-format
# (STYLE: the code is formatted with it).  One line per file; a file that
# is not gets "not ok" and the first lines clang-format would change.
# `make format` rewrites them.  Usage: sh tests/style/test_format.sh [BUILD_DIR]

cd "$(dirname "$0")/../.." || exit 2
if ! command -v clang-format >/dev/null 2>&1; then
	echo "not ok - clang-format is installed (make deps installs it)"
	exit 1
fi
if [ ! -f .clang-format ] || ! command -v git >/dev/null 2>&1 ||
    ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "not ok - .clang-format and the git checkout it formats are here"
	exit 1
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mp-format.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
git ls-files '*.c' '*.h' >"$TMP/files"
if [ ! -s "$TMP/files" ]; then
	echo "not ok - git lists the C files to check"
	exit 1
fi
while read -r f; do
	if clang-format --style=file "$f" | cmp -s "$f" -; then
		echo "ok - $f is formatted with .clang-format"
	else
		echo "not ok - $f is formatted with .clang-format (make format rewrites it)"
		clang-format --style=file "$f" | diff "$f" - | sed -n '1,8s/^/# /p'
	fi
done <"$TMP/files"
