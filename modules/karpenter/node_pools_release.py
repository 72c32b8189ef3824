"""The node classes and pools, delivered by the small chart in charts/karpenter-nodepools.

They are custom resources: a Helm release installs them after Karpenter (and its CRDs)
and removes them before it, where kubernetes_manifest would need the CRDs at plan time
and fail the first apply on a fresh account.
"""

from __future__ import annotations

from cdktf_cdktf_provider_helm.release import Release
from constructs import Construct

from .controller_role import CONTROLLER_NAMESPACE
from .pools import Pools

CHART_FOLDER = "charts/karpenter-nodepools"


class NodePoolsRelease(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pools: Pools,
        chart: str,
    ):
        super().__init__(scope, construct_id)
        self.release = Release(
            self,
            construct_id,
            name="karpenter-nodepools",
            namespace=CONTROLLER_NAMESPACE,
            chart=chart,
            values=[pools.values_yaml()],
            wait=True,
        )
