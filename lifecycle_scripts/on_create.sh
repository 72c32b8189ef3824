#!/usr/bin/env bash
# Entry point SageMaker HyperPod runs as root on every new node of an EKS-orchestrated
# cluster, from the folder the lifecycle scripts were downloaded to.
#
# Steps, each safe to repeat (a second run changes nothing):
#   1. containerd's data root and kubelet's directory move to the large secondary volume
#      (/opt/dlami/nvme when instance-store NVMe is mounted there, else /opt/sagemaker), so
#      images and pod volumes do not fill the small root volume. Amazon Linux 2 and 2023.
#   2. Optional: Mountpoint for Amazon S3 mounts S3_BUCKET_NAME at S3_MOUNT_PATH, at every boot.
#   3. Kernel and limit tuning for training workloads.
#
# Any failure fails the node, and HyperPod replaces it: a node that looks healthy while its
# containerd still writes to the root volume is worse than a node that failed. Every failure
# prints a line naming what failed (lib/common.sh says how), configuration files are replaced
# atomically, and a restart or reload that failed after its file was written is done by the
# next run (see begin_follow_up).
#
# Everything is logged to /var/log/provision/provisioning.log and stdout. On failure the log is
# flushed and the script exits non-zero, so HyperPod marks the node failed and the log reaches
# CloudWatch.
set -euo pipefail

SCRIPT_NAME=on_create
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/common.sh
source "${SCRIPT_DIR}/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: on_create.sh [--help]

Prepares a SageMaker HyperPod node (EKS orchestrator). HyperPod runs it as root; no arguments.

HyperPod passes no environment, so the settings below may also come from a file node.env
beside this script (KEY=value lines); a variable set in the environment wins over the file.

Environment:
  S3_BUCKET_NAME     bucket to mount with Mountpoint for Amazon S3 (unset: no S3 mount)
  S3_MOUNT_PATH      where to mount it (default /mnt/s3)
  MOUNT_WAIT_SECONDS how long to wait for the secondary volume to be mounted (default 60)
  ALLOW_ROOT_VOLUME  true: when no secondary volume is mounted, warn and keep containerd and
                     kubelet on the root volume; false (default): fail the node
  FAILURE_LOG_FLUSH_SECONDS  pause before exiting on failure, for the log to ship (default 60)
  NODE_ROOT          prefix for every system path (default empty: the real root; tests use a
                     fake one)

Exit status: 0 when every step succeeded, non-zero otherwise (the log names what failed).
USAGE
}

NODE_SETTINGS=(S3_BUCKET_NAME S3_MOUNT_PATH MOUNT_WAIT_SECONDS ALLOW_ROOT_VOLUME)

NODE_ROOT=${NODE_ROOT:-}
LOG_FILE=${LOG_FILE:-${NODE_ROOT}/var/log/provision/provisioning.log}
PROC_MOUNTS=${PROC_MOUNTS:-${NODE_ROOT}/proc/mounts}
# Time for the CloudWatch agent to ship the log before HyperPod tears the failed node down.
FAILURE_LOG_FLUSH_SECONDS=${FAILURE_LOG_FLUSH_SECONDS:-60}

# Host paths as the node sees them; ${NODE_ROOT} is added only where files are touched.
NVME_VOLUME=/opt/dlami/nvme
EBS_VOLUME=/opt/sagemaker
CONTAINERD_DEFAULT_ROOT=/var/lib/containerd
KUBELET_DIR=/var/lib/kubelet
AL2_CONTAINERD_TEMPLATE=/etc/eks/containerd/containerd-config.toml
CONTAINERD_CONFIG=/etc/containerd/config.toml
# nodeadm's containerd config imports this folder on AL2023 (imports = [".../config.d/*.toml"]).
AL2023_CONTAINERD_DROPIN=/etc/containerd/config.d/10-data-root.toml
FSTAB=/etc/fstab
S3_MOUNT_UNIT=mountpoint-s3.service
SYSCTL_FILE=/etc/sysctl.d/90-ml-training.conf
LIMITS_FILE=/etc/security/limits.d/90-ml-training.conf
# Markers of follow-ups (restarts, reloads) still owed after a failed run; on the root volume,
# so they survive a reboot as the files they belong to do.
STATE_DIR=/var/lib/on_create
MOUNTPOINT_RELEASE_URL=https://s3.amazonaws.com/mountpoint-s3-release/latest
# A stalled download must fail the node in bounded time, not hang it.
DOWNLOAD_CONNECT_TIMEOUT_SECONDS=10
DOWNLOAD_TIMEOUT_SECONDS=300

