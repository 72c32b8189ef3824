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
# Everything is logged to /var/log/provision/provisioning.log and stdout. On failure the log is
# flushed and the script exits non-zero, so HyperPod marks the node failed and the log reaches
# CloudWatch.
set -euo pipefail

SCRIPT_NAME=on_create
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$SCRIPT_DIR/lib/common.sh"

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
  FAILURE_LOG_FLUSH_SECONDS  pause before exiting on failure, for the log to ship (default 60)
  NODE_ROOT          prefix for every system path (default empty: the real root; tests use a
                     fake one)
USAGE
}

NODE_SETTINGS=(S3_BUCKET_NAME S3_MOUNT_PATH MOUNT_WAIT_SECONDS)

# Reads only the known settings from node.env, as data: the file is never executed.
load_node_env() {
  local file="$SCRIPT_DIR/node.env" line key value
  [[ -f "$file" ]] || return 0
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" =~ ^[[:space:]]*([A-Z0-9_]+)=(.*)$ ]] || continue
    key=${BASH_REMATCH[1]}
    value=${BASH_REMATCH[2]}
    value=${value#[\"\']}
    value=${value%[\"\']}
    [[ " ${NODE_SETTINGS[*]} " == *" $key "* ]] || continue
    [[ -n "${!key:-}" ]] || printf -v "$key" '%s' "$value"
  done <"$file"
}
load_node_env

NODE_ROOT=${NODE_ROOT:-}
LOG_FILE=${LOG_FILE:-$NODE_ROOT/var/log/provision/provisioning.log}
PROC_MOUNTS=${PROC_MOUNTS:-$NODE_ROOT/proc/mounts}
MOUNT_WAIT_SECONDS=${MOUNT_WAIT_SECONDS:-60}
# Time for the CloudWatch agent to ship the log before HyperPod tears the failed node down.
FAILURE_LOG_FLUSH_SECONDS=${FAILURE_LOG_FLUSH_SECONDS:-60}
S3_BUCKET_NAME=${S3_BUCKET_NAME:-}
S3_MOUNT_PATH=${S3_MOUNT_PATH:-/mnt/s3}

# Host paths as the node sees them; $NODE_ROOT is added only where files are touched.
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

host() { printf '%s%s' "$NODE_ROOT" "$1"; }

is_mounted() {
  [[ -r "$PROC_MOUNTS" ]] && awk -v target="$1" '$2 == target { found = 1 } END { exit !found }' "$PROC_MOUNTS"
}

detect_os() {
  local os_release
  os_release=$(host /etc/os-release)
  [[ -r "$os_release" ]] || die "$os_release not found: cannot tell Amazon Linux 2 from 2023"
  local ID="" VERSION_ID=""
  # shellcheck disable=SC1090
  source "$os_release"
  case "$ID:$VERSION_ID" in
    amzn:2) echo al2 ;;
    amzn:2023) echo al2023 ;;
    *) die "unsupported OS '$ID $VERSION_ID' in $os_release: HyperPod EKS nodes run Amazon Linux 2 or 2023" ;;
  esac
}

# Instance-store NVMe is faster and larger than the secondary EBS volume, so it wins when present.
find_data_volume() {
  local waited=0 volume
  while :; do
    for volume in "$NVME_VOLUME" "$EBS_VOLUME"; do
      if is_mounted "$volume"; then
        echo "$volume"
        return 0
      fi
    done
    ((waited < MOUNT_WAIT_SECONDS)) || return 1
    sleep 5
    waited=$((waited + 5))
  done
}

# Sets the top-level `root` key of a containerd TOML file; returns 0 when the file changed.
set_containerd_root() {
  local file=$1 data_root=$2 updated
  if grep -Eq '^[#[:space:]]*root[[:space:]]*=' "$file"; then
    updated=$(sed -E "s|^[#[:space:]]*root[[:space:]]*=.*|root = \"$data_root\"|" "$file")
  else
    # Top-level keys must precede the first [table]; the first line is always before it.
    updated=$(printf 'root = "%s"\n' "$data_root"; cat "$file")
  fi
  printf '%s\n' "$updated" | write_if_changed "$file" 0644
}

