#!/bin/bash
# Checks the sparrow command line as a user sees it: help, version, and a
# clear usage error with exit code 2 for an unknown subcommand.
set -u
bin="$1"
fail=0
check() {  # description, expected exit code, expected text, command...
  local what="$1" want_rc="$2" want_text="$3"
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" != "$want_rc" ]; then
    echo "FAIL: $what: exit $rc, want $want_rc"; echo "$out"; fail=1; return
  fi
  if ! grep -q -- "$want_text" <<<"$out"; then
    echo "FAIL: $what: output lacks '$want_text'"; echo "$out"; fail=1; return
  fi
  echo "ok: $what"
}
check "--help lists version" 0 "version" "$bin" --help
check "version prints the number" 0 "sparrow 0\." "$bin" version
check "version prints the dispatch target" 0 "dispatch target" "$bin" version
check "unknown subcommand is a usage error" 2 "unknown subcommand 'frobnicate'" "$bin" frobnicate
check "no subcommand is a usage error" 2 "subcommand is required" "$bin"
check "unknown flag is a usage error" 2 "nope" "$bin" version --nope
exit $fail