# Set by the functions below (functions report through variables: see lib/common.sh).
OS=""
DATA_VOLUME=""
MOUNT_POINTS=" "
UNIT_ACTIVE=false
FILE_CHANGED=false
CONFIG_CHANGED=false
FOLLOW_UP_PENDING=false
DOWNLOAD_DIR=""
RPM_URL=""
RPM_FILE=""

# Reads only the known settings from node.env, as data: the file is never executed.
load_node_env() {
  local file="${SCRIPT_DIR}/node.env" line key value
  [[ -e "${file}" ]] || return 0
  [[ -f "${file}" && -r "${file}" ]] || die "${file} exists but is not a readable file"
  while IFS= read -r line || [[ -n "${line}" ]]; do
    [[ "${line}" =~ ^[[:space:]]*([A-Z0-9_]+)=(.*)$ ]] || continue
    key=${BASH_REMATCH[1]}
    value=${BASH_REMATCH[2]}
    value=${value#[\"\']}
    value=${value%[\"\']}
    [[ " ${NODE_SETTINGS[*]} " == *" ${key} "* ]] || continue
    [[ -n "${!key:-}" ]] || printf -v "${key}" '%s' "${value}"
  done <"${file}"
}

# Every setting is checked before anything on the node changes.
read_settings() {
  load_node_env
  S3_BUCKET_NAME=${S3_BUCKET_NAME:-}
  S3_MOUNT_PATH=${S3_MOUNT_PATH:-/mnt/s3}
  MOUNT_WAIT_SECONDS=${MOUNT_WAIT_SECONDS:-60}
  ALLOW_ROOT_VOLUME=${ALLOW_ROOT_VOLUME:-false}
  [[ "${MOUNT_WAIT_SECONDS}" =~ ^[0-9]+$ ]] ||
    die "MOUNT_WAIT_SECONDS '${MOUNT_WAIT_SECONDS}' must be a whole number of seconds"
  [[ "${ALLOW_ROOT_VOLUME}" == true || "${ALLOW_ROOT_VOLUME}" == false ]] ||
    die "ALLOW_ROOT_VOLUME '${ALLOW_ROOT_VOLUME}' must be true or false"
  if [[ -n "${S3_BUCKET_NAME}" ]]; then
    require_bucket_name S3_BUCKET_NAME "${S3_BUCKET_NAME}"
    # The path goes into a systemd unit, where spaces split words and % starts a specifier.
    [[ "${S3_MOUNT_PATH}" =~ ^/[A-Za-z0-9._/-]+$ ]] ||
      die "S3_MOUNT_PATH '${S3_MOUNT_PATH}' must be an absolute path of letters, digits, '.', '_', '-' and '/'"
  fi
}

# Sets OS to al2 or al2023. os-release is read as data, like node.env.
detect_os() {
  local os_release="${NODE_ROOT}/etc/os-release" key value id="" version=""
  [[ -r "${os_release}" ]] || die "${os_release} not found: cannot tell Amazon Linux 2 from 2023"
  while IFS='=' read -r key value || [[ -n "${key}" ]]; do
    value=${value#[\"\']}
    value=${value%[\"\']}
    case "${key}" in
      ID) id=${value} ;;
      VERSION_ID) version=${value} ;;
      *) ;;
    esac
  done <"${os_release}"
  case "${id}:${version}" in
    amzn:2) OS=al2 ;;
    amzn:2023) OS=al2023 ;;
    *) die "unsupported OS '${id} ${version}' in ${os_release}: HyperPod EKS nodes run Amazon Linux 2 or 2023" ;;
  esac
}

# Sets MOUNT_POINTS to the mount points in /proc/mounts, space-separated and space-padded
# (the kernel writes a space inside a path as \040, so spaces only separate).
read_mount_points() {
  local mount_point
  [[ -r "${PROC_MOUNTS}" ]] || die "cannot read ${PROC_MOUNTS}: cannot tell which volumes are mounted"
  MOUNT_POINTS=" "
  while read -r _ mount_point _; do
    MOUNT_POINTS+="${mount_point} "
  done <"${PROC_MOUNTS}"
}

