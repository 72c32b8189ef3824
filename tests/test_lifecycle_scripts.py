"""The node and operator scripts in lifecycle_scripts/, run for real by bash.

on_create.sh runs against a fake node root (NODE_ROOT) and the commands that would change a
host (systemctl, mount, dnf, yum, sysctl, aws, kubectl, ...) are recording stand-ins placed first
on PATH. Each stand-in appends its command line to calls.log and, where a later step depends on
it, imitates the effect (a bind mount appears in the fake /proc/mounts, an installed package puts
its command on PATH).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "lifecycle_scripts"
ON_CREATE = SCRIPTS / "on_create.sh"
SETUP_CSI = SCRIPTS / "setup_s3_mountpoint_csi.sh"
RIG = SCRIPTS / "install_rig_dependencies.sh"

# The stand-ins: every one records itself; the case arms imitate the effects later steps read.
STUB = r"""#!/usr/bin/env bash
name=$(basename "$0")
printf '%s %s\n' "$name" "$*" >>"$STUB_DIR/calls.log"
if [[ -n "${FAIL_COMMAND:-}" && "$name $*" == $FAIL_COMMAND ]]; then
  echo "$name: simulated failure" >&2
  exit 1
fi
case "$name" in
  mount)
    if [[ "$1" == --bind ]]; then
      printf '%s %s none rw,bind 0 0\n' "${2#"$NODE_ROOT"}" "${3#"$NODE_ROOT"}" >>"$NODE_ROOT/proc/mounts"
    fi ;;
  dnf|yum)
    if [[ "$*" == *mount-s3* ]]; then
      printf '#!/usr/bin/env bash\necho mount-s3 stand-in\n' >"$STUB_DIR/bin/mount-s3"
      chmod +x "$STUB_DIR/bin/mount-s3"
    fi ;;
  systemctl)
    if [[ "$1" == is-active ]]; then exit "${CONTAINERD_ACTIVE_STATUS:-3}"; fi ;;
  aws)
    exec "$STUB_DIR/fake_aws" "$@" ;;
  kubectl)
    args=("$@")
    for ((i = 0; i < ${#args[@]}; i++)); do
      if [[ "${args[i]}" == -f ]]; then
        n=$(ls "$STUB_DIR"/applied-*.yaml 2>/dev/null | wc -l)
        cp "${args[i + 1]}" "$STUB_DIR/applied-$n.yaml"
      fi
    done ;;
esac
exit 0
"""

HOST_COMMANDS = ["systemctl", "mount", "dnf", "yum", "sysctl", "modprobe", "sleep", "sync"]

AL2_CONTAINERD_TEMPLATE = textwrap.dedent(
    """\
    version = 2
    root = "/var/lib/containerd"
    state = "/run/containerd"

    [grpc]
    address = "/run/containerd/containerd.sock"

    [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    """
)

AL2023_CONTAINERD_CONFIG = textwrap.dedent(
    """\
    version = 2
    root = "/var/lib/containerd"
    state = "/run/containerd"
    imports = ["/etc/containerd/config.d/*.toml"]
    """
)


class Stubs:
    """A folder of recording stand-ins, put first on PATH."""

    def __init__(self, root: Path, commands: list[str]) -> None:
        self.dir = root
        self.bin = root / "bin"
        self.bin.mkdir(parents=True)
        self.log = root / "calls.log"
        self.log.touch()
        for command in commands:
            self.add(command)

    def add(self, command: str) -> None:
        path = self.bin / command
        path.write_text(STUB)
        path.chmod(0o755)

    def remove(self, command: str) -> None:
        (self.bin / command).unlink()

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "STUB_DIR": str(self.dir),
            "HOME": str(self.dir),
            "LANG": "C.UTF-8",
        }
        env.update(extra)
        return env


def run(script: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(script), *args], env=env, capture_output=True, text=True, timeout=60
    )


def make_node(root: Path, os_version: str) -> None:
    """A fake node as HyperPod hands it to on_create.sh: secondary volume mounted, kubelet
    and containerd state on the root volume."""
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(
        f'NAME="Amazon Linux"\nID="amzn"\nVERSION_ID="{os_version}"\n'
    )
    if os_version == "2":
        (root / "etc/eks/containerd").mkdir(parents=True)
        (root / "etc/eks/containerd/containerd-config.toml").write_text(AL2_CONTAINERD_TEMPLATE)
    else:
        (root / "etc/containerd").mkdir(parents=True)
        (root / "etc/containerd/config.toml").write_text(AL2023_CONTAINERD_CONFIG)
    (root / "etc/fstab").write_text("UUID=abc / xfs defaults,noatime 1 1\n")
    (root / "proc").mkdir()
    (root / "proc/mounts").write_text(
        "/dev/nvme0n1p1 / xfs rw,noatime 0 0\n/dev/nvme1n1 /opt/sagemaker ext4 rw,relatime 0 0\n"
    )
    (root / "opt/sagemaker").mkdir(parents=True)
    kubelet = root / "var/lib/kubelet"
    (kubelet / "pki").mkdir(parents=True)
    (kubelet / "kubeconfig").write_text("apiVersion: v1\nkind: Config\n")
    (kubelet / "pki/kubelet.crt").write_text("certificate\n")
    pause = root / "var/lib/containerd/io.containerd.content.v1.content/blobs"
    pause.mkdir(parents=True)
    (pause / "sha256-pause").write_text("pause image layer\n")


def snapshot(root: Path, skip: set[str]) -> dict[str, tuple]:
    """Every path under root with its type, mode and content (or link target)."""
    state: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if rel in skip:
            continue
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            state[rel] = ("link", os.readlink(path))
        elif path.is_dir():
            state[rel] = ("dir", stat.S_IMODE(info.st_mode))
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            state[rel] = ("file", stat.S_IMODE(info.st_mode), digest)
    return state


@pytest.fixture
def node(tmp_path: Path):
    def _node(os_version: str, **extra: str):
        root = tmp_path / "root"
        make_node(root, os_version)
        stubs = Stubs(tmp_path / "stubs", HOST_COMMANDS)
        env = stubs.env(
            NODE_ROOT=str(root), MOUNT_WAIT_SECONDS="0", FAILURE_LOG_FLUSH_SECONDS="0", **extra
        )
        return root, stubs, env

    return _node


LOG = "var/log/provision/provisioning.log"


# ---------------------------------------------------------------------------- on_create.sh


@pytest.mark.parametrize("os_version", ["2", "2023"])
def test_on_create_moves_containerd_and_kubelet_to_the_secondary_volume(node, os_version):
    root, stubs, env = node(os_version)

    result = run(ON_CREATE, env)

    assert result.returncode == 0, result.stderr + result.stdout
    data_root = 'root = "/opt/sagemaker/containerd/data-root"'
    if os_version == "2":
        template = (root / "etc/eks/containerd/containerd-config.toml").read_text()
        assert data_root in template.splitlines()
        assert 'root = "/var/lib/containerd"' not in template
        assert 'state = "/run/containerd"' in template  # the rest of the template is kept
        assert not (root / "etc/containerd/config.d").exists()
    else:
        dropin = (root / "etc/containerd/config.d/10-data-root.toml").read_text()
        assert dropin.splitlines() == ["version = 2", data_root]
        # nodeadm owns config.toml; it is left as it was.
        assert (root / "etc/containerd/config.toml").read_text() == AL2023_CONTAINERD_CONFIG
    seeded = root / "opt/sagemaker/containerd/data-root/io.containerd.content.v1.content/blobs"
    assert (seeded / "sha256-pause").read_text() == "pause image layer\n"

    moved = root / "opt/sagemaker/kubelet"
    assert (moved / "kubeconfig").read_text() == "apiVersion: v1\nkind: Config\n"
    assert (moved / "pki/kubelet.crt").is_file()
    assert list((root / "var/lib/kubelet").iterdir()) == []
    fstab = (root / "etc/fstab").read_text().splitlines()
    assert fstab[0] == "UUID=abc / xfs defaults,noatime 1 1"
    assert (
        "/opt/sagemaker/kubelet /var/lib/kubelet none "
        "bind,x-systemd.requires-mounts-for=/opt/sagemaker 0 0" in fstab
    )
    assert f"mount --bind {root}/opt/sagemaker/kubelet {root}/var/lib/kubelet" in stubs.calls()
    assert "systemctl is-active --quiet containerd" in stubs.calls()
    assert not any(call.startswith("systemctl restart containerd") for call in stubs.calls())


@pytest.mark.parametrize("os_version", ["2", "2023"])
@pytest.mark.parametrize("bucket", ["", "training-data-bucket"])
def test_on_create_second_run_changes_nothing(node, os_version, bucket):
    root, stubs, env = node(os_version, S3_BUCKET_NAME=bucket)
    first = run(ON_CREATE, env)
    assert first.returncode == 0, first.stderr + first.stdout
    tree_after_first = snapshot(root, skip={LOG})
    calls_after_first = stubs.calls()
    assert calls_after_first, "the first run must change the host"

    second = run(ON_CREATE, env)

    assert second.returncode == 0, second.stderr + second.stdout
    assert snapshot(root, skip={LOG}) == tree_after_first
    assert stubs.calls() == calls_after_first, "the second run ran host-changing commands"
    assert (root / LOG).read_text().count("[done] on_create.sh") == 2


def test_on_create_prefers_instance_store_nvme(node):
    root, stubs, env = node("2023")
    (root / "opt/dlami/nvme").mkdir(parents=True)
    with (root / "proc/mounts").open("a") as mounts:
        mounts.write("/dev/md0 /opt/dlami/nvme ext4 rw 0 0\n")

    result = run(ON_CREATE, env)

    assert result.returncode == 0, result.stderr
    dropin = (root / "etc/containerd/config.d/10-data-root.toml").read_text()
    assert 'root = "/opt/dlami/nvme/containerd/data-root"' in dropin
    assert (root / "opt/dlami/nvme/kubelet/kubeconfig").is_file()
    assert not (root / "opt/sagemaker/kubelet").exists()


def test_on_create_keeps_root_volume_when_no_secondary_volume_is_mounted(node):
    root, stubs, env = node("2")
    (root / "proc/mounts").write_text("/dev/nvme0n1p1 / xfs rw 0 0\n")

    result = run(ON_CREATE, env)

    assert result.returncode == 0, result.stderr
    assert "containerd and kubelet stay on the root volume" in result.stdout
    assert (root / "var/lib/kubelet/kubeconfig").is_file()
    template = (root / "etc/eks/containerd/containerd-config.toml").read_text()
    assert template == AL2_CONTAINERD_TEMPLATE
    assert not any(call.startswith("mount ") for call in stubs.calls())


def test_on_create_restarts_a_running_containerd_after_moving_its_root(node):
    root, stubs, env = node("2", CONTAINERD_ACTIVE_STATUS="0")

    assert run(ON_CREATE, env).returncode == 0

    assert "systemctl restart containerd" in stubs.calls()


def test_on_create_without_bucket_configures_no_s3_mount(node):
    root, stubs, env = node("2023")

    result = run(ON_CREATE, env)

    assert result.returncode == 0, result.stderr
    assert "S3_BUCKET_NAME not set: no S3 mount" in result.stdout
    assert not (root / "etc/systemd/system/mountpoint-s3.service").exists()
    assert not (root / "mnt").exists()
    assert not any(c.split()[0] in {"dnf", "yum"} for c in stubs.calls())
    assert not any("mountpoint-s3" in call for call in stubs.calls())


@pytest.mark.parametrize(
    ("os_version", "install_call"),
    [
        ("2023", "dnf install -y mount-s3"),
        ("2", "yum install -y https://s3.amazonaws.com/mountpoint-s3-release/latest/"),
    ],
)
def test_on_create_with_bucket_installs_and_mounts_it_persistently(node, os_version, install_call):
    root, stubs, env = node(os_version, S3_BUCKET_NAME="training-data", S3_MOUNT_PATH="/data/s3")

    result = run(ON_CREATE, env)

    assert result.returncode == 0, result.stderr + result.stdout
    calls = stubs.calls()
    assert any(call.startswith(install_call) for call in calls), calls
    unit = (root / "etc/systemd/system/mountpoint-s3.service").read_text()
    assert "ExecStart=/usr/bin/mount-s3 --allow-other training-data /data/s3" in unit
    assert "AssertPathIsDirectory=/data/s3" in unit
    assert "WantedBy=remote-fs.target" in unit
    assert (root / "data/s3").is_dir()
    enable = calls.index("systemctl enable mountpoint-s3.service")
    assert calls.index("systemctl daemon-reload") < enable < calls.index(
        "systemctl restart mountpoint-s3.service"
    )


def test_on_create_default_mount_path_is_mnt_s3(node):
    root, stubs, env = node("2023", S3_BUCKET_NAME="training-data")

    assert run(ON_CREATE, env).returncode == 0

    unit = (root / "etc/systemd/system/mountpoint-s3.service").read_text()
    assert "ExecStart=/usr/bin/mount-s3 --allow-other training-data /mnt/s3" in unit


def test_on_create_skips_install_when_mountpoint_is_present(node):
    root, stubs, env = node("2023", S3_BUCKET_NAME="training-data")
    stubs.add("mount-s3")

    assert run(ON_CREATE, env).returncode == 0

    assert not any(c.split()[0] in {"dnf", "yum"} for c in stubs.calls())


def test_on_create_refuses_an_invalid_bucket_name(node):
    root, stubs, env = node("2023", S3_BUCKET_NAME="Bad_Bucket")

    result = run(ON_CREATE, env)

    assert result.returncode != 0
    assert "S3_BUCKET_NAME 'Bad_Bucket' is not a valid bucket name" in result.stderr + result.stdout


def test_on_create_writes_commented_tuning_and_applies_it(node):
    root, stubs, env = node("2")

    assert run(ON_CREATE, env).returncode == 0

    sysctl = (root / "etc/sysctl.d/90-ml-training.conf").read_text()
    settings = [line for line in sysctl.splitlines() if "=" in line and not line.startswith("#")]
    assert "vm.max_map_count = 1048576" in settings
    assert "fs.inotify.max_user_watches = 524288" in settings
    # Every group of settings is preceded by a comment saying why.
    for block in sysctl.split("\n\n")[1:]:
        assert block.lstrip().startswith("#"), block
    assert f"sysctl -p {root}/etc/sysctl.d/90-ml-training.conf" in stubs.calls()
    limits = (root / "etc/security/limits.d/90-ml-training.conf").read_text()
    assert "*    hard    nofile    1048576" in limits
    assert "*    hard    memlock   unlimited" in limits


def test_on_create_failing_step_exits_non_zero_and_leaves_the_log(node):
    root, stubs, env = node("2", FAIL_COMMAND="mount --bind*")

    result = run(ON_CREATE, env)

    assert result.returncode != 0
    log = (root / LOG).read_text()
    assert "[start] on_create.sh" in log
    assert "mount: simulated failure" in log
    assert "failed: mount --bind" in log
    assert "[failed] on_create.sh exited with status 1" in log
    assert "[done]" not in log
    assert "[failed] on_create.sh" in result.stderr
    # The log is flushed to disk before the script gives up.
    assert "sync " in stubs.calls()
    # Later steps never ran.
    assert not (root / "etc/sysctl.d/90-ml-training.conf").exists()


def test_on_create_refuses_an_unknown_os(node):
    root, stubs, env = node("2")
    (root / "etc/os-release").write_text('ID="ubuntu"\nVERSION_ID="22.04"\n')

    result = run(ON_CREATE, env)

    assert result.returncode != 0
    assert "unsupported OS 'ubuntu 22.04'" in (root / LOG).read_text()


def test_on_create_logs_to_stdout_and_file(node):
    root, stubs, env = node("2023")

    result = run(ON_CREATE, env)

    assert "[start] on_create.sh" in result.stdout
    assert "secondary volume: /opt/sagemaker" in (root / LOG).read_text()
