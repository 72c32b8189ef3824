"""Copy the facts the configuration takes from botocore's service models into the project
(``modules/config/data/``), so synth needs no botocore and a fresh clone validates the same.

    python -m scripts.refresh_reference_data [--check]

Writes ``sagemaker_api.json`` (limits and enums of the SageMaker CreateCluster shapes the
configuration writes) and ``aws_regions.json`` (every region of every partition), each
with the botocore version it came from. ``--check`` writes nothing and exits 1 when the
copies differ from the installed botocore (the tests run the same comparison).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "modules" / "config" / "data"
# The CreateCluster shapes whose limits the configuration enforces.
SAGEMAKER_SHAPES = (
    "ClusterInstanceGroupSpecifications",
    "ClusterInstanceCount",
    "ClusterInstanceType",
    "ClusterInstanceGroupName",
    "ClusterName",
    "ClusterThreadsPerCore",
    "ClusterEbsVolumeSizeInGB",
    "ClusterKubernetesLabels",
    "ClusterKubernetesLabelKey",
    "ClusterKubernetesLabelValue",
    "ClusterKubernetesTaints",
    "ClusterRestrictedInstanceGroupSpecifications",
    "ClusterInstanceMemoryAllocationPercentage",
)
LIMIT_KEYS = ("type", "min", "max", "pattern", "enum")


def sagemaker_api() -> dict[str, Any]:
    import botocore
    import botocore.loaders

    model = botocore.loaders.Loader().load_service_model("sagemaker", "service-2")
    shapes = {name: {k: model["shapes"][name][k] for k in LIMIT_KEYS if k in model["shapes"][name]} for name in SAGEMAKER_SHAPES}
    return {
        "source": f"botocore {botocore.__version__}, data/sagemaker/{model['metadata']['apiVersion']}/service-2.json",
        "shapes": shapes,
    }


def aws_regions() -> dict[str, Any]:
    import botocore
    import botocore.loaders

    endpoints = botocore.loaders.Loader().load_data("endpoints")
    regions = {partition["partition"]: sorted(partition["regions"]) for partition in endpoints["partitions"]}
    return {"source": f"botocore {botocore.__version__}, data/endpoints.json", "regions": regions}


def copies() -> dict[str, dict[str, Any]]:
    return {"sagemaker_api.json": sagemaker_api(), "aws_regions.json": aws_regions()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if a copy is stale")
    args = parser.parse_args(argv)
    stale = []
    for name, content in copies().items():
        text = json.dumps(content, indent=1, sort_keys=True) + "\n"
        path = DATA / name
        if args.check:
            if not path.exists() or json.loads(path.read_text()) != content:
                stale.append(name)
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(DATA.parents[2])} ({content['source']})")
    if stale:
        print(f"stale copies (run python -m scripts.refresh_reference_data): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