# Sets DATA_VOLUME to the secondary volume, waiting up to MOUNT_WAIT_SECONDS for one; empty
# when none is mounted. Instance-store NVMe is faster and larger than the secondary EBS volume,
# so it wins when present.
find_data_volume() {
  local waited=0 volume
  DATA_VOLUME=""
  while :; do
    read_mount_points
    for volume in "${NVME_VOLUME}" "${EBS_VOLUME}"; do
      if [[ "${MOUNT_POINTS}" == *" ${volume} "* ]]; then
        DATA_VOLUME=${volume}
        return 0
      fi
    done
    ((waited < MOUNT_WAIT_SECONDS)) || return 0
    sleep 5 || die "sleep failed while waiting for the secondary volume"
    waited=$((waited + 5))
  done
}

# A follow-up (restart, reload) that a configuration change needs. Its marker is written before
# the change and removed once the follow-up succeeded: when a run fails in between, the next run
# finds the file up to date but the marker present (FOLLOW_UP_PENDING=true), and still does the
# follow-up instead of reporting success while the old configuration runs.
begin_follow_up() {
  local marker="${NODE_ROOT}${STATE_DIR}/$1.pending"
  FOLLOW_UP_PENDING=false
  [[ ! -e "${marker}" ]] || FOLLOW_UP_PENDING=true
  mkdir -p -- "${marker%/*}" || die "cannot create ${marker%/*}"
  : >"${marker}" || die "cannot write ${marker}"
}

end_follow_up() {
  local marker="${NODE_ROOT}${STATE_DIR}/$1.pending"
  rm -f -- "${marker}" || die "cannot remove ${marker}"
}

# Sets UNIT_ACTIVE. `systemctl is-active` exits 0 for an active unit and 3 (4: unknown unit) for
# one that is not running; any other status means systemd could not be asked, and that must not
# pass for "not running".
check_unit_active() {
  local unit=$1 status=0
  systemctl is-active --quiet "${unit}" || status=$?
  case "${status}" in
    0) UNIT_ACTIVE=true ;;
    3 | 4) UNIT_ACTIVE=false ;;
    *) die "cannot ask systemd whether ${unit} is running (systemctl is-active exited ${status})" ;;
  esac
}

# A running unit keeps its old configuration until restarted; a stopped one reads the new one.
restart_if_running() {
  local unit=$1
  check_unit_active "${unit}"
  [[ "${UNIT_ACTIVE}" == true ]] || return 0
  systemctl restart "${unit}" ||
    die "cannot restart ${unit} (systemctl restart exited $?): it still runs with its old configuration"
  log "restarted ${unit}"
}

