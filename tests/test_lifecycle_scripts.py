"""The node and operator scripts in lifecycle_scripts/, run for real by bash.

on_create.sh runs against a fake node root (NODE_ROOT) and the commands that would change a
host (systemctl, mount, dnf, yum, sysctl, aws, kubectl, ...) are recording stand-ins placed first
on PATH. Each stand-in appends its command line to calls.log and, where a later step depends on
it, imitates the effect (a bind mount appears in the fake /proc/mounts, an installed package puts
its command on PATH).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "lifecycle_scripts"
ON_CREATE = SCRIPTS / "on_create.sh"
SETUP_CSI = SCRIPTS / "setup_s3_mountpoint_csi.sh"
RIG = SCRIPTS / "install_rig_dependencies.sh"

# Shared by the stand-ins: records the call, then fails it when "<name> <args>" matches one of
# the globs in FAIL_COMMAND (one per line), with status FAIL_STATUS (default 1).
RECORD_AND_MAYBE_FAIL = r"""
name=$(basename "$0")
printf '%s %s\n' "$name" "$*" >>"$STUB_DIR/calls.log"
while IFS= read -r pattern; do
  if [[ -n "$pattern" && "$name $*" == $pattern ]]; then
    echo "$name: simulated failure" >&2
    exit "${FAIL_STATUS:-1}"
  fi
