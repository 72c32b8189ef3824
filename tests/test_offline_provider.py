"""The offline stand-in providers under the real ``terraform``: plan, apply, update,
replacement and destroy of a small configuration, deterministic and realistic values,
and a run that leaves the caller's Terraform set-up and files alone.

One workspace goes through the whole cycle once (module fixture); the tests read what it
recorded. Each step's time is printed (``pytest -s``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tooling.offline import TerraformError, Workspace, terraform_binary

pytestmark = pytest.mark.skipif(terraform_binary() is None, reason="terraform is not on PATH")

FIXTURE = """\
# a VPC with a subnet per availability zone, an EKS cluster, a helm release on it and a
# HyperPod cluster through Cloud Control, as the platform stack uses them.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.25.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 3.1.1"
    }
  }
}

variable "cidr" {
  type    = string
  default = "10.0.0.0/16"
}

variable "cluster_name" {
  type    = string
  default = "offline"
}

variable "instance_type" {
  type    = string
  default = "ml.g5.xlarge"
}

variable "instance_count" {
  type    = number
  default = 2
}

variable "extra_tags" {
  type    = map(string)
  default = {}
}

provider "aws" {
  region = "us-west-2"
  default_tags {
    tags = {
      project = "offline-fixture"
    }
  }
}

data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

resource "aws_vpc" "main" {
  cidr_block = var.cidr
  tags       = merge({ Name = var.cluster_name }, var.extra_tags)
}

resource "aws_subnet" "private" {
  count             = length(data.aws_availability_zones.available.names)
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(var.cidr, 4, count.index)
  availability_zone = data.aws_availability_zones.available.names[count.index]
}

resource "aws_iam_role" "cluster" {
  name = "${var.cluster_name}-cluster"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "eks.${data.aws_partition.current.dns_suffix}" }
    }]
  })
}

resource "aws_eks_cluster" "main" {
  name     = var.cluster_name
  role_arn = aws_iam_role.cluster.arn
  version  = "1.33"

  vpc_config {
    subnet_ids = aws_subnet.private[*].id
  }
}

provider "helm" {
  kubernetes = {
    host                   = aws_eks_cluster.main.endpoint
    cluster_ca_certificate = base64decode(aws_eks_cluster.main.certificate_authority[0].data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", aws_eks_cluster.main.name]
    }
  }
}

resource "helm_release" "app" {
  name       = "app"
  repository = "oci://registry.example.com/charts"
  chart      = "app"
  set = [
    {
      name  = "clusterName"
      value = aws_eks_cluster.main.name
    },
  ]
}

resource "aws_cloudcontrolapi_resource" "hyperpod" {
  type_name = "AWS::SageMaker::Cluster"
  desired_state = jsonencode({
    ClusterName = "${var.cluster_name}-hyperpod"
    InstanceGroups = [{
      InstanceGroupName = "workers"
      InstanceType      = var.instance_type
      InstanceCount     = var.instance_count
      ExecutionRole     = aws_iam_role.cluster.arn
      LifeCycleConfig   = { SourceS3Uri = "s3://lifecycle-scripts/", OnCreate = "on_create.sh" }
    }]
    Orchestrator = { Eks = { ClusterArn = aws_eks_cluster.main.arn } }
    VpcConfig = {
      SecurityGroupIds = [aws_eks_cluster.main.vpc_config[0].cluster_security_group_id]
      Subnets          = aws_subnet.private[*].id
    }
  })
}

output "vpc_id" {
  value = aws_vpc.main.id
}

output "subnet_ids" {
  value = aws_subnet.private[*].id
}

output "zone_ids" {
  value = aws_subnet.private[*].availability_zone_id
}

output "cluster_endpoint" {
  value = aws_eks_cluster.main.endpoint
}

output "oidc_issuer" {
  value = aws_eks_cluster.main.identity[0].oidc[0].issuer
}

output "hyperpod_status" {
  value = jsondecode(aws_cloudcontrolapi_resource.hyperpod.properties).ClusterStatus
}

output "account_id" {
  value = data.aws_caller_identity.current.account_id
}
"""

# Mistakes the real providers reject before planning.
MISTAKES = """\
terraform {
  required_providers {
    aws  = { source = "hashicorp/aws", version = "~> 6.25.0" }
    helm = { source = "hashicorp/helm", version = "~> 3.1.1" }
  }
}

provider "aws" {
  region = "us-west-2"
}

# helm 3: "set" is a list of objects, not a block.
resource "helm_release" "block_syntax" {
  name  = "app"
  chart = "oci://registry.example.com/charts/app"
  set {
    name  = "a"
    value = "b"
  }
}