configure_containerd_al2() {
  local data_root=$1 changed=1 file
  [[ -f "$(host "$AL2_CONTAINERD_TEMPLATE")" ]] ||
    die "$AL2_CONTAINERD_TEMPLATE not found: is this an EKS-optimized Amazon Linux 2 AMI?"
  # The EKS bootstrap copies the template to config.toml; update the copy too if it already ran.
  for file in "$AL2_CONTAINERD_TEMPLATE" "$CONTAINERD_CONFIG"; do
    [[ -f "$(host "$file")" ]] || continue
    if set_containerd_root "$(host "$file")" "$data_root"; then changed=0; fi
  done
  return "$changed"
}

configure_containerd_al2023() {
  local data_root=$1 config
  config=$(host "$CONTAINERD_CONFIG")
  if [[ -f "$config" ]] && ! grep -q 'config\.d' "$config"; then
    warn "$CONTAINERD_CONFIG does not import config.d; containerd may ignore $AL2023_CONTAINERD_DROPIN"
  fi
  # A drop-in survives nodeadm rewriting config.toml at every boot; version 2 matches the
  # schema of the config that imports it.
  printf 'version = 2\nroot = "%s"\n' "$data_root" |
    write_if_changed "$(host "$AL2023_CONTAINERD_DROPIN")" 0644
}

# Copies what containerd already holds (the pre-pulled pause image) so pods can start without
# pulling it again; only the first time, never over data already on the volume.
seed_containerd_data_root() {
  local data_root=$1 source_dir target_dir
  source_dir=$(host "$CONTAINERD_DEFAULT_ROOT")
  target_dir=$(host "$data_root")
  [[ -d "$target_dir" ]] && return 0
  mkdir -p "$target_dir"
  chmod 0711 "$target_dir"
  if [[ -d "$source_dir" ]] && [[ -n "$(ls -A "$source_dir")" ]]; then
    cp -a "$source_dir/." "$target_dir/"
    log "copied $CONTAINERD_DEFAULT_ROOT to $data_root"
  fi
}

move_containerd() {
  local os=$1 volume=$2 data_root="$2/containerd/data-root" changed=1
  seed_containerd_data_root "$data_root"
  if [[ "$os" == al2 ]]; then
    configure_containerd_al2 "$data_root" && changed=0
  else
    configure_containerd_al2023 "$data_root" && changed=0
  fi
  if ((changed == 0)); then
    log "containerd data root is now $data_root"
    # A running containerd keeps its old root until restarted; a stopped one reads the new one.
    if systemctl is-active --quiet containerd; then systemctl restart containerd; fi
  else
    log "containerd data root already $data_root"
  fi
}

# kubelet keeps its default root dir and the volume is bind-mounted over it: CSI drivers
# (the S3 one included) hard-code /var/lib/kubelet, and a symlink breaks their mount propagation.
move_kubelet() {
  local volume=$1 target="$1/kubelet" entry
  entry="$target $KUBELET_DIR none bind,x-systemd.requires-mounts-for=$volume 0 0"
  if is_mounted "$KUBELET_DIR"; then
    log "$KUBELET_DIR already on $target"
    append_line_once "$(host "$FSTAB")" "$entry" || true
    return 0
  fi
  # Moving files under a running kubelet would corrupt its state; HyperPod normally starts it
  # only after this script, so this is a safety net.
  local was_running=false
  if systemctl is-active --quiet kubelet; then
    systemctl stop kubelet
    was_running=true
  fi
  mkdir -p "$(host "$target")" "$(host "$KUBELET_DIR")"
  if [[ -n "$(ls -A "$(host "$KUBELET_DIR")")" ]]; then
    cp -a "$(host "$KUBELET_DIR")/." "$(host "$target")/"
    find "$(host "$KUBELET_DIR")" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
    log "moved the contents of $KUBELET_DIR to $target"
  fi
  append_line_once "$(host "$FSTAB")" "$entry" || true
  mount --bind "$(host "$target")" "$(host "$KUBELET_DIR")"
  log "$KUBELET_DIR is now bind-mounted from $target"
  if [[ "$was_running" == true ]]; then systemctl start kubelet; fi
}