# Sets the top-level `root` key of the containerd TOML file FILE to DATA_ROOT; sets FILE_CHANGED.
# Keys after the first [table] belong to that table, so only lines before it are touched.
set_containerd_root() {
  local file=$1 data_root=$2 original updated want original_newlines updated_newlines
  want="root = \"${data_root}\""
  original=$(<"${file}") || die "cannot read ${file}"
  [[ -n "${original}" ]] || die "${file} is empty: is this an EKS-optimized AMI?"
  updated=$(sed -E "/^[[:space:]]*\\[/,\$!s|^[[:space:]]*root[[:space:]]*=.*|${want}|" "${file}") ||
    die "cannot set the containerd data root in ${file}: sed exited $?; the file is unchanged"
  # sed never adds or removes a line here: fewer lines means its output is cut short, and
  # writing that would leave containerd without its configuration.
  original_newlines=${original//[!$'\n']/}
  updated_newlines=${updated//[!$'\n']/}
  if [[ -z "${updated}" ]] || ((${#updated_newlines} != ${#original_newlines})); then
    die "cannot set the containerd data root in ${file}: sed returned $((${#updated_newlines} + 1)) lines" \
      "for $((${#original_newlines} + 1)); the file is unchanged"
  fi
  if [[ $'\n'"${updated}"$'\n' != *$'\n'"${want}"$'\n'* ]]; then
    # No top-level root key yet: the first line always precedes the first table.
    updated="${want}"$'\n'"${updated}"
  fi
  write_if_changed "${file}" 0644 "${updated}"
}

configure_containerd_al2() {
  local data_root=$1 file path
  [[ -f "${NODE_ROOT}${AL2_CONTAINERD_TEMPLATE}" ]] ||
    die "${AL2_CONTAINERD_TEMPLATE} not found: is this an EKS-optimized Amazon Linux 2 AMI?"
  # The EKS bootstrap copies the template to config.toml; update the copy too if it already ran.
  for file in "${AL2_CONTAINERD_TEMPLATE}" "${CONTAINERD_CONFIG}"; do
    path="${NODE_ROOT}${file}"
    [[ -f "${path}" ]] || continue
    set_containerd_root "${path}" "${data_root}"
    [[ "${FILE_CHANGED}" == false ]] || CONFIG_CHANGED=true
  done
}

configure_containerd_al2023() {
  local data_root=$1 config="${NODE_ROOT}${CONTAINERD_CONFIG}" status=0
  # nodeadm writes config.toml importing config.d at boot; a config that does not import it
  # would ignore the drop-in and keep the data on the root volume.
  if [[ -f "${config}" ]]; then
    grep -q 'config\.d' -- "${config}" || status=$?
    case "${status}" in
      0) ;;
      1) die "${CONTAINERD_CONFIG} does not import config.d: containerd would ignore" \
        "${AL2023_CONTAINERD_DROPIN} and keep its data on the root volume" ;;
      *) die "cannot read ${CONTAINERD_CONFIG} (grep exited ${status})" ;;
    esac
  fi
  # A drop-in survives nodeadm rewriting config.toml at every boot; version 2 matches the
  # schema of the config that imports it.
  write_if_changed "${NODE_ROOT}${AL2023_CONTAINERD_DROPIN}" 0644 \
    "version = 2"$'\n'"root = \"${data_root}\""
  CONFIG_CHANGED=${FILE_CHANGED}
}

# Copies what containerd already holds (the pre-pulled pause image) so pods can start without
# pulling it again; only the first time, never over data already on the volume. The copy is
# made beside the target and renamed into place, so a copy cut short (full volume) is redone
# by the next run instead of being taken for a finished one.
seed_containerd_data_root() {
  local data_root=$1 source_dir="${NODE_ROOT}${CONTAINERD_DEFAULT_ROOT}" target_dir partial entries=""
  target_dir="${NODE_ROOT}${data_root}"
  [[ ! -d "${target_dir}" ]] || return 0
  partial="${target_dir}.partial"
  rm -rf -- "${partial}" || die "cannot remove the unfinished copy ${partial}"
  mkdir -p -- "${partial}" || die "cannot create ${partial}"
  chmod 0711 -- "${partial}" || die "cannot set mode 0711 on ${partial}"
  if [[ -d "${source_dir}" ]]; then
    entries=$(find "${source_dir}" -mindepth 1 -maxdepth 1 -printf x) || die "cannot list ${source_dir}"
  fi
  if [[ -n "${entries}" ]]; then
    if ! cp -a -- "${source_dir}/." "${partial}/"; then
      rm -rf -- "${partial}" # frees what the copy took, on a volume that may be full
      die "cannot copy ${CONTAINERD_DEFAULT_ROOT} to ${data_root} (cp failed; volume full?)"
    fi
    log "copied ${CONTAINERD_DEFAULT_ROOT} to ${data_root}"
  fi
  mv -T -- "${partial}" "${target_dir}" || die "cannot rename ${partial} to ${target_dir}"
}

move_containerd() {
  local data_root="$1/containerd/data-root"
  seed_containerd_data_root "${data_root}"
  begin_follow_up containerd-restart
  CONFIG_CHANGED=false
  if [[ "${OS}" == al2 ]]; then
    configure_containerd_al2 "${data_root}"
  else
    configure_containerd_al2023 "${data_root}"
  fi
  if [[ "${CONFIG_CHANGED}" == true || "${FOLLOW_UP_PENDING}" == true ]]; then
    log "containerd data root is now ${data_root}"
    restart_if_running containerd
  else
    log "containerd data root already ${data_root}"
  fi
  end_follow_up containerd-restart
}

# kubelet keeps its default root dir and the volume is bind-mounted over it: CSI drivers
# (the S3 one included) hard-code /var/lib/kubelet, and a symlink breaks their mount propagation.
move_kubelet() {
  local volume=$1 target="$1/kubelet" kubelet_dir="${NODE_ROOT}${KUBELET_DIR}" entry entries was_running
  entry="${target} ${KUBELET_DIR} none bind,x-systemd.requires-mounts-for=${volume} 0 0"
  read_mount_points
  if [[ "${MOUNT_POINTS}" == *" ${KUBELET_DIR} "* ]]; then
    log "${KUBELET_DIR} already on ${target}"
    add_line_once "${NODE_ROOT}${FSTAB}" 0644 "${entry}"
    return 0
  fi
  # Moving files under a running kubelet would corrupt its state; HyperPod normally starts it
  # only after this script, so this is a safety net.
  check_unit_active kubelet
  was_running=${UNIT_ACTIVE}
  if [[ "${was_running}" == true ]]; then
    systemctl stop kubelet || die "cannot stop kubelet to move ${KUBELET_DIR} (systemctl stop exited $?)"
  fi
  mkdir -p -- "${NODE_ROOT}${target}" "${kubelet_dir}" || die "cannot create ${target} and ${KUBELET_DIR}"
  entries=$(find "${kubelet_dir}" -mindepth 1 -maxdepth 1 -printf x) || die "cannot list ${KUBELET_DIR}"
  if [[ -n "${entries}" ]]; then
    # Copy first, delete after: a failed copy leaves the originals where kubelet expects them.
    cp -a -- "${kubelet_dir}/." "${NODE_ROOT}${target}/" ||
      die "cannot copy ${KUBELET_DIR} to ${target} (cp exited $?; volume full?)"
    find "${kubelet_dir}" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} + ||
      die "cannot empty ${KUBELET_DIR} after copying it to ${target}"
    log "moved the contents of ${KUBELET_DIR} to ${target}"
  fi
  add_line_once "${NODE_ROOT}${FSTAB}" 0644 "${entry}"
  mount --bind "${NODE_ROOT}${target}" "${kubelet_dir}" ||
    die "cannot bind-mount ${target} over ${KUBELET_DIR} (mount exited $?)"
  log "${KUBELET_DIR} is now bind-mounted from ${target}"
  if [[ "${was_running}" == true ]]; then
    systemctl start kubelet || die "cannot start kubelet again (systemctl start exited $?)"
  fi
}

move_runtime_dirs() {
  find_data_volume
  if [[ -z "${DATA_VOLUME}" ]]; then
    if [[ "${ALLOW_ROOT_VOLUME}" == true ]]; then
      warn "neither ${NVME_VOLUME} nor ${EBS_VOLUME} is mounted after ${MOUNT_WAIT_SECONDS}s;" \
        "containerd and kubelet stay on the root volume (ALLOW_ROOT_VOLUME=true)"
      return 0
    fi
    die "neither ${NVME_VOLUME} nor ${EBS_VOLUME} is mounted after ${MOUNT_WAIT_SECONDS}s, so" \
      "containerd and kubelet would fill the root volume. Give the instance group an EBS volume" \
      "(InstanceStorageConfigs), or set ALLOW_ROOT_VOLUME=true in node.env to accept the root volume."
  fi
  log "secondary volume: ${DATA_VOLUME}"
  move_containerd "${DATA_VOLUME}"
  move_kubelet "${DATA_VOLUME}"
}

remove_download() {
  [[ -z "${DOWNLOAD_DIR}" ]] || rm -rf -- "${DOWNLOAD_DIR}"
}

# Sets RPM_URL and RPM_FILE: the release package AWS publishes, downloaded over HTTPS only.
download_mountpoint_rpm() {
  local machine arch status=0
  machine=$(uname -m) || die "cannot tell this machine's architecture (uname -m failed)"
  case "${machine}" in
    x86_64) arch=x86_64 ;;
    aarch64) arch=arm64 ;;
    *) die "Mountpoint for Amazon S3 has no package for ${machine}" ;;
  esac
  RPM_URL="${MOUNTPOINT_RELEASE_URL}/${arch}/mount-s3.rpm"
  DOWNLOAD_DIR=$(mktemp -d) || die "cannot create a temporary folder for the Mountpoint download"
  RPM_FILE="${DOWNLOAD_DIR}/mount-s3.rpm"
  log "downloading ${RPM_URL}"
  curl --fail --silent --show-error --location --proto '=https' --retry 3 \
    --connect-timeout "${DOWNLOAD_CONNECT_TIMEOUT_SECONDS}" --max-time "${DOWNLOAD_TIMEOUT_SECONDS}" \
    --output "${RPM_FILE}" "${RPM_URL}" || status=$?
  ((status == 0)) || die "cannot download Mountpoint for Amazon S3 from ${RPM_URL} (curl exited ${status})"
  [[ -s "${RPM_FILE}" ]] || die "the download of ${RPM_URL} is empty"
}