# An SDKv2 attribute-as-block written as objects needs every field.
resource "aws_security_group" "partial_rule" {
  name = "partial"
  ingress = [{
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }]
}

# Names the providers refuse: helm release names are at most 53 characters.
resource "helm_release" "long_name" {
  name  = "a-release-name-that-is-much-longer-than-helm-allows-it-to-be"
  chart = "oci://registry.example.com/charts/app"
}
"""

# A stack that names project files by relative paths, as the synthesized stack does.
RELATIVE_FILES = """\
variable "scripts" {
  type    = string
  default = "../../../scripts"
}

resource "helm_release" "present" {
  name  = "present"
  chart = "../../../charts/present"
  lifecycle {
    precondition {
      condition     = fileexists("${var.scripts}/on_create.sh")
      error_message = "on_create.sh is missing"
    }
  }
}

resource "helm_release" "missing" {
  name  = "missing"
  chart = "../../../charts/missing"
  lifecycle {
    precondition {
      condition     = fileexists("../../../charts/missing/Chart.yaml") || var.scripts == ""
      error_message = "the chart is missing"
    }
  }
}
"""

ID = {
    "aws_vpc": r"vpc-0[0-9a-f]{16}",
    "aws_subnet": r"subnet-0[0-9a-f]{16}",
}


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a hash of its content."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture(scope="module")
def fixture_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("offline-fixture")
    (folder / "main.tf").write_text(FIXTURE)
    return folder


@pytest.fixture(scope="module")
def cycle(fixture_folder: Path) -> dict[str, Any]:
    """plan, apply, in-place update (applied), replacement plan, destroy."""
    seen: dict[str, Any] = {}
    with Workspace(fixture_folder, zones=3) as ws:
        seen["plan"] = ws.plan()
        seen["plan"].json  # read while the workspace exists
        seen["apply"] = ws.apply(seen["plan"])
        seen["state"] = ws.resources()
        seen["outputs"] = ws.outputs()
        seen["update"] = ws.plan(vars={"extra_tags": {"team": "ml"}, "instance_count": 3})
        seen["update"].json
        ws.apply(seen["update"])
        seen["updated_state"] = ws.resources()
        seen["replace"] = ws.plan(vars={"cidr": "10.9.0.0/16", "cluster_name": "renamed"})
        seen["replace"].json
        seen["destroy"] = ws.destroy()
        seen["left"] = ws.state_list()
        ws.set_fakes(zones=4)
        seen["four_zones"] = ws.plan()
        seen["timings"] = list(ws.timings)
    print("\noffline cycle timings:", ", ".join(f"{step} {seconds:.2f}s" for step, seconds in seen["timings"]))
    return seen


def test_plan_keeps_configured_values_and_plans_computed_ones_as_unknown(cycle):
    plan = cycle["plan"]
    subnets = plan.addresses("create")
    assert plan.summary == f"Plan: {len(subnets)} to add, 0 to change, 0 to destroy."
    assert [a for a in subnets if a.startswith("aws_subnet.")] == [f"aws_subnet.private[{i}]" for i in range(3)]
    vpc = plan.change("aws_vpc.main")
    assert vpc["after"]["cidr_block"] == "10.0.0.0/16"
    assert vpc["after_unknown"]["id"] is True and vpc["after_unknown"]["arn"] is True
    # Known at plan as the real provider knows them: tags_all (default tags merged), region.
    assert vpc["after"]["tags_all"] == {"Name": "offline", "project": "offline-fixture"}
    assert vpc["after"]["region"] == "us-west-2"
    assert plan.after("aws_subnet.private[1]")["availability_zone"] == "us-west-2b"
    release = plan.change("helm_release.app")
    assert release["after"]["namespace"] == "default" and release["after"]["timeout"] == 300
    assert release["after"]["set"] == [{"name": "clusterName", "type": "", "value": None}] or release["after_unknown"]["set"]


def test_apply_gives_realistic_values(cycle):
    values = cycle["state"]
    vpc = values["aws_vpc.main"]
    assert re.fullmatch(ID["aws_vpc"], vpc["id"])
    assert vpc["arn"] == f"arn:aws:ec2:us-west-2:123456789012:vpc/{vpc['id']}"
    subnets = [values[f"aws_subnet.private[{i}]"] for i in range(3)]
    assert all(re.fullmatch(ID["aws_subnet"], s["id"]) for s in subnets)
    assert len({s["id"] for s in subnets}) == 3
    assert [s["availability_zone_id"] for s in subnets] == ["usw2-az1", "usw2-az2", "usw2-az3"]
    assert {s["vpc_id"] for s in subnets} == {vpc["id"]}
    role = values["aws_iam_role.cluster"]
    assert role["arn"] == "arn:aws:iam::123456789012:role/offline-cluster"
    cluster = values["aws_eks_cluster.main"]
    assert re.fullmatch(r"https://[0-9A-F]{32}\.gr7\.us-west-2\.eks\.amazonaws\.com", cluster["endpoint"])
    assert base64.b64decode(cluster["certificate_authority"][0]["data"]).startswith(b"-----BEGIN CERTIFICATE-----")
    assert cluster["identity"][0]["oidc"][0]["issuer"].startswith("https://oidc.eks.us-west-2.amazonaws.com/id/")
    assert re.fullmatch(r"sg-0[0-9a-f]{16}", cluster["vpc_config"][0]["cluster_security_group_id"])
    assert cluster["status"] == "ACTIVE" and cluster["arn"] == "arn:aws:eks:us-west-2:123456789012:cluster/offline"
    release = values["helm_release.app"]
    assert release["status"] == "deployed" and release["metadata"]["revision"] == 1
    hyperpod = values["aws_cloudcontrolapi_resource.hyperpod"]
    properties = json.loads(hyperpod["properties"])
    assert properties["ClusterStatus"] == "InService"
    assert re.fullmatch(r"arn:aws:sagemaker:us-west-2:123456789012:cluster/[a-z0-9]{12}", properties["ClusterArn"])
    assert hyperpod["id"] == properties["ClusterArn"]
    assert properties["InstanceGroups"][0]["InstanceCount"] == 2 and properties["InstanceGroups"][0]["CurrentCount"] == 2
    assert json.loads(hyperpod["desired_state"])["ClusterName"] == "offline-hyperpod"


def test_outputs_are_readable_after_apply(cycle):
    outputs = cycle["outputs"]
    assert outputs["zone_ids"] == ["usw2-az1", "usw2-az2", "usw2-az3"]
    assert outputs["hyperpod_status"] == "InService"
    assert outputs["account_id"] == "123456789012"
    assert outputs["vpc_id"] == cycle["state"]["aws_vpc.main"]["id"]
    assert cycle["apply"].summary.startswith(f"Apply complete! Resources: {len(cycle['plan'].addresses('create'))} added")


def test_in_place_updates_keep_ids_and_touch_nothing_else(cycle):
    plan = cycle["update"]
    # Only what the new variables reach changes: nothing the stand-in applied plans a diff.
    assert plan.summary == "Plan: 0 to add, 2 to change, 0 to destroy."
    assert plan.actions("aws_vpc.main") == ["update"]
    assert plan.actions("aws_cloudcontrolapi_resource.hyperpod") == ["update"], "an instance count is not create-only"
    before, after = cycle["state"], cycle["updated_state"]
    assert after["aws_vpc.main"]["id"] == before["aws_vpc.main"]["id"]
    assert after["aws_vpc.main"]["tags_all"] == {"Name": "offline", "team": "ml", "project": "offline-fixture"}
    hyperpod = json.loads(after["aws_cloudcontrolapi_resource.hyperpod"]["properties"])
    assert hyperpod["InstanceGroups"][0]["InstanceCount"] == 3
    assert after["aws_cloudcontrolapi_resource.hyperpod"]["id"] == before["aws_cloudcontrolapi_resource.hyperpod"]["id"]


def test_changes_the_real_provider_cannot_make_in_place_plan_a_replacement(cycle):
    plan = cycle["replace"]
    replaced = set(plan.replaced())
    assert {"aws_vpc.main", "aws_eks_cluster.main", "aws_iam_role.cluster"} <= replaced
    assert {f"aws_subnet.private[{i}]" for i in range(3)} <= replaced, "a new VPC id and CIDR replace each subnet"
    assert "helm_release.app" not in replaced, "helm replaces only on a new name or namespace"
    assert plan.stdout.count("# forces replacement") >= 5
    # Its desired state is unknown until the new cluster exists: like the real provider,
    # the stand-in cannot compare create-only properties then, so it plans an update.
    hyperpod = plan.change("aws_cloudcontrolapi_resource.hyperpod")
    assert hyperpod["actions"] == ["update"] and hyperpod["after_unknown"]["desired_state"] is True


def test_destroy_removes_everything(cycle):
    assert cycle["destroy"].summary.startswith("Destroy complete! Resources:")
    assert cycle["left"] == []


def test_the_zone_count_can_change_between_commands(cycle):
    assert "aws_subnet.private[3] will be created" in cycle["four_zones"].stdout
    assert "aws_subnet.private[4]" not in cycle["four_zones"].stdout


def test_a_second_workspace_applies_the_same_state_and_leaves_the_caller_alone(cycle, fixture_folder, tmp_path, monkeypatch):
    home, cache, data = tmp_path / "home", tmp_path / "plugin-cache", tmp_path / "data-dir"
    for folder in (home, cache, data):
        folder.mkdir()
    hostile = tmp_path / "terraformrc"
    # Were this configuration used, init would look for providers on a closed port.
    hostile.write_text('provider_installation {\n  network_mirror {\n    url = "https://127.0.0.1:9/"\n  }\n}\n')
    for name, value in {"HOME": home, "TF_CLI_CONFIG_FILE": hostile, "TF_PLUGIN_CACHE_DIR": cache, "TF_DATA_DIR": data}.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("TF_CLI_ARGS_plan", "-refresh=false -lock=not-a-bool")
    source_before = _snapshot(fixture_folder)
    with Workspace(fixture_folder, zones=3) as ws:
        ws.apply()
        again = ws.resources()
        workspace = ws.path
    assert again == cycle["state"], "the same configuration gives the same state in a fresh folder"
    assert not workspace.exists()
    assert _snapshot(fixture_folder) == source_before
    assert [list(folder.iterdir()) for folder in (home, cache, data)] == [[], [], []]


def test_the_real_providers_rejections_are_reproduced(tmp_path):
    (tmp_path / "main.tf").write_text(MISTAKES)
    with Workspace(tmp_path) as ws:
        with pytest.raises(TerraformError) as failed:
            ws.validate()
    errors = " ".join(failed.value.stderr.split())
    assert 'Blocks of type "set" are not expected here.' in errors
    assert '"prefix_list_ids", "security_groups", and "self" are required' in errors
    assert "invalid value for name" in errors and "expected length to be in the range (1 - 53)" in errors


def test_the_command_line_plans_a_folder(fixture_folder, capsys):
    from tooling.offline.__main__ import main

    assert main([str(fixture_folder), "--zones", "2", "--var", "cluster_name=cli"]) == 0
    out = capsys.readouterr().out
    assert "stand-in providers hashicorp/aws 6.25.0, hashicorp/helm 3.1.1" in out
    assert re.search(r"^Plan: 7 to add, 0 to change, 0 to destroy\. \(resources in us-west-2\)$", out, re.M)
    assert "AWS was not asked whether it accepts it" in out


def test_files_outside_the_folder_resolve_from_root_and_missing_charts_get_a_placeholder(tmp_path):
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    (project / "scripts" / "on_create.sh").write_text("#!/bin/sh\n")
    (project / "charts" / "present").mkdir(parents=True)
    (project / "charts" / "present" / "Chart.yaml").write_text("apiVersion: v2\nname: present\nversion: 1.0.0\n")
    synthesized = tmp_path / "elsewhere" / "out" / "stacks" / "s"  # written outside the project, as CDKTF_OUTDIR does
    synthesized.mkdir(parents=True)
    (synthesized / "main.tf").write_text(RELATIVE_FILES)
    with Workspace(synthesized, root=project, at="out/stacks/s") as ws:
        assert ws.directory == ws.path / "tree" / "out" / "stacks" / "s"
        linked = ws.path / "tree" / "scripts"
        assert linked.is_symlink() and (linked / "on_create.sh").is_file(), "the project's folder, linked not copied"
        assert any("charts/missing is missing; an empty placeholder" in note for note in ws.notes)
        plan = ws.plan()
        assert plan.summary == "Plan: 2 to add, 0 to change, 0 to destroy."
        with pytest.raises(ValueError, match="inside a linked folder"):
            ws.write_file("../../../scripts/on_create.sh", "overwritten")
        with pytest.raises(ValueError, match="outside the workspace"):
            ws.write_file("../../../../escape.txt", "x")
        assert ws.write_file("terraform.tfvars", 'scripts = "../../../scripts"\n').read_text().startswith("scripts")
    assert (project / "scripts" / "on_create.sh").read_text() == "#!/bin/sh\n"
    assert not (project / "charts" / "missing").exists(), "the placeholder is written in the workspace only"
    with Workspace(synthesized, root=project, at="out/stacks/s", chart_placeholders=False) as ws:
        assert ws.notes == [] and not (ws.path / "tree" / "charts" / "missing").exists()
        with pytest.raises(TerraformError, match="Resource precondition failed"):
            ws.plan()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"zones": 0}, "zones must be a whole number from 1 to 26"),
        ({"region": "oregon"}, "does not look like an AWS region"),
    ],
)
def test_bad_workspace_settings_are_refused_clearly(fixture_folder, arguments, message):
    with pytest.raises(ValueError, match=message):
        Workspace(fixture_folder, **arguments)


def test_a_folder_without_configuration_is_refused_clearly(tmp_path):
    from tooling.offline import ConfigurationError

    with pytest.raises(ConfigurationError, match="holds no"):
        Workspace(tmp_path)
    with pytest.raises(ConfigurationError, match="is not a folder"):
        Workspace(tmp_path / "missing")


TWO_REGIONS = """\
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.25.0"
    }
  }
}