done <<<"${FAIL_COMMAND:-}"
"""

# The stand-ins: every one records itself; the case arms imitate the effects later steps read.
STUB = "#!/usr/bin/env bash" + RECORD_AND_MAYBE_FAIL + r"""
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
    if [[ "$1" == is-active ]]; then
      [[ " ${FAKE_ACTIVE_UNITS:-} " == *" ${*: -1} "* ]] || exit 3
    fi ;;
  curl)
    args=("$@")
    for ((i = 0; i < ${#args[@]}; i++)); do
      if [[ "${args[i]}" == --output ]]; then printf 'rpm package\n' >"${args[i + 1]}"; fi
    done ;;
  aws)
    exec "$STUB_DIR/fake_aws" "$@" ;;
  kubectl)
    args=("$@")
    for ((i = 0; i < ${#args[@]}; i++)); do
      if [[ "${args[i]}" == -f ]]; then
        n=$(ls "$STUB_DIR"/applied-*.yaml 2>/dev/null | wc -l)
        cp "${args[i + 1]}" "$STUB_DIR/applied-$n.yaml"
      fi
    done
    if [[ -x "$STUB_DIR/fake_kubectl" ]]; then exec "$STUB_DIR/fake_kubectl" "$@"; fi ;;
esac
exit 0
"""

# A real command that fails on demand: recorded, failed when FAIL_COMMAND matches, else run
# from the toolbox. For the ordinary tools (sed, grep, mv, jq) whose failures the scripts must
# catch.
PASS_THROUGH = "#!/usr/bin/env bash" + RECORD_AND_MAYBE_FAIL + r"""
exec "$TOOLBOX/$name" "$@"
"""

# mktemp on a full file system: the temporary file is created, but as a link to /dev/full, so
# every write to it fails with ENOSPC ("No space left on device"), as the kernel answers when
# the disk is full. Folders (-d) are left alone.
FULL_DISK_MKTEMP = r"""#!/usr/bin/env bash
path=$("$TOOLBOX/mktemp" "$@") || exit
if [[ -f "$path" ]]; then ln -sfn /dev/full "$path"; fi
printf '%s\n' "$path"
"""

HOST_COMMANDS = ["systemctl", "mount", "dnf", "yum", "sysctl", "modprobe", "sleep", "sync", "curl"]

# Kept off the scripts' PATH unless a test puts a stand-in there: a missing stand-in then fails
# loudly instead of reaching the real host, the real cloud or the real cluster.
NEVER_REAL = {
    *HOST_COMMANDS, "umount", "rpm", "sudo", "reboot", "shutdown", "mount-s3",
    "aws", "kubectl", "helm", "yq", "eksctl", "git", "wget",
}  # fmt: skip

BASH = shutil.which("bash") or "/bin/bash"

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

    def __init__(self, root: Path, commands: list[str], toolbox: Path) -> None:
        self.dir = root
        self.toolbox = toolbox
        self.bin = root / "bin"
        self.bin.mkdir(parents=True)
        self.log = root / "calls.log"
        self.log.touch()
        for command in commands:
            self.add(command)

    def add(self, command: str, text: str = STUB) -> None:
        path = self.bin / command
        path.write_text(text)
        path.chmod(0o755)

    def wrap(self, command: str) -> None:
        """Put the real COMMAND behind a stand-in that FAIL_COMMAND can make fail."""
        self.add(command, PASS_THROUGH)

    def remove(self, command: str) -> None:
        (self.bin / command).unlink()

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "PATH": f"{self.bin}:{self.toolbox}",
            "STUB_DIR": str(self.dir),
            "TOOLBOX": str(self.toolbox),
            "HOME": str(self.dir),
            "LANG": "C.UTF-8",
        }
        env.update(extra)
        return env


def run(script: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASH, str(script), *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="session")
def toolbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The system's ordinary commands (coreutils, grep, sed, awk, ...) without NEVER_REAL."""
    box = tmp_path_factory.mktemp("toolbox")
    for folder in (Path("/usr/bin"), Path("/bin")):
        for command in folder.iterdir():
            link = box / command.name
            if command.name in NEVER_REAL or link.exists() or link.is_symlink():
                continue
            if command.is_file() and os.access(command, os.X_OK):
                link.symlink_to(command)
    return box


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
def node(tmp_path: Path, toolbox: Path):
    def _node(os_version: str, name: str = "", **extra: str):
        """A fake node; NAME tells apart several nodes in one test."""
        root = tmp_path / f"{name}root"
        make_node(root, os_version)
        stubs = Stubs(tmp_path / f"{name}stubs", HOST_COMMANDS, toolbox)
        defaults = {"MOUNT_WAIT_SECONDS": "0", "FAILURE_LOG_FLUSH_SECONDS": "0"}
        env = stubs.env(NODE_ROOT=str(root), **{**defaults, **extra})
        return root, stubs, env

    return _node


LOG = "var/log/provision/provisioning.log"
MACHINE_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


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
    assert not any(call.startswith("systemctl restart") for call in stubs.calls())
    assert not any(call.startswith(("systemctl stop", "systemctl start")) for call in stubs.calls())


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


@pytest.mark.parametrize("os_version", ["2", "2023"])
def test_on_create_fails_the_node_when_no_secondary_volume_is_mounted(node, os_version):
    root, stubs, env = node(os_version, MOUNT_WAIT_SECONDS="10")
    (root / "proc/mounts").write_text("/dev/nvme0n1p1 / xfs rw 0 0\n")

    result = run(ON_CREATE, env)

    assert result.returncode == 1
    assert (
        "ERROR: neither /opt/dlami/nvme nor /opt/sagemaker is mounted after 10s, so containerd and "
        "kubelet would fill the root volume" in result.stdout
    )
    assert "set ALLOW_ROOT_VOLUME=true in node.env" in result.stdout
    assert [call for call in stubs.calls() if call.startswith("sleep")] == ["sleep 5", "sleep 5", "sleep 0"]
    assert (root / "var/lib/kubelet/kubeconfig").is_file()
    assert not (root / "etc/sysctl.d").exists(), "no later step ran"


def test_on_create_keeps_root_volume_when_allowed_and_no_secondary_volume_is_mounted(node):
    root, stubs, env = node("2", ALLOW_ROOT_VOLUME="true")
    (root / "proc/mounts").write_text("/dev/nvme0n1p1 / xfs rw 0 0\n")

    result = run(ON_CREATE, env)

    assert result.returncode == 0, result.stderr
    assert "containerd and kubelet stay on the root volume (ALLOW_ROOT_VOLUME=true)" in result.stdout
    assert (root / "var/lib/kubelet/kubeconfig").is_file()
    template = (root / "etc/eks/containerd/containerd-config.toml").read_text()
    assert template == AL2_CONTAINERD_TEMPLATE
    assert not any(call.startswith("mount ") for call in stubs.calls())


def test_on_create_restarts_a_running_containerd_after_moving_its_root(node):
    root, stubs, env = node("2", FAKE_ACTIVE_UNITS="containerd")

    assert run(ON_CREATE, env).returncode == 0

    calls = stubs.calls()
    assert "systemctl restart containerd" in calls
    assert not any("stop kubelet" in call for call in calls)


def test_on_create_stops_a_running_kubelet_while_moving_its_directory(node):
    root, stubs, env = node("2023", FAKE_ACTIVE_UNITS="kubelet")

    assert run(ON_CREATE, env).returncode == 0

    calls = stubs.calls()
    mount = next(i for i, call in enumerate(calls) if call.startswith("mount --bind"))
    assert calls.index("systemctl stop kubelet") < mount < calls.index("systemctl start kubelet")


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
        ("2", "yum install -y /"),
    ],
)
def test_on_create_with_bucket_installs_and_mounts_it_persistently(node, os_version, install_call):
    root, stubs, env = node(os_version, S3_BUCKET_NAME="training-data", S3_MOUNT_PATH="/data/s3")

    result = run(ON_CREATE, env)

    assert result.returncode == 0, result.stderr + result.stdout
    calls = stubs.calls()
    assert any(call.startswith(install_call) for call in calls), calls
    downloads = [call for call in calls if call.startswith("curl ")]
    if os_version == "2":
        # AL2's repositories have no Mountpoint: the release package, over HTTPS only, bounded.
        (download,) = downloads
        assert "--proto =https" in download and "--max-time 300" in download and "--fail" in download
        assert download.endswith(f"/mountpoint-s3-release/latest/{MACHINE_ARCH}/mount-s3.rpm")
        assert calls[calls.index(download) + 1].endswith("/mount-s3.rpm")
    else:
        assert downloads == [], "AL2023 installs from its own signed repository"
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


def scripts_with_node_env(tmp_path: Path, text: str) -> Path:
    """A copy of lifecycle_scripts/ as HyperPod downloads it, with a node.env beside it."""
    folder = tmp_path / "downloaded"
    shutil.copytree(SCRIPTS, folder)
    (folder / "node.env").write_text(text)
    return folder / "on_create.sh"


def test_on_create_reads_settings_from_node_env(node, tmp_path):
    root, stubs, env = node("2023")
    script = scripts_with_node_env(
        tmp_path, '# settings\nS3_BUCKET_NAME="from-file"\nS3_MOUNT_PATH=/data\nPATH=/evil\n'
    )

    assert run(script, env).returncode == 0

    unit = (root / "etc/systemd/system/mountpoint-s3.service").read_text()
    assert "ExecStart=/usr/bin/mount-s3 --allow-other from-file /data" in unit


def test_on_create_environment_wins_over_node_env(node, tmp_path):
    root, stubs, env = node("2023", S3_BUCKET_NAME="from-env")
    script = scripts_with_node_env(tmp_path, "S3_BUCKET_NAME=from-file\n")

    assert run(script, env).returncode == 0

    unit = (root / "etc/systemd/system/mountpoint-s3.service").read_text()
    assert "--allow-other from-env /mnt/s3" in unit


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
    assert f"sysctl -e -p {root}/etc/sysctl.d/90-ml-training.conf" in stubs.calls()
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
    assert "ERROR: cannot bind-mount /opt/sagemaker/kubelet over /var/lib/kubelet (mount exited 1)" in log
    assert "[failed] on_create.sh exited with status 1" in log
    assert "[done]" not in log
    assert "[failed] on_create.sh" in result.stderr
    # The log is flushed to disk before the script gives up.
    assert "sync " in stubs.calls()
    # Later steps never ran.
    assert not (root / "etc/sysctl.d/90-ml-training.conf").exists()


def test_on_create_refuses_a_non_numeric_wait(node):
    root, stubs, env = node("2023", MOUNT_WAIT_SECONDS="1m")

    result = run(ON_CREATE, env)

    assert result.returncode == 1
    assert "MOUNT_WAIT_SECONDS '1m' must be a whole number of seconds" in result.stdout
    assert stubs.calls()[-2:] == ["sync ", "sleep 0"]  # flushed, then paused for shipping


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


# ------------------------------------------------------------------ on_create.sh: failures
#
# Each fault breaks one thing a node can break on, through the stand-ins. The run must exit
# non-zero with a line naming what failed, run no later step, and leave no half-written file:
# the file being written keeps its old content and no temporary copy is left behind.

# The file each OS's containerd step writes first.
CONTAINERD_FILE = {
    "2": "etc/eks/containerd/containerd-config.toml",
    "2023": "etc/containerd/config.d/10-data-root.toml",
}
INSTALLER = {"2": "yum", "2023": "dnf"}
RPM_URL = f"https://s3.amazonaws.com/mountpoint-s3-release/latest/{MACHINE_ARCH}/mount-s3.rpm"
BUCKET = {"S3_BUCKET_NAME": "training-data"}
# A folder where nobody, root included, can create a file: sysfs refuses it.
READ_ONLY_FOLDER = Path("/sys/kernel")


def _no_setup(root: Path, stubs: Stubs) -> None:
    pass


def _full_disk(root: Path, stubs: Stubs) -> None:
    stubs.add("mktemp", FULL_DISK_MKTEMP)


def _read_only_sysctl_folder(root: Path, stubs: Stubs) -> None:
    if not READ_ONLY_FOLDER.is_dir():
        pytest.skip(f"{READ_ONLY_FOLDER} is not there to stand for a read-only folder")
    (root / "etc/sysctl.d").symlink_to(READ_ONLY_FOLDER)


def _sed_printing_nothing(root: Path, stubs: Stubs) -> None:
    stubs.add("sed")  # succeeds and prints nothing, as a sed that lost its output would


def _config_without_imports(root: Path, stubs: Stubs) -> None:
    (root / "etc/containerd/config.toml").write_text('version = 2\nroot = "/var/lib/containerd"\n')


def _wrapping(*commands: str) -> Callable[[Path, Stubs], None]:
    def setup(root: Path, stubs: Stubs) -> None:
        for command in commands:
            stubs.wrap(command)

    return setup


@dataclass(frozen=True)
class Fault:
    name: str
    os_versions: tuple[str, ...]
    # A fragment of the line naming the failure; {root}, {containerd}, {installer} are filled in.
    message: str
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Path, Stubs], None] = _no_setup
    # The fault strikes while the containerd configuration is written: it must stay as it was.
    containerd_untouched: bool = False
    # Files that must still be where they were (a failed move keeps the originals).
    still_there: tuple[str, ...] = ()