install_mountpoint() {
  local status=0
  if command -v mount-s3 >/dev/null 2>&1; then
    log "Mountpoint for Amazon S3 already installed"
    return 0
  fi
  log "installing Mountpoint for Amazon S3"
  if [[ "${OS}" == al2023 ]]; then
    # AL2023 ships it in its signed repository (2023.9.20251110 on); older images take the
    # release package.
    dnf install -y mount-s3 || status=$?
    if ((status != 0)); then
      warn "dnf cannot install mount-s3 from this image's repositories (exit ${status}); trying the release package"
      download_mountpoint_rpm
      dnf install -y "${RPM_FILE}" ||
        die "cannot install Mountpoint for Amazon S3 from ${RPM_URL} (dnf install exited $?)"
    fi
  else
    download_mountpoint_rpm
    yum install -y "${RPM_FILE}" ||
      die "cannot install Mountpoint for Amazon S3 from ${RPM_URL} (yum install exited $?)"
  fi
  command -v mount-s3 >/dev/null 2>&1 ||
    die "mount-s3 is not on PATH although its installation reported success"
}

mountpoint_unit() {
  cat <<UNIT
# Mounts s3://$S3_BUCKET_NAME at $S3_MOUNT_PATH at every boot (written by on_create.sh).
[Unit]
Description=Mountpoint for Amazon S3: $S3_BUCKET_NAME at $S3_MOUNT_PATH
Wants=network-online.target
After=network-online.target
AssertPathIsDirectory=$S3_MOUNT_PATH

[Service]
Type=forking
# --allow-other: training containers often run as a non-root user and must read the data.
ExecStart=/usr/bin/mount-s3 --allow-other $S3_BUCKET_NAME $S3_MOUNT_PATH
ExecStop=/usr/bin/umount $S3_MOUNT_PATH
Restart=on-failure
RestartSec=10

[Install]
WantedBy=remote-fs.target
UNIT
}

