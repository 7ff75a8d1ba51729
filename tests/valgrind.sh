#!/bin/sh
# valgrind.sh -- run the program under test inside valgrind memcheck.
# `make test-valgrind` points CNSEARCH_BIN here; any memory error or
# definite leak makes the command exit 99, which the CLI tests report.
exec valgrind -q --error-exitcode=99 --leak-check=full \
  --errors-for-leak-kinds=definite --show-leak-kinds=definite \
  "$CNSEARCH_REAL_BIN" "$@"