move_runtime_dirs() {
  local os=$1 volume
  if ! volume=$(find_data_volume); then
    warn "neither $NVME_VOLUME nor $EBS_VOLUME is mounted after ${MOUNT_WAIT_SECONDS}s;" \
      "containerd and kubelet stay on the root volume"
    return 0
  fi
  log "secondary volume: $volume"
  move_containerd "$os" "$volume"
  move_kubelet "$volume"
}

mountpoint_rpm_url() {
  local arch
  case "$(uname -m)" in
    x86_64) arch=x86_64 ;;
    aarch64) arch=arm64 ;;
    *) die "Mountpoint for Amazon S3 has no package for $(uname -m)" ;;
  esac
  echo "https://s3.amazonaws.com/mountpoint-s3-release/latest/$arch/mount-s3.rpm"
}

install_mountpoint() {
  local os=$1
  if command -v mount-s3 >/dev/null 2>&1; then
    log "Mountpoint for Amazon S3 already installed"
    return 0
  fi
  log "installing Mountpoint for Amazon S3"
  # AL2023 ships it in its signed repository (2023.9.20251110 on); older images and AL2 take
  # the release package AWS publishes over HTTPS.
  if [[ "$os" == al2023 ]]; then
    dnf install -y mount-s3 || dnf install -y "$(mountpoint_rpm_url)"
  else
    yum install -y "$(mountpoint_rpm_url)"
  fi
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
  local os=$1
  if [[ -z "$S3_BUCKET_NAME" ]]; then
    log "S3_BUCKET_NAME not set: no S3 mount"
    return 0
  fi
  valid_bucket_name "$S3_BUCKET_NAME" ||
    die "S3_BUCKET_NAME '$S3_BUCKET_NAME' is not a valid bucket name (3-63 of a-z 0-9 . -)"
  [[ "$S3_MOUNT_PATH" == /* && "$S3_MOUNT_PATH" != *[[:space:]]* ]] ||
    die "S3_MOUNT_PATH '$S3_MOUNT_PATH' must be an absolute path without spaces"
  install_mountpoint "$os"
  mkdir -p "$(host "$S3_MOUNT_PATH")"
  if mountpoint_unit | write_if_changed "$(host "/etc/systemd/system/$S3_MOUNT_UNIT")" 0644; then
    systemctl daemon-reload
    systemctl enable "$S3_MOUNT_UNIT"
    systemctl restart "$S3_MOUNT_UNIT"
    log "s3://$S3_BUCKET_NAME mounted at $S3_MOUNT_PATH"
  else
    log "s3://$S3_BUCKET_NAME mount already configured at $S3_MOUNT_PATH"
  fi
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
  if sysctl_settings | write_if_changed "$(host "$SYSCTL_FILE")" 0644; then
    # -e: a key this kernel lacks (no NUMA balancing, say) must not fail the whole node.
    sysctl -e -p "$(host "$SYSCTL_FILE")"
  else
    log "kernel settings already in $SYSCTL_FILE"
  fi
  limits_settings | write_if_changed "$(host "$LIMITS_FILE")" 0644 ||
    log "limits already in $LIMITS_FILE"
}

provision() {
  trap 'log "ERROR: line $LINENO failed: $BASH_COMMAND"' ERR
  log "[start] on_create.sh"
  [[ "$MOUNT_WAIT_SECONDS" =~ ^[0-9]+$ ]] ||
    die "MOUNT_WAIT_SECONDS '$MOUNT_WAIT_SECONDS' must be a whole number of seconds"
  local os
  os=$(detect_os)
  log "operating system: $os"
  move_runtime_dirs "$os"
  mount_s3_bucket "$os"
  tune_system
  log "[done] on_create.sh"
}

main() {
  accept_only_help "$@"
  mkdir -p "$(dirname "$LOG_FILE")"
  local status
  set +e
  (set -eE; provision) 2>&1 | tee -a "$LOG_FILE"
  status=${PIPESTATUS[0]}
  set -e
  if ((status != 0)); then
    log "[failed] on_create.sh exited with status $status; log: $LOG_FILE" | tee -a "$LOG_FILE" >&2
    sync
    sleep "$FAILURE_LOG_FLUSH_SECONDS"
    exit "$status"
  fi
}

main "$@"