mount_s3_bucket() {
  local unit
  if [[ -z "${S3_BUCKET_NAME}" ]]; then
    log "S3_BUCKET_NAME not set: no S3 mount"
    return 0
  fi
  install_mountpoint
  mkdir -p -- "${NODE_ROOT}${S3_MOUNT_PATH}" || die "cannot create the mount point ${S3_MOUNT_PATH}"
  unit=$(mountpoint_unit)
  begin_follow_up s3-mount
  write_if_changed "${NODE_ROOT}/etc/systemd/system/${S3_MOUNT_UNIT}" 0644 "${unit}"
  if [[ "${FILE_CHANGED}" == true || "${FOLLOW_UP_PENDING}" == true ]]; then
    systemctl daemon-reload ||
      die "cannot reload systemd after writing ${S3_MOUNT_UNIT} (systemctl daemon-reload exited $?)"
    systemctl enable "${S3_MOUNT_UNIT}" ||
      die "cannot enable ${S3_MOUNT_UNIT}: the bucket would not be mounted at boot (systemctl enable exited $?)"
    systemctl restart "${S3_MOUNT_UNIT}" ||
      die "cannot start ${S3_MOUNT_UNIT}: s3://${S3_BUCKET_NAME} is not mounted at ${S3_MOUNT_PATH}" \
        "(systemctl restart exited $?; see journalctl -u ${S3_MOUNT_UNIT})"
    log "s3://${S3_BUCKET_NAME} mounted at ${S3_MOUNT_PATH}"
  else
    log "s3://${S3_BUCKET_NAME} mount already configured at ${S3_MOUNT_PATH}"
  fi
  end_follow_up s3-mount
}