BOTH = ("2", "2023")
FAULTS = [
    Fault("full disk", BOTH, "ERROR: cannot write {root}/{containerd}: writing its new content failed (disk full?); "
          "the old file is unchanged", setup=_full_disk, containerd_untouched=True),
    Fault("read-only folder", BOTH, "ERROR: cannot create a temporary file in {root}/etc/sysctl.d to write "
          "{root}/etc/sysctl.d/90-ml-training.conf", setup=_read_only_sysctl_folder),
    Fault("failing rename", BOTH, "ERROR: cannot replace {root}/{containerd} with its new content (rename failed)",
          env={"FAIL_COMMAND": "mv -f -- *"}, setup=_wrapping("mv"), containerd_untouched=True),
    Fault("failing sed", ("2",), "ERROR: cannot set the containerd data root in {root}/{containerd}: sed exited 4; "
          "the file is unchanged", env={"FAIL_COMMAND": "sed *", "FAIL_STATUS": "4"}, setup=_wrapping("sed"),
          containerd_untouched=True),
    Fault("sed printing nothing", ("2",), "ERROR: cannot set the containerd data root in {root}/{containerd}: "
          "sed returned 1 lines for 9; the file is unchanged", setup=_sed_printing_nothing, containerd_untouched=True),
    Fault("failing grep", ("2023",), "ERROR: cannot read /etc/containerd/config.toml (grep exited 2)",
          env={"FAIL_COMMAND": "grep *", "FAIL_STATUS": "2"}, setup=_wrapping("grep"), containerd_untouched=True),
    Fault("config ignoring the drop-in", ("2023",), "ERROR: /etc/containerd/config.toml does not import config.d: "
          "containerd would ignore /etc/containerd/config.d/10-data-root.toml and keep its data on the root volume",
          setup=_config_without_imports, containerd_untouched=True),
    Fault("volume full while seeding", BOTH, "ERROR: cannot copy /var/lib/containerd to "
          "/opt/sagemaker/containerd/data-root (cp failed; volume full?)",
          env={"FAIL_COMMAND": "cp -a -- */var/lib/containerd/. *"}, setup=_wrapping("cp"), containerd_untouched=True),
    Fault("volume full while moving kubelet", BOTH, "ERROR: cannot copy /var/lib/kubelet to /opt/sagemaker/kubelet "
          "(cp exited 1; volume full?)", env={"FAIL_COMMAND": "cp -a -- */var/lib/kubelet/. *"}, setup=_wrapping("cp"),
          still_there=("var/lib/kubelet/kubeconfig", "var/lib/kubelet/pki/kubelet.crt")),
    Fault("systemd cannot be asked", BOTH, "ERROR: cannot ask systemd whether containerd is running "
          "(systemctl is-active exited 1)", env={"FAIL_COMMAND": "systemctl is-active *"}),
    Fault("containerd restart", BOTH, "ERROR: cannot restart containerd (systemctl restart exited 1): "
          "it still runs with its old configuration",
          env={"FAKE_ACTIVE_UNITS": "containerd", "FAIL_COMMAND": "systemctl restart containerd"}),
    Fault("kubelet stop", BOTH, "ERROR: cannot stop kubelet to move /var/lib/kubelet (systemctl stop exited 1)",
          env={"FAKE_ACTIVE_UNITS": "kubelet", "FAIL_COMMAND": "systemctl stop kubelet"}),
    Fault("package install", BOTH, f"ERROR: cannot install Mountpoint for Amazon S3 from {RPM_URL} "
          "({installer} install exited 1)", env={**BUCKET, "FAIL_COMMAND": "dnf install *\nyum install *"}),
    Fault("download", BOTH, f"ERROR: cannot download Mountpoint for Amazon S3 from {RPM_URL} (curl exited 22)",
          env={**BUCKET, "FAIL_COMMAND": "dnf install -y mount-s3\ncurl *", "FAIL_STATUS": "22"}),
    Fault("mount unit enable", BOTH, "ERROR: cannot enable mountpoint-s3.service: the bucket would not be mounted "
          "at boot (systemctl enable exited 1)", env={**BUCKET, "FAIL_COMMAND": "systemctl enable *"}),
    Fault("mount unit start", BOTH, "ERROR: cannot start mountpoint-s3.service: s3://training-data is not mounted "
          "at /mnt/s3", env={**BUCKET, "FAIL_COMMAND": "systemctl restart mountpoint-s3.service"}),
    Fault("kernel settings", BOTH, "ERROR: cannot apply the kernel settings in /etc/sysctl.d/90-ml-training.conf "
          "(sysctl exited 255)", env={"FAIL_COMMAND": "sysctl *", "FAIL_STATUS": "255"}),
]  # fmt: skip
FAULT_CASES = [pytest.param(v, f, id=f"{f.name}-al{v}") for f in FAULTS for v in f.os_versions]


def leftover_temporary_files(root: Path) -> list[str]:
    """write_if_changed's temporary copies (.<name>.XXXXXX), and unfinished seed copies."""
    found = []
    for folder, dirs, files in os.walk(root):  # does not follow links (the read-only folder)
        for name in files + dirs:
            if re.fullmatch(r"\..+\.[A-Za-z0-9]{6}", name) or name.endswith(".partial"):
                found.append(os.path.join(folder, name))
    return found


