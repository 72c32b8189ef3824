"""Building blocks shared by every subsystem, and what two subsystems agree on: the
stack base class and naming, module calls, variables from settings, IAM documents, KMS
keys, private buckets, security-group rules, EKS add-ons and pod identities, node facts.

A library: each module of this package is a public unit; import it directly
(``from modules.core.iam import Statement``).
"""