provider "aws" {
  region = "us-west-2"
}

provider "aws" {
  alias  = "east"
  region = "us-east-1"
}

data "aws_region" "west" {}

data "aws_region" "east" {
  provider = aws.east
}

resource "aws_sqs_queue" "west" {
  name = "west"
}

resource "aws_sqs_queue" "east" {
  provider = aws.east
  name     = "east"
}

output "regions" {
  value = [data.aws_region.west.region, data.aws_region.east.region]
}

output "queues" {
  value = [aws_sqs_queue.west.arn, aws_sqs_queue.east.arn]
}
"""


def test_each_provider_configuration_keeps_its_own_settings(tmp_path):
    """The provider host answers every instance Terraform opens: an aliased
    configuration in another region stays in that region."""
    (tmp_path / "main.tf").write_text(TWO_REGIONS)
    with Workspace(tmp_path) as ws:
        ws.apply()
        outputs = ws.outputs()
    assert outputs["regions"] == ["us-west-2", "us-east-1"]
    assert [arn.split(":")[3] for arn in outputs["queues"]] == ["us-west-2", "us-east-1"]


def test_stand_ins_that_terraform_starts_itself_plan_what_the_host_plans(fixture_folder):
    """The installed provider executables (what a kept workspace runs by hand) give the
    same plan as the provider host."""
    import subprocess

    with Workspace(fixture_folder, zones=3) as ws:
        served = ws.plan().json["planned_values"]
        plan_file = ws.path / "standalone.tfplan"
        for command in (["plan", "-input=false", "-no-color", f"-out={plan_file}"], ["show", "-json", str(plan_file)]):
            done = subprocess.run([ws.terraform, *command], cwd=ws.directory, env=ws.standalone_env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
        assert "TF_REATTACH_PROVIDERS" not in ws.standalone_env
    assert json.loads(done.stdout)["planned_values"] == served


def _host_pid(ws: Workspace) -> int:
    (pid,) = {entry["Pid"] for entry in json.loads(ws.env["TF_REATTACH_PROVIDERS"]).values()}
    return pid


def test_workspaces_of_a_process_share_one_host_until_each_closes(tmp_path):
    """Two open workspaces are served by one host process; closing one stops only its
    providers: the other still plans."""
    (tmp_path / "main.tf").write_text(TWO_REGIONS)
    first, second = Workspace(tmp_path), Workspace(tmp_path)
    try:
        assert _host_pid(first) == _host_pid(second)
        first.plan()
        first.close()
        assert second.plan().counts["add"] == 2
    finally:
        first.close()
        second.close()


HOST_OF_A_PROCESS = """
import json, os, sys
from tooling.offline import Workspace
ws = Workspace(sys.argv[1], parent=sys.argv[2])
ws.plan()
(entry,) = {e["Pid"] for e in json.loads(ws.env["TF_REATTACH_PROVIDERS"]).values()}
print(entry, flush=True)
os._exit(0)  # no clean-up at all: the host still ends, and takes its folder with it
"""


def test_the_host_ends_with_the_process_that_started_it(tmp_path):
    import subprocess
    import sys
    import time

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "main.tf").write_text(TWO_REGIONS)
    (tmp_path / "workspaces").mkdir()
    (tmp_path / "temp").mkdir()  # the system temporary folder of the process and its host
    done = subprocess.run(
        [sys.executable, "-c", HOST_OF_A_PROCESS, str(tmp_path / "config"), str(tmp_path / "workspaces")],
        cwd=Path(__file__).resolve().parent.parent, env={**os.environ, "TMPDIR": str(tmp_path / "temp")},
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    stat = Path(f"/proc/{int(done.stdout)}/stat")

    def running() -> bool:  # a zombie (Z) has ended, only its parent has not read its status
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 10
    while (running() or list((tmp_path / "temp").iterdir())) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(), "the host ended"
    assert list((tmp_path / "temp").iterdir()) == [], "its folder went with it"
