"""The HyperPod dependencies chart (health monitoring, deep health checks, job auto-restart,
operators, device plugins), installed from a local checkout of aws/sagemaker-hyperpod-cli.

The chart is not published to a Helm repository: ``scripts/fetch-hyperpod-chart.sh`` checks
out a pinned commit into a git-ignored folder, and synth copies it into the module
(``CHART_FOLDER``). Synth never needs it; a precondition stops ``terraform plan`` with the
commands to run when it is missing.
``var.install_helm_dependencies`` counts the release in or out; nothing reads it but
``depends_on``.
"""

from __future__ import annotations

from typing import Any

from cdktf import Precondition, TerraformResourceLifecycle
from cdktf_cdktf_provider_helm.release import Release
from constructs import Construct

from modules.config.hyperpod import HyperPodConfig
from modules.core import refs
from modules.core.helm_values import TerraformValue, render_values
from modules.core.module import MODULE_ROOT

FETCH_SCRIPT = "scripts/fetch-hyperpod-chart.sh"
CHECKOUT_DIR = ".cache/sagemaker-hyperpod-cli"
CHART_IN_CHECKOUT = "helm_chart/HyperPodHelmChart"
# Where synth puts the fetched chart inside the HyperPod module.
CHART_FOLDER = "charts/hyperpod-dependencies"
RELEASE_NAME = "hyperpod-dependencies"


def hcl_bool(value: bool) -> str:
    return "true" if value else "false"
NAMESPACE = "kube-system"


def chart_values(config: HyperPodConfig, cert_manager: Any = None, gpu_partitioning: Any = None) -> dict[str, Any]:
    """Values of the chart; the keys are the conditions its Chart.yaml declares.
    ``cert_manager`` and ``gpu_partitioning`` replace the configured choices (Terraform
    expressions over the module's variables)."""
    subcharts = config.helm_subcharts
    partitioned = any(g.partitions_gpus for g in config.instance_groups) if gpu_partitioning is None else gpu_partitioning
    if isinstance(partitioned, TerraformValue):
        device_plugin: Any = TerraformValue(f"{hcl_bool(subcharts.nvidia_device_plugin)} && !({partitioned.expression})")
    else:
        device_plugin = subcharts.nvidia_device_plugin and not partitioned
    return {
        "health-monitoring-agent": {"enabled": subcharts.health_monitoring_agent},
        "deep-health-check": {"enabled": subcharts.deep_health_check},
        "job-auto-restart": {"enabled": subcharts.job_auto_restart},
        "trainingOperators": {"enabled": subcharts.training_operators},
        "mpi-operator": {"enabled": subcharts.mpi_operator},
        # With MIG the GPU operator brings the device plugin (and its MIG manager, which
        # reads each node's nvidia.com/mig.config label); two plugins would both advertise GPUs.
        "nvidia-device-plugin": {"devicePlugin": {"enabled": device_plugin}},
        "gpu-operator": {"enabled": partitioned},
        "neuron-device-plugin": {"devicePlugin": {"enabled": subcharts.neuron_device_plugin}},
        "aws-efa-k8s-device-plugin": {"devicePlugin": {"enabled": subcharts.efa_device_plugin}},
        # The HyperPod training operator add-on serves webhooks whose certificates cert-manager issues.
        "cert-manager": {"enabled": config.installs_cert_manager if cert_manager is None else cert_manager},
    }


class HelmDependencies(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: HyperPodConfig,
        enabled: str,
        wait_for: str,
        cert_manager: Any = None,
        gpu_partitioning: Any = None,
    ):
        """``enabled``: a condition; ``wait_for``: a reference the release waits for (the
        nodes its pods run on)."""
        chart = f"{MODULE_ROOT}/{CHART_FOLDER}"
        super().__init__(scope, construct_id)
        self.release = Release(
            self,
            "release",
            count=refs.count_when(enabled),
            name=RELEASE_NAME,
            chart=chart,
            namespace=NAMESPACE,
            dependency_update=True,
            values=[render_values(dict(sorted(chart_values(config, cert_manager, gpu_partitioning).items())))],
            timeout=900,
            lifecycle=TerraformResourceLifecycle(
                precondition=[
                    Precondition(
                        condition=f'${{fileexists("{chart}/Chart.yaml")}}',
                        error_message=(
                            f"The HyperPod helm chart is missing from the module ({CHART_FOLDER}): run "
                            f"{FETCH_SCRIPT} from the project root, synthesize again (make synth), then plan."
                        ),
                    )
                ]
            ),
        )
        refs.wait_for(self.release, wait_for)