@pytest.mark.parametrize(("os_version", "fault"), FAULT_CASES)
def test_on_create_fault_fails_the_node_and_names_what_failed(node, os_version, fault):
    root, stubs, env = node(os_version, **fault.env)
    fault.setup(root, stubs)

    result = run(ON_CREATE, env)

    assert result.returncode != 0, result.stdout
    expected = fault.message.format(root=root, containerd=CONTAINERD_FILE[os_version], installer=INSTALLER[os_version])
    log = (root / LOG).read_text()
    assert [line for line in log.splitlines() if expected in line], log
    assert expected in result.stdout, "the failure reaches stdout (HyperPod's log) as well as the log file"
    assert re.search(r"\[failed\] on_create\.sh exited with status [1-9]", result.stderr)
    assert "[done]" not in log
    assert not (root / "etc/security/limits.d/90-ml-training.conf").exists(), "a later step ran"
    assert leftover_temporary_files(root) == []
    assert [path for path in fault.still_there if not (root / path).is_file()] == []
    if fault.containerd_untouched:
        if os_version == "2":
            assert (root / CONTAINERD_FILE["2"]).read_text() == AL2_CONTAINERD_TEMPLATE
        else:
            assert not (root / CONTAINERD_FILE["2023"]).exists()


# A failed run, the fault gone, a second run: the node must end as a clean run leaves it, and the
# follow-up the first run owed (restart, enable, apply) must happen although the file it belongs
# to is already up to date.
RECOVERIES = {
    "full disk": None,
    "volume full while seeding": None,
    "volume full while moving kubelet": "mount --bind",
    "containerd restart": "systemctl restart containerd",
    "mount unit enable": "systemctl enable mountpoint-s3.service",
    "mount unit start": "systemctl restart mountpoint-s3.service",
    "kernel settings": "sysctl -e -p {root}/etc/sysctl.d/90-ml-training.conf",
    "download": "{installer} install -y ",
}


@pytest.fixture(scope="module")
def clean_runs() -> dict[tuple, dict]:
    """Snapshots of clean runs by (OS, settings), shared by the cases that end alike."""
    return {}


@pytest.mark.parametrize(
    ("os_version", "fault"), [case for case in FAULT_CASES if case.values[1].name in RECOVERIES]
)
def test_on_create_rerun_after_a_fault_finishes_the_job(node, os_version, fault, clean_runs):
    root, stubs, env = node(os_version, **fault.env)
    fault.setup(root, stubs)
    assert run(ON_CREATE, env).returncode != 0
    for stand_in in ("mktemp",):
        if (stubs.bin / stand_in).exists():
            stubs.remove(stand_in)
    healed = {k: v for k, v in env.items() if k not in {"FAIL_COMMAND", "FAIL_STATUS"}}
    calls_before = len(stubs.calls())

    rerun = run(ON_CREATE, healed)

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    follow_up = RECOVERIES[fault.name]
    if follow_up:
        expected = follow_up.format(root=root, installer=INSTALLER[os_version])
        assert any(call.startswith(expected) for call in stubs.calls()[calls_before:])
    settings = {k: v for k, v in healed.items() if k in fault.env}
    key = (os_version, tuple(sorted(settings.items())))
    if key not in clean_runs:
        clean_root, _, clean_env = node(os_version, name="clean-", **settings)
        assert run(ON_CREATE, clean_env).returncode == 0
        clean_runs[key] = snapshot(clean_root, skip={LOG})
    assert snapshot(root, skip={LOG}) == clean_runs[key]


@pytest.mark.parametrize("os_version", BOTH)
def test_on_create_fails_when_its_log_cannot_be_written(node, os_version):
    # /dev/full: every write fails with ENOSPC, as on a full root volume.
    root, stubs, env = node(os_version, LOG_FILE="/dev/full")

    result = run(ON_CREATE, env)

    assert result.returncode == 1
    assert "ERROR: cannot write the log /dev/full (tee exited 1); is the root volume full?" in result.stderr
    assert "[failed] on_create.sh exited with status 1; log: /dev/full" in result.stderr


def test_on_create_refuses_a_mount_path_a_systemd_unit_would_misread(node):
    root, stubs, env = node("2023", S3_BUCKET_NAME="training-data", S3_MOUNT_PATH="/mnt/data%i")

    result = run(ON_CREATE, env)

    assert result.returncode == 1
    assert "S3_MOUNT_PATH '/mnt/data%i' must be an absolute path of letters, digits" in result.stdout
    assert stubs.calls() == ["sync ", "sleep 0"], "refused before anything on the node changed"


# ----------------------------------------------------------------- setup_s3_mountpoint_csi.sh

ACCOUNT = "111122223333"
OIDC = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE0123456789"

# Canned AWS answers. FAKE_AWS_EXISTING lists what already exists (policy, role, addon);
# FAKE_OIDC_MISSING=1 removes the cluster's OIDC provider. Documents passed as file:// are kept
# as <subcommand>.json for the tests to read.
FAKE_AWS = rf"""#!/usr/bin/env bash
exists() {{ [[ " ${{FAKE_AWS_EXISTING:-}} " == *" $1 "* ]]; }}
not_found() {{ echo "An error occurred (${{1:-NoSuchEntity}}): not found" >&2; exit 254; }}
for arg in "$@"; do
  if [[ "$arg" == file://* ]]; then cp "${{arg#file://}}" "$STUB_DIR/$2.json"; fi
done
case "$1 $2" in
  "sts get-caller-identity") echo "arn:aws:sts::{ACCOUNT}:assumed-role/Admin/operator" ;;
  "eks describe-cluster") echo "https://{OIDC}" ;;
  "iam get-open-id-connect-provider") [[ -z "${{FAKE_OIDC_MISSING:-}}" ]] || not_found ;;
  "iam get-policy") exists policy || not_found ;;
  "iam get-role") exists role || not_found ;;
  "eks describe-addon") exists addon || not_found ResourceNotFoundException ;;
  "eks update-kubeconfig")
    while [[ $# -gt 0 ]]; do
      if [[ "$1" == --kubeconfig ]]; then echo "apiVersion: v1" >"$2"; fi
      shift
    done ;;
esac
exit 0
"""

CSI_ENV = {"EKS_CLUSTER_NAME": "ml-platform", "AWS_REGION": "us-west-2", "S3_BUCKET_NAME": "train-data"}

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ml-platform-s3-csi-driver"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/ml-platform-s3-csi-train-data"
ADDON = "--cluster-name ml-platform --addon-name aws-mountpoint-s3-csi-driver --region us-west-2"


@pytest.fixture
def operator(tmp_path: Path, toolbox: Path):
    """An operator's shell: aws and kubectl stand-ins, a private TMPDIR."""
    stubs = Stubs(tmp_path / "stubs", ["aws", "kubectl"], toolbox)
    fake_aws = stubs.dir / "fake_aws"
    fake_aws.write_text(FAKE_AWS)
    fake_aws.chmod(0o755)
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    def _env(**extra: str) -> dict[str, str]:
        return stubs.env(TMPDIR=str(scratch), **{**CSI_ENV, **extra})

    return stubs, _env, scratch


