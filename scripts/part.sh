# part NAME COMMAND...: runs one part of a check script (sourced by scripts/test.sh and
# scripts/check-infra.sh, not run). Exit 77 means "cannot run here": NAME is recorded in the
# caller's `skipped` array. Any other failure names the command and stops the caller.
part() {
  local name=$1
  shift
  local rc=0
  "$@" || rc=$?
  if [ "$rc" -eq 77 ]; then
    skipped+=("$name")
  elif [ "$rc" -ne 0 ]; then
    echo "${0##*/}: part failed (exit $rc): $*" >&2
    exit "$rc"
  fi
}
