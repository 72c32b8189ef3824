# shellcheck shell=bash
# Helpers shared by the lifecycle scripts. Sourced, never run: the caller sets
# `set -euo pipefail` and SCRIPT_NAME before sourcing.

log() {
  printf '%s [%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${SCRIPT_NAME:-lifecycle}" "$*"
}

warn() {
  log "WARNING: $*" >&2
}

die() {
  log "ERROR: $*" >&2
  exit 1
}

# The scripts take no arguments but --help; each defines its own `usage`.
accept_only_help() {
  case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    "") ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
}

# Fails naming every unset variable at once, so one run tells the operator all that is missing.
require_env() {
  local name missing=()
  for name in "$@"; do
    [[ -n "${!name:-}" ]] || missing+=("$name")
  done
  ((${#missing[@]} == 0)) ||
    die "missing environment variable(s): ${missing[*]}. Export them and run again (see --help)."
}

require_tools() {
  local tool missing=()
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) ||
    die "missing command(s) on PATH: ${missing[*]}. Install them and run again."
}

# S3's naming rules; checking them early also keeps the name safe to embed in JSON, YAML and units.
valid_bucket_name() {
  [[ "$1" =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] && [[ "$1" != *..* ]]
}

# Writes stdin to PATH with MODE only when the content differs; returns 0 when it wrote, 1 when
# the file was already up to date. Unchanged files keep their timestamps, which keeps reruns quiet.
write_if_changed() {
  local path=$1 mode=$2 tmp
  # Callers test the result in `if`, where bash suspends errexit: every failure is explicit here.
  tmp=$(mktemp) || die "cannot create a temporary file"
  cat >"$tmp" || die "cannot buffer the new content of $path"
  if [[ -f "$path" ]] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
    return 1
  fi
  mkdir -p "$(dirname "$path")" || die "cannot create the folder of $path"
  install -m "$mode" "$tmp" "$path" || die "cannot write $path"
  rm -f "$tmp"
  log "wrote $path"
}

# Appends LINE to FILE unless an identical line is there; returns 0 when it appended.
append_line_once() {
  local file=$1 line=$2
  if [[ -f "$file" ]] && grep -qxF -- "$line" "$file"; then
    return 1
  fi
  mkdir -p "$(dirname "$file")" || die "cannot create the folder of $file"
  printf '%s\n' "$line" >>"$file" || die "cannot append to $file"
  log "added to $file: $line"
}
