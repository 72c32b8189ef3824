# shellcheck shell=bash
# Helpers shared by the lifecycle scripts. Sourced, never run: the caller sets
# `set -euo pipefail` and SCRIPT_NAME before sourcing.
#
# How these scripts make sure no failure passes for success (`shellcheck -o all` checks the
# first two rules; tests/test_lifecycle_scripts.py runs it):
# - bash suspends `set -e` inside a function called from `if`, `while`, `!`, `&&` or `||`, so no
#   function is called there. Functions report what they did through variables (FILE_CHANGED,
#   UNIT_ACTIVE, ...) and stop the script with `die`.
# - No command's status is hidden: not in a pipeline whose status is ignored, not as an
#   argument of another command (`cmd "$(other)"`), not in `local x=$(...)`.
# - Command substitutions keep `set -e` (inherit_errexit below), so `x=$(f)` stops at the
#   first failure inside f.
# - trap_errors names the line and command of any failure no explicit check reports.

shopt -s inherit_errexit

log() {
  # printf's own clock: no `date` process whose failure would go unnoticed.
  TZ=UTC printf '%(%Y-%m-%dT%H:%M:%SZ)T [%s] %s\n' -1 "${SCRIPT_NAME:-lifecycle}" "$*"
}

warn() {
  log "WARNING: $*" >&2
}

die() {
  log "ERROR: $*" >&2
  exit 1
}

# Makes any failure that reaches `set -e` print which command failed, where, and its status.
# -E carries the trap into functions, command substitutions and subshells.
trap_errors() {
  set -E
  trap 'log "ERROR: line ${LINENO}: \`${BASH_COMMAND}\` exited $?" >&2' ERR
}

# The scripts take no arguments but --help; each defines its own `usage`.
accept_only_help() {
  case "${1:-}" in
    -h | --help)
      usage
      exit 0
      ;;
    "") ;;
    *)
      usage >&2
      die "unknown argument '$1'"
      ;;
  esac
}

# Fails naming every unset variable at once, so one run tells the operator all that is missing.
require_env() {
  local name missing=()
  for name in "$@"; do
    [[ -n "${!name:-}" ]] || missing+=("${name}")
  done
  ((${#missing[@]} == 0)) ||
    die "missing environment variable(s): ${missing[*]}. Export them and run again (see --help)."
}

require_tools() {
  local tool missing=()
  for tool in "$@"; do
    command -v "${tool}" >/dev/null 2>&1 || missing+=("${tool}")
  done
  ((${#missing[@]} == 0)) ||
    die "missing command(s) on PATH: ${missing[*]}. Install them and run again."
}

# S3's naming rules, checked early; they also keep the name safe to embed in JSON, YAML and units.
require_bucket_name() {
  local variable=$1 value=$2
  if [[ ! "${value}" =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ || "${value}" == *..* ]]; then
    die "${variable} '${value}' is not a valid bucket name (3-63 of a-z 0-9 . -)"
  fi
}

# Writes CONTENT and a final newline to PATH with MODE, only when that differs from what PATH
# holds, and sets FILE_CHANGED to true or false. Unchanged files keep their timestamps, which
# keeps reruns quiet.
#
# The new content goes to a temporary file beside PATH, is read back and compared, and then
# renamed over PATH: rename is atomic within a folder, so PATH holds either the old or the new
# content, never a part of it, whatever fails (a full disk, a crash). Empty content is refused:
# every file written here has content, and an empty one means the step that made it failed.
write_if_changed() {
  local path=$1 mode=$2 content=$3 dir tmp
  FILE_CHANGED=false
  [[ -n "${content}" ]] || die "refusing to write an empty ${path}: the step that produced its content failed"
  if [[ -f "${path}" ]] && cmp -s -- "${path}" - <<<"${content}"; then
    return 0
  fi
  dir=${path%/*}
  mkdir -p -- "${dir}" || die "cannot create the folder ${dir} for ${path}"
  tmp=$(mktemp -- "${dir}/.${path##*/}.XXXXXX") ||
    die "cannot create a temporary file in ${dir} to write ${path} (read-only or full file system?)"
  if ! printf '%s\n' "${content}" >"${tmp}"; then
    rm -f -- "${tmp}"
    die "cannot write ${path}: writing its new content failed (disk full?); the old file is unchanged"
  fi
  if ! cmp -s -- "${tmp}" - <<<"${content}"; then
    rm -f -- "${tmp}"
    die "cannot write ${path}: the new content does not read back as written; the old file is unchanged"
  fi
  if ! chmod -- "${mode}" "${tmp}"; then
    rm -f -- "${tmp}"
    die "cannot set mode ${mode} on the new ${path}; the old file is unchanged"
  fi
  if ! mv -f -- "${tmp}" "${path}"; then
    rm -f -- "${tmp}"
    die "cannot replace ${path} with its new content (rename failed); the old file is unchanged"
  fi
  # shellcheck disable=SC2034  # read by the scripts that source this file
  FILE_CHANGED=true
  log "wrote ${path}"
}

# Adds LINE to FILE unless an identical line is there, through write_if_changed (so a full disk
# cannot leave half a line in /etc/fstab); sets FILE_CHANGED.
add_line_once() {
  local file=$1 mode=$2 line=$3 existing=""
  if [[ -f "${file}" ]]; then
    existing=$(<"${file}") || die "cannot read ${file}"
  fi
  if [[ $'\n'"${existing}"$'\n' != *$'\n'"${line}"$'\n'* ]]; then
    existing="${existing:+${existing}$'\n'}${line}"
  fi
  write_if_changed "${file}" "${mode}" "${existing}"
}