sysctl_settings() {
  cat <<'SYSCTL'
# Kernel settings for ML training nodes (written by on_create.sh).

# Data loaders, tokenizer caches and Kubernetes itself watch many files; the default 128
# instances / 8192 watches run out and surface as "too many open files".
fs.inotify.max_user_instances = 8192
fs.inotify.max_user_watches = 524288

# Large models memory-map many shards and libraries; the default 65530 maps aborts them.
vm.max_map_count = 1048576

# Automatic NUMA page migration stalls pinned GPU and EFA buffers and adds step-time jitter.
kernel.numa_balancing = 0

# Bigger socket buffers let single TCP streams (S3, checkpoint uploads, NCCL socket fallback)
# reach the instance's 100-3200 Gbps network.
net.core.rmem_max = 67108864
net.core.wmem_max = 67108864
net.ipv4.tcp_rmem = 4096 87380 67108864
net.ipv4.tcp_wmem = 4096 65536 67108864
net.core.netdev_max_backlog = 30000

# Every rank connects to the rendezvous store at once at job start; a short accept queue drops
# connections and the job fails to start.
net.core.somaxconn = 4096
net.ipv4.tcp_max_syn_backlog = 8192

# Large clusters with many pods outgrow the default neighbour table (1024), which drops packets.
net.ipv4.neigh.default.gc_thresh1 = 8192
net.ipv4.neigh.default.gc_thresh2 = 32768
net.ipv4.neigh.default.gc_thresh3 = 65536
SYSCTL
}

limits_settings() {
  cat <<'LIMITS'
# Limits for login sessions on training nodes (written by on_create.sh). Containers get theirs
# from the container runtime; these cover operators running tools on the host.

# Distributed jobs open a socket per peer plus many data files.
*    soft    nofile    1048576
*    hard    nofile    1048576

# EFA and GPUDirect RDMA pin (lock) large buffers; a limit makes registration fail.
*    soft    memlock   unlimited
*    hard    memlock   unlimited
LIMITS
}

tune_system() {
  local settings
  settings=$(sysctl_settings)
  begin_follow_up sysctl
  write_if_changed "${NODE_ROOT}${SYSCTL_FILE}" 0644 "${settings}"
  if [[ "${FILE_CHANGED}" == true || "${FOLLOW_UP_PENDING}" == true ]]; then
    # -e: a key this kernel lacks (no NUMA balancing, say) must not fail the whole node.
    sysctl -e -p "${NODE_ROOT}${SYSCTL_FILE}" ||
      die "cannot apply the kernel settings in ${SYSCTL_FILE} (sysctl exited $?)"
  else
    log "kernel settings already in ${SYSCTL_FILE}"
  fi
  end_follow_up sysctl
  settings=$(limits_settings)
  write_if_changed "${NODE_ROOT}${LIMITS_FILE}" 0644 "${settings}"
  [[ "${FILE_CHANGED}" == true ]] || log "limits already in ${LIMITS_FILE}"
}

provision() {
  trap_errors
  trap remove_download EXIT
  log "[start] on_create.sh"
  read_settings
  detect_os
  log "operating system: ${OS}"
  move_runtime_dirs
  mount_s3_bucket
  tune_system
  log "[done] on_create.sh"
}

# Ends a failed run: the last line names the status and the log, the log is flushed to disk,
# and the CloudWatch agent gets time to ship it before HyperPod replaces the node.
report_failure() {
  local status=$1 line
  line=$(log "[failed] on_create.sh exited with status ${status}; log: ${LOG_FILE}")
  printf '%s\n' "${line}" >&2
  printf '%s\n' "${line}" >>"${LOG_FILE}" || warn "cannot append to ${LOG_FILE}"
  sync || warn "sync failed: the end of ${LOG_FILE} may not be on disk"
  sleep "${FAILURE_LOG_FLUSH_SECONDS}" || warn "the pause for log shipping was cut short"
  exit "${status}"
}

main() {
  local log_dir status
  local -a statuses
  accept_only_help "$@"
  [[ "${FAILURE_LOG_FLUSH_SECONDS}" =~ ^[0-9]+$ ]] ||
    die "FAILURE_LOG_FLUSH_SECONDS '${FAILURE_LOG_FLUSH_SECONDS}' must be a whole number of seconds"
  log_dir=${LOG_FILE%/*}
  mkdir -p -- "${log_dir}" || die "cannot create the log folder ${log_dir}"
  # The pipeline's statuses are read, not left to `set -e`: provision's tells whether the node
  # is ready, tee's whether the log was written.
  set +e
  (
    set -e
    provision
  ) 2>&1 | tee -a -- "${LOG_FILE}"
  statuses=("${PIPESTATUS[@]}")
  set -e
  status=${statuses[0]}
  if ((status == 0 && statuses[1] != 0)); then
    status=${statuses[1]}
    log "ERROR: cannot write the log ${LOG_FILE} (tee exited ${status}); is the root volume full?" >&2
  fi
  ((status == 0)) || report_failure "${status}"
}

main "$@"
