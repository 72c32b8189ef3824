"""Constructs and configuration of the ML training platform (VPC, EKS, Karpenter, HyperPod).

Importing this package prepares the jsii runtime before any binding loads: a supported
Node.js (see ``core.node_runtime``) and lean provider imports (see ``core.lean_imports``).
"""

from .core import lean_imports, node_runtime

node_runtime.select_node()
lean_imports.install()