def normalized_calls(stubs: Stubs, scratch: Path) -> list[str]:
    """Calls with the script's temporary folder replaced by <work>."""
    pattern = re.compile(re.escape(str(scratch)) + r"/tmp\.\w+")
    return [pattern.sub("<work>", call) for call in stubs.calls()]


def test_csi_help_names_the_inputs(operator):
    stubs, env, _ = operator

    result = run(SETUP_CSI, {"PATH": env()["PATH"]}, "--help")

    assert result.returncode == 0
    for name in ("EKS_CLUSTER_NAME", "AWS_REGION", "S3_BUCKET_NAME", "s3-pvc"):
        assert name in result.stdout
    assert stubs.calls() == []


def test_csi_missing_env_names_every_missing_variable(operator):
    stubs, env, _ = operator
    bare = {k: v for k, v in env().items() if k not in CSI_ENV}

    result = run(SETUP_CSI, bare)

    assert result.returncode == 1
    assert (
        "missing environment variable(s): EKS_CLUSTER_NAME AWS_REGION S3_BUCKET_NAME"
        in result.stderr
    )
    assert stubs.calls() == []


def test_csi_missing_env_names_only_what_is_missing(operator):
    stubs, env, _ = operator
    partial = env()
    del partial["AWS_REGION"]

    result = run(SETUP_CSI, partial)

    assert result.returncode == 1
    assert "missing environment variable(s): AWS_REGION." in result.stderr


def test_csi_missing_tools_are_named(operator):
    stubs, env, _ = operator
    stubs.remove("aws")
    stubs.remove("kubectl")

    result = run(SETUP_CSI, env())

    assert result.returncode == 1
    assert "missing command(s) on PATH: aws kubectl" in result.stderr


def test_csi_refuses_an_invalid_bucket_name(operator):
    stubs, env, _ = operator

    result = run(SETUP_CSI, env(S3_BUCKET_NAME="s3://train-data"))

    assert result.returncode == 1
    assert "S3_BUCKET_NAME 's3://train-data' is not a valid bucket name" in result.stderr
    assert stubs.calls() == []


def test_csi_fresh_cluster_makes_the_expected_calls(operator):
    stubs, env, scratch = operator

    result = run(SETUP_CSI, env())

    assert result.returncode == 0, result.stderr
    assert normalized_calls(stubs, scratch) == [
        "aws sts get-caller-identity --query Arn --output text",
        "aws eks describe-cluster --name ml-platform --region us-west-2 "
        "--query cluster.identity.oidc.issuer --output text",
        "aws iam get-open-id-connect-provider --open-id-connect-provider-arn "
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}",
        f"aws iam get-policy --policy-arn {POLICY_ARN}",
        "aws iam create-policy --policy-name ml-platform-s3-csi-train-data --description "
        "Mountpoint for Amazon S3 CSI driver access to train-data "
        "--policy-document file://<work>/bucket-policy.json",
        "aws iam get-role --role-name ml-platform-s3-csi-driver",
        "aws iam create-role --role-name ml-platform-s3-csi-driver --description "
        "Mountpoint for Amazon S3 CSI driver on ml-platform "
        "--assume-role-policy-document file://<work>/trust-policy.json",
        f"aws iam attach-role-policy --role-name ml-platform-s3-csi-driver --policy-arn {POLICY_ARN}",
        f"aws eks describe-addon {ADDON}",
        f"aws eks create-addon {ADDON} --service-account-role-arn {ROLE_ARN}",
        f"aws eks wait addon-active {ADDON}",
        "aws eks update-kubeconfig --name ml-platform --region us-west-2 "
        "--kubeconfig <work>/kubeconfig",
        "kubectl --kubeconfig <work>/kubeconfig apply -f <work>/s3-volume.yaml",
    ]
    assert list(scratch.iterdir()) == [], "the temporary folder is removed"


def test_csi_existing_resources_are_updated_not_recreated(operator):
    stubs, env, scratch = operator

    result = run(SETUP_CSI, env(FAKE_AWS_EXISTING="policy role addon"))

    assert result.returncode == 0, result.stderr
    calls = normalized_calls(stubs, scratch)
    assert not any(" create-" in call for call in calls), calls
    assert (
        "aws iam update-assume-role-policy --role-name ml-platform-s3-csi-driver "
        "--policy-document file://<work>/trust-policy.json" in calls
    )
    assert f"aws eks update-addon {ADDON} --service-account-role-arn {ROLE_ARN}" in calls
    assert "IAM policy ml-platform-s3-csi-train-data exists; reusing it" in result.stdout


def test_csi_iam_documents_grant_the_bucket_to_the_driver_only(operator):
    stubs, env, _ = operator

    assert run(SETUP_CSI, env()).returncode == 0

    policy = json.loads((stubs.dir / "create-policy.json").read_text())
    resources = {r for statement in policy["Statement"] for r in statement["Resource"]}
    assert resources == {"arn:aws:s3:::train-data", "arn:aws:s3:::train-data/*"}
    actions = {a for statement in policy["Statement"] for a in statement["Action"]}
    assert "s3:*" not in actions and "s3:ListBucket" in actions and "s3:GetObject" in actions
    trust = json.loads((stubs.dir / "create-role.json").read_text())
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}"}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {
        f"{OIDC}:aud": "sts.amazonaws.com",
        f"{OIDC}:sub": "system:serviceaccount:kube-system:s3-csi-driver-sa",
    }


def test_csi_manifests_parse_and_bind_s3_pvc_to_the_bucket(operator):
    stubs, env, _ = operator

    assert run(SETUP_CSI, env(PVC_NAMESPACE="training")).returncode == 0

    (applied,) = stubs.dir.glob("applied-*.yaml")
    pv, pvc = yaml.safe_load_all(applied.read_text())
    assert pv["kind"] == "PersistentVolume" and pvc["kind"] == "PersistentVolumeClaim"
    assert pv["spec"]["csi"]["driver"] == "s3.csi.aws.com"
    assert pv["spec"]["csi"]["volumeAttributes"]["bucketName"] == "train-data"
    assert "region us-west-2" in pv["spec"]["mountOptions"]
    assert pv["spec"]["claimRef"] == {"namespace": "training", "name": "s3-pvc"}
    assert pvc["metadata"] == {"name": "s3-pvc", "namespace": "training"}
    assert pvc["spec"]["volumeName"] == pv["metadata"]["name"]
    for volume in (pv, pvc):
        assert volume["spec"]["storageClassName"] == ""
        assert volume["spec"]["accessModes"] == ["ReadWriteMany"]


