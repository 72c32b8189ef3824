"""Run the real ``terraform`` on a configuration offline, against stand-in providers.

The stand-ins speak Terraform's provider plugin protocol (tfplugin6, through PyPI ``tf``)
with schemas generated from the pinned cdktf provider bindings, so ``terraform init``,
``validate``, ``plan``, ``apply`` and ``destroy`` run with no network and no AWS account.
This proves a configuration is valid Terraform and plans what we expect; it does not
prove that AWS (or Kubernetes) accepts it: nothing is ever created anywhere.

What the stand-ins do
    - Schemas: every resource and data source type a configuration (and its local
      modules) uses, from the bindings' jsii assemblies (``jsii_schema.py``), cached in
      ``.cache/offline-standins/`` per bindings version; what the bindings lack (which
      changes force a replacement, sensitive flags, defaults, nested attributes) is data
      in ``facts.py``, with its sources.
    - Plan: configured values are kept; computed attributes are unknown unless the real
      provider knows them at plan (``tags_all``, ``region``, documented defaults);
      replacing attributes are marked so a plan shows ``must be replaced``.
    - Apply: computed values are deterministic and realistic (``vpc-0…`` ids, ARNs of the
      fake account ``123456789012`` in the configured partition and region, an EKS
      endpoint, CA and OIDC issuer, helm ``deployed``, Cloud Control ``properties`` with
      what CloudFormation reports, e.g. ``ClusterArn`` and ``ClusterStatus: InService``).
    - Data sources: availability zones (``zones`` of them: ``<region>a…``, ``usw2-az1…``),
      caller identity, partition, region, session context, EKS add-on versions and
      clusters (``fakes.py``).
    - Processes: one provider host per Python process (``serve.host``) serves the
      stand-ins of every open workspace, from the workspace's first command to its
      ``close``; the commands reach it through ``TF_REATTACH_PROVIDERS``, so Terraform
      starts no provider process (``init`` still installs the stand-ins from the mirror
      and writes the lock file). The host ends with the process that started it.
      ``standalone_env`` is the environment without the host, in which Terraform starts
      the installed stand-ins itself, as in a kept workspace run by hand.

The API
    ``Workspace(folder, zones=3, region="us-west-2", root=None, at=None, links=None,
    chart_placeholders=True, keep=False)`` copies ``folder`` into a temporary workspace
    (the folder itself is never written to) with a filesystem mirror holding the
    stand-ins and a CLI configuration; ``TF_CLI_CONFIG_FILE``, ``HOME`` and every other
    ``TF_*`` variable of the caller are replaced for its commands, and state goes to the
    workspace whatever backend the configuration names. ``../`` paths in the
    configuration resolve against ``root`` (default: the folder's own ancestors) with the
    copy placed at ``at`` (default: the folder's last path components), so a stack
    synthesized to a temporary ``CDKTF_OUTDIR`` still finds the project's
    ``lifecycle_scripts/`` and ``charts/``: ``root=REPO, at="cdktf.out/stacks/ml-platform"``.
    ``links`` maps paths inside that tree to real folders (e.g.
    ``{"dist/terraform-modules": tmp / "dist/terraform-modules"}``). A missing local helm
    chart gets an empty placeholder (``Workspace.notes`` says so) unless
    ``chart_placeholders=False``.

    Methods (``init`` runs once, on first need): ``init()``, ``validate()``,
    ``plan(vars=None, var_files=None, destroy=False) -> Plan``, ``apply(plan=None,
    vars=None, var_files=None)``, ``destroy(vars=None, var_files=None)``,
    ``output_json()``, ``outputs()``, ``state_list()``, ``state_json()``,
    ``state()``, ``resources()``, ``resource_values(address)`` (these read the state file;
    ``state_resources(state)`` gives ``resources()`` of a state document), ``run(*args)``, ``set_fakes(zones=, region=)``,
    ``write_file(path, text)`` (into the copy, e.g. a tfvars file or a chart the configuration expects);
    ``timings`` lists (step, seconds). A failed command raises ``TerraformError``
    carrying the command, ``returncode``, ``stdout`` and ``stderr`` (Terraform's
    diagnostics).

    ``Plan``: ``summary`` ("Plan: 139 to add, 0 to change, 0 to destroy."), ``counts``,
    ``json`` (``terraform show -json`` of the saved plan), ``resource_changes``,
    ``actions(address)``, ``after(address)``, ``addresses(*actions)``, ``replaced()``,
    ``outputs``, ``file``; ``save(folder)`` and ``Plan.load(folder)`` carry its output and
    ``json`` to another process.

Example::

    from tooling.offline import Workspace

    with Workspace("cdktf.out/stacks/ml-platform", zones=2) as ws:
        ws.validate()
        plan = ws.plan(vars={"hyperpod_enabled": False})
        print(plan.summary, plan.actions("aws_vpc.network_vpc"))
        ws.apply(plan)
        print(ws.outputs()["cluster_endpoint"])

From the shell: ``python -m tooling.offline cdktf.out/stacks/ml-platform`` (init, validate,
plan, summary) or ``make plan-offline``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BindingsError",
    "ConfigurationError",
    "Plan",
    "Result",
    "TerraformError",
    "Workspace",
    "served_schemas",
    "state_resources",
    "terraform_binary",
]


def __getattr__(name: str) -> Any:
    # Lazy: the provider process imports this package and needs none of the workspace code.
    if name == "served_schemas":
        from .schema import served_schemas

        return served_schemas
    if name in __all__:
        from . import workspace

        return getattr(workspace, name)
    raise AttributeError(name)
