# Shared by the command-line sh_tests (source it after `set -uo pipefail`):
# ok/bad record a check, expect runs a command and checks its exit code and
# output, and the test ends with `exit $fail`.
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
expect() {  # description, want_rc, pattern (grep -E), command...
  local what="$1" want="$2" pat="$3"
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" = "$want" ] && grep -qE -- "$pat" <<<"$out"; then
    ok "$what"
  else
    bad "$what (rc=$rc, want $want; pattern '$pat')"
    echo "$out" | tail -n 20
  fi
}