def test_csi_without_oidc_provider_says_how_to_create_it(operator):
    stubs, env, _ = operator

    result = run(SETUP_CSI, env(FAKE_OIDC_MISSING="1"))

    assert result.returncode == 1
    assert "has no IAM OIDC provider" in result.stderr
    assert "eksctl utils associate-iam-oidc-provider --cluster ml-platform" in result.stderr
    assert not any(call.startswith(("aws iam create", "kubectl")) for call in stubs.calls())


def test_csi_refuses_a_role_name_iam_would_reject(operator):
    stubs, env, _ = operator

    result = run(SETUP_CSI, env(EKS_CLUSTER_NAME="c" * 60))

    assert result.returncode == 1
    assert "longer than 64 characters; set S3_CSI_ROLE_NAME" in result.stderr


def test_csi_lookup_error_is_not_taken_for_absence(operator):
    # Access denied or throttled is not "no such policy": creating it would be the wrong answer.
    stubs, env, _ = operator

    result = run(SETUP_CSI, env(FAIL_COMMAND="aws iam get-policy *", FAIL_STATUS="254"))

    assert result.returncode == 1
    assert (
        "ERROR: cannot look up IAM policy ml-platform-s3-csi-train-data (aws exited 254): aws: simulated failure"
        in result.stderr
    )
    assert not any(call.startswith(("aws iam create", "kubectl")) for call in stubs.calls())


@pytest.mark.parametrize(
    ("failing", "message"),
    [
        ("aws iam create-role *", "cannot create IAM role ml-platform-s3-csi-driver (aws exited 1)"),
        ("aws iam attach-role-policy *", "cannot attach IAM policy ml-platform-s3-csi-train-data to role"),
        ("aws eks create-addon *", "cannot create EKS add-on aws-mountpoint-s3-csi-driver (aws exited 1)"),
        ("aws eks wait addon-active *", "EKS add-on aws-mountpoint-s3-csi-driver did not become active"),
        ("kubectl * apply *", "kubectl apply of the PersistentVolume and PersistentVolumeClaim s3-pvc failed"),
    ],
)
def test_csi_failing_step_stops_the_script_and_is_named(operator, failing, message):
    stubs, env, scratch = operator

    result = run(SETUP_CSI, env(FAIL_COMMAND=failing))

    assert result.returncode == 1
    assert f"ERROR: {message}" in result.stderr
    assert "done:" not in result.stdout
    assert list(scratch.iterdir()) == [], "the temporary folder is removed on failure too"


# ------------------------------------------------------------------ install_rig_dependencies.sh

# A tiny API server: objects live as STUB_DIR/objects/<kind>/<namespace>/<name>.json; get reads
# them, apply and replace store what they are given.
FAKE_KUBECTL = r"""#!/usr/bin/env bash
store="$STUB_DIR/objects"
if [[ "$1" == --kubeconfig ]]; then shift 2; fi
case "$1" in
  get)
    file="$store/$2/$5/$3.json"
    [[ -f "$file" ]] || { echo "Error from server (NotFound): $2 \"$3\" not found" >&2; exit 1; }
    cat "$file" ;;
  apply|replace)
    kind=$(jq -r '.kind | ascii_downcase' "$3")
    namespace=$(jq -r '.metadata.namespace' "$3")
    name=$(jq -r '.metadata.name' "$3")
    mkdir -p "$store/$kind/$namespace"
    cp "$3" "$store/$kind/$namespace/$name.json" ;;
esac
"""

RELEASE = "hyperpod-dependencies"
RIG_TOLERATION = {
    "key": "sagemaker.amazonaws.com/RestrictedNode",
    "operator": "Equal",
    "value": "Worker",
    "effect": "NoSchedule",
}
SERVER_FIELDS = {"uid": "1234", "resourceVersion": "99", "creationTimestamp": "2026-01-01T00:00:00Z"}


def cluster_objects(cni_version: str = "v1.20.4-eksbuild.1") -> dict[tuple[str, str, str], dict]:
    """aws-node, coredns and the HyperPod chart's objects, trimmed to what the script reads."""
    ecr = "602401143452.dkr.ecr.us-west-2.amazonaws.com"
    aws_node = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": "aws-node",
            "namespace": "kube-system",
            "annotations": {"deprecated.daemonset.template.generation": "3"},
            **SERVER_FIELDS,
        },
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "aws-node"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "aws-node"}},
                "spec": {
                    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchExpressions": [
                            {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                        ]}]
                    }}},
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [
                        {
                            "name": "aws-node",
                            "image": f"{ecr}/amazon-k8s-cni:{cni_version}",
                            "env": [
                                {"name": "ENABLE_PREFIX_DELEGATION", "value": "false"},
                                {"name": "AWS_VPC_K8S_CNI_LOGLEVEL", "value": "DEBUG"},
                            ],
                        },
                        {"name": "aws-eks-nodeagent", "image": f"{ecr}/amazon/aws-network-policy-agent:v1.2.2"},
                    ],
                },
            },
        },
        "status": {"numberReady": 3},
    }  # fmt: skip
    coredns = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", **SERVER_FIELDS},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate"},
            "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "kube-dns"}},
                "spec": {
                    "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}],
                    "topologySpreadConstraints": [{"maxSkew": 1}],
                    "containers": [{"name": "coredns", "image": f"{ecr}/eks/coredns:v1.11.4"}],
                },
            },
        },
        "status": {"readyReplicas": 2},
    }
    training_operator = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"{RELEASE}-training-operators", "namespace": "kubeflow"},
        "spec": {"template": {"spec": {"containers": [{"name": "training-operator"}]}}},
    }
    efa = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": f"{RELEASE}-aws-efa-k8s-device-plugin", "namespace": "kube-system"},
        "spec": {"template": {"spec": {
            "tolerations": [{"key": "aws.amazon.com/efa", "operator": "Exists", "effect": "NoSchedule"}],
            "containers": [{
                "name": "aws-efa-k8s-device-plugin",
                "image": f"{ecr}/eks/aws-efa-k8s-device-plugin:v0.5.6",
            }],
        }}},
    }  # fmt: skip
    return {
        ("daemonset", "kube-system", "aws-node"): aws_node,
        ("deployment", "kube-system", "coredns"): coredns,
        ("deployment", "kubeflow", f"{RELEASE}-training-operators"): training_operator,
        ("daemonset", "kube-system", f"{RELEASE}-aws-efa-k8s-device-plugin"): efa,
    }


@pytest.fixture
def rig_cluster(tmp_path: Path, toolbox: Path):
    stubs = Stubs(tmp_path / "stubs", ["aws", "kubectl"], toolbox)
    for name, text in (("fake_aws", FAKE_AWS), ("fake_kubectl", FAKE_KUBECTL)):
        (stubs.dir / name).write_text(text)
        (stubs.dir / name).chmod(0o755)
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    def load(objects: dict[tuple[str, str, str], dict]) -> None:
        for (kind, namespace, name), body in objects.items():
            path = stubs.dir / "objects" / kind / namespace / f"{name}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(body))

    def stored(kind: str, namespace: str, name: str) -> dict:
        return json.loads((stubs.dir / "objects" / kind / namespace / f"{name}.json").read_text())

    env = stubs.env(TMPDIR=str(scratch), EKS_CLUSTER_NAME="ml-platform", AWS_REGION="eu-north-1")
    return stubs, env, scratch, load, stored


def test_rig_help_says_what_it_installs(rig_cluster):
    stubs, env, *_ = rig_cluster

    result = run(RIG, env, "--help")

    assert result.returncode == 0
    for word in ("Restricted Instance Groups", "EKS_CLUSTER_NAME", "AWS_REGION", "HYPERPOD_HELM_RELEASE"):
        assert word in result.stdout
    assert stubs.calls() == []


def test_rig_missing_env_and_tools_are_named(rig_cluster):
    stubs, env, *_ = rig_cluster
    no_env = {k: v for k, v in env.items() if k not in {"EKS_CLUSTER_NAME", "AWS_REGION"}}

    missing_env = run(RIG, no_env)

    assert missing_env.returncode == 1
    assert "missing environment variable(s): EKS_CLUSTER_NAME AWS_REGION" in missing_env.stderr
    stubs.remove("kubectl")
    missing_tool = run(RIG, env)
    assert missing_tool.returncode == 1
    assert "missing command(s) on PATH: kubectl." in missing_tool.stderr


def test_rig_adapts_the_cluster_components(rig_cluster):
    stubs, env, scratch, load, stored = rig_cluster
    load(cluster_objects())

    result = run(RIG, env)

    assert result.returncode == 0, result.stderr
    calls = [call.split(" -f ")[0] for call in normalized_calls(stubs, scratch)]
    assert calls == [
        "aws eks update-kubeconfig --name ml-platform --region eu-north-1 --kubeconfig <work>/kubeconfig",
        "kubectl --kubeconfig <work>/kubeconfig get daemonset aws-node --namespace kube-system --output json",
        "kubectl --kubeconfig <work>/kubeconfig apply",
        "kubectl --kubeconfig <work>/kubeconfig get daemonset aws-node --namespace kube-system --output json",
        "kubectl --kubeconfig <work>/kubeconfig replace",
        "kubectl --kubeconfig <work>/kubeconfig get deployment coredns --namespace kube-system --output json",
        "kubectl --kubeconfig <work>/kubeconfig apply",
        f"kubectl --kubeconfig <work>/kubeconfig get deployment {RELEASE}-training-operators "
        "--namespace kubeflow --output json",
        "kubectl --kubeconfig <work>/kubeconfig replace",
        f"kubectl --kubeconfig <work>/kubeconfig get daemonset {RELEASE}-aws-efa-k8s-device-plugin "
        "--namespace kube-system --output json",
        "kubectl --kubeconfig <work>/kubeconfig replace",
    ]

    rig_node = stored("daemonset", "kube-system", "rig-aws-node")
    assert "status" not in rig_node
    assert not {"uid", "resourceVersion", "creationTimestamp"} & set(rig_node["metadata"])
    assert rig_node["metadata"]["annotations"] == {}
    (term,) = rig_node["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]  # fmt: skip
    assert term["matchExpressions"] == [
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        {"key": "sagemaker.amazonaws.com/instance-group-type", "operator": "In", "values": ["Restricted"]},
    ]
    cni, agent = rig_node["spec"]["template"]["spec"]["containers"]
    assert cni["env"] == [
        {"name": "AWS_VPC_K8S_CNI_LOGLEVEL", "value": "DEBUG"},
        {"name": "ENABLE_IMDS_ONLY_MODE", "value": "true"},
        {"name": "ENABLE_PREFIX_DELEGATION", "value": "true"},
    ]
    assert "env" not in agent

    aws_node = stored("daemonset", "kube-system", "aws-node")
    (term,) = aws_node["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]  # fmt: skip
    assert term["matchExpressions"][-1] == {
        "key": "sagemaker.amazonaws.com/instance-group-type", "operator": "NotIn", "values": ["Restricted"]
    }  # fmt: skip
    assert aws_node["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] == "false"

    rig_dns = stored("daemonset", "kube-system", "rig-coredns")
    assert rig_dns["kind"] == "DaemonSet"
    assert not {"replicas", "strategy"} & set(rig_dns["spec"])
    assert rig_dns["spec"]["updateStrategy"]["rollingUpdate"] == {"maxUnavailable": 1}
    dns_pod = rig_dns["spec"]["template"]["spec"]
    assert "topologySpreadConstraints" not in dns_pod
    assert dns_pod["nodeSelector"] == {"sagemaker.amazonaws.com/instance-group-type": "Restricted"}
    assert dns_pod["tolerations"] == [{"key": "CriticalAddonsOnly", "operator": "Exists"}, RIG_TOLERATION]

    operator_pod = stored("deployment", "kubeflow", f"{RELEASE}-training-operators")["spec"]["template"]["spec"]
    assert operator_pod["tolerations"] == [RIG_TOLERATION]
    (preference,) = operator_pod["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preference["preference"]["matchExpressions"][0]["operator"] == "NotIn"

    efa_pod = stored("daemonset", "kube-system", f"{RELEASE}-aws-efa-k8s-device-plugin")["spec"]["template"]["spec"]
    assert efa_pod["tolerations"][0]["key"] == "aws.amazon.com/efa"
    assert efa_pod["tolerations"][1] == RIG_TOLERATION
    assert efa_pod["containers"][0]["image"] == (
        "602401143452.dkr.ecr.eu-north-1.amazonaws.com/eks/aws-efa-k8s-device-plugin:v0.5.6"
    )
    assert list(scratch.iterdir()) == []


def test_rig_second_run_replaces_nothing(rig_cluster):
    stubs, env, scratch, load, stored = rig_cluster
    load(cluster_objects())
    assert run(RIG, env).returncode == 0
    objects_after_first = {p: p.read_text() for p in (stubs.dir / "objects").rglob("*.json")}
    calls_after_first = len(stubs.calls())

    second = run(RIG, env)

    assert second.returncode == 0, second.stderr
    new_calls = stubs.calls()[calls_after_first:]
    assert not any(" replace " in call for call in new_calls), new_calls
    assert "aws-node already adapted" in second.stdout
    assert {p: p.read_text() for p in (stubs.dir / "objects").rglob("*.json")} == objects_after_first


def test_rig_refuses_a_vpc_cni_without_imds_only_mode(rig_cluster):
    stubs, env, scratch, load, stored = rig_cluster
    load(cluster_objects(cni_version="v1.18.3-eksbuild.2"))

    result = run(RIG, env)

    assert result.returncode == 1
    assert "VPC CNI v1.18.3-eksbuild.2; RIG nodes need v1.19.6 or later" in result.stderr
    assert "aws eks update-addon --cluster-name ml-platform --addon-name vpc-cni" in result.stderr
    assert not any(word in call for call in stubs.calls() for word in (" apply ", " replace "))


@pytest.mark.parametrize(
    ("failing", "message"),
    [
        ("kubectl * apply *", "kubectl apply of rig-aws-node failed (exit 1)"),
        ("kubectl * replace *", "kubectl replace of daemonset kube-system/aws-node failed (exit 1)"),
        ("jq * --arg region eu-north-1 *", "cannot adapt rig-aws-node: jq exited 5"),
    ],
)
def test_rig_failing_step_stops_the_script_and_is_named(rig_cluster, failing, message):
    stubs, env, scratch, load, stored = rig_cluster
    load(cluster_objects())
    stubs.wrap("jq")

    result = run(RIG, {**env, "FAIL_COMMAND": failing, "FAIL_STATUS": "5" if failing.startswith("jq") else "1"})

    assert result.returncode != 0
    assert f"ERROR: {message}" in result.stderr
    assert "done:" not in result.stdout
    assert list(scratch.iterdir()) == []


def test_rig_jq_failing_in_the_comparison_is_not_read_as_already_adapted(rig_cluster):
    # Before, the two normalisations sat inside one [[ a == b ]]: two failures compared equal.
    stubs, env, scratch, load, stored = rig_cluster
    load(cluster_objects())
    assert run(RIG, env).returncode == 0
    stubs.wrap("jq")

    result = run(RIG, {**env, "FAIL_COMMAND": "jq -S .", "FAIL_STATUS": "2"})

    assert result.returncode == 1
    assert "ERROR: cannot read daemonset kube-system/aws-node as JSON (jq exited 2)" in result.stderr
    assert "already adapted" not in result.stdout


def test_rig_without_the_hyperpod_chart_says_what_to_install(rig_cluster):
    stubs, env, scratch, load, stored = rig_cluster
    objects = cluster_objects()
    del objects[("deployment", "kubeflow", f"{RELEASE}-training-operators")]
    load(objects)

    result = run(RIG, env)

    assert result.returncode == 1
    assert f"deployment kubeflow/{RELEASE}-training-operators not found" in result.stderr
    assert "install the HyperPod dependencies Helm chart first" in result.stderr


# ------------------------------------------------------------------------------ all scripts

ALL_LIFECYCLE_SCRIPTS = [ON_CREATE, SETUP_CSI, RIG]
def repo_shell_scripts() -> list[Path]:
    """The project's own shell scripts: what git tracks or would track (virtual
    environments, caches and outputs are ignored by .gitignore)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "*.sh"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout
    return sorted(REPO / name for name in listed.split("\0") if name and (REPO / name).is_file())


@pytest.mark.parametrize("script", ALL_LIFECYCLE_SCRIPTS, ids=lambda p: p.name)
def test_every_script_is_strict_and_answers_help(script, toolbox):
    assert "\nset -euo pipefail\n" in script.read_text()
    assert os.access(script, os.X_OK), f"{script.name} must be executable"

    result = run(script, {"PATH": str(toolbox)}, "--help")

    assert result.returncode == 0
    assert result.stdout.startswith(f"Usage: {script.name}")


@pytest.mark.parametrize("script", ALL_LIFECYCLE_SCRIPTS, ids=lambda p: p.name)
def test_every_script_refuses_unknown_arguments(script, toolbox):
    result = run(script, {"PATH": str(toolbox)}, "--bogus")

    assert result.returncode == 1
    assert "unknown argument '--bogus'" in result.stderr


# shellcheck's optional checks are on too, for what a plain run misses: SC2310/SC2311 (`set -e`
# suspended inside a function called from a condition or a command substitution), SC2312 (a
# status masked by a command substitution used as an argument), SC2154 with uppercase names
# (an environment input never assigned). Only require-variable-braces (SC2250) is left out: it
# is about style and catches no failure.
SHELLCHECK_OPTIONS = ["--external-sources", "--enable=all", "--exclude=SC2250"]


def test_shellcheck_passes_on_every_shell_script():
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        message = "shellcheck is not installed (apt-get install shellcheck)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; .ci/run installs it, so CI must have it")
        pytest.skip(message)
    scripts = repo_shell_scripts()
    assert set(ALL_LIFECYCLE_SCRIPTS) <= set(scripts)

    result = subprocess.run(
        [shellcheck, *SHELLCHECK_OPTIONS, *map(str, scripts)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_shellcheck_exception_says_why():
    # A silenced check must carry its reason on the same line ("disable=SCxxxx  # why").
    unexplained = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in repo_shell_scripts()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"#\s*shellcheck\s+disable=", line) and not re.search(r"disable=[A-Z0-9,]+\s+#\s*\S", line)
    ]
    assert unexplained == []


# ------------------------------------------------------------------ scripts/fetch-hyperpod-chart.sh

FETCH_CHART = REPO / "scripts" / "fetch-hyperpod-chart.sh"


def test_fetch_chart_help_works_without_git_or_helm(toolbox):
    assert not (toolbox / "git").exists() and not (toolbox / "helm").exists()

    result = run(FETCH_CHART, {"PATH": str(toolbox)}, "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: scripts/fetch-hyperpod-chart.sh [--help]")
    assert "Needs git and helm 3" in result.stdout
    assert result.stderr == ""


def test_fetch_chart_names_the_missing_tools_only_when_fetching(tmp_path, toolbox):
    # A copy in a scratch repository: the real one's .cache/ must not be touched.
    scripts = tmp_path / "repo" / "scripts"
    scripts.mkdir(parents=True)
    shutil.copy(FETCH_CHART, scripts)

    result = run(scripts / FETCH_CHART.name, {"PATH": str(toolbox)})

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: git helm required to fetch the chart; install them (helm 3: https://helm.sh/docs/intro/install/)"
    )
    assert not (tmp_path / "repo" / ".cache").exists()


@pytest.mark.parametrize(
    ("args", "env", "status", "message"),
    [
        (["--bogus"], {}, 2, "error: unknown argument '--bogus'"),
        ([], {"HYPERPOD_CLI_COMMIT": "main"}, 1,
         "error: HYPERPOD_CLI_COMMIT 'main' is not a full 40-character commit id"),
    ],
)
def test_fetch_chart_refuses_bad_input_before_anything_else(toolbox, args, env, status, message):
    result = run(FETCH_CHART, {"PATH": str(toolbox), **env}, *args)

    assert result.returncode == status
    assert result.stderr.strip().endswith(message)
