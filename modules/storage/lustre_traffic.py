"""Lustre traffic between a file system's security group and its clients' groups.

Lustre clients and servers talk on TCP 988 and on 1018-1023 (the clients' reserved
source ports); the FSx for Lustre User Guide ("File system access control with Amazon
VPC") asks for both ranges in both directions on the file system's group and on the
clients' groups. Each rule is its own resource, so a client group made elsewhere (the
HyperPod nodes', counted in or out with HyperPod) gets or loses its rules alone.
"""

from __future__ import annotations

from constructs import Construct

from modules.core.refs import count_when
from modules.core.security_group_rules import PortRule, allow_from_group, allow_to_group

LUSTRE_PORTS = (
    PortRule("lnet", "Lustre (LNet)", "tcp", 988, 988),
    PortRule("clients", "Lustre client ports", "tcp", 1018, 1023),
)


class LustreTraffic(Construct):
    """Rules admitting Lustre between ``server_group_id`` and ``client_group_id`` in both
    directions; without ``client_group_id``, between members of the server's own group
    (the file servers talk to each other). ``enabled``: a Terraform condition counting
    every rule in or out."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        server_group_id: str,
        clients: str,
        client_group_id: str | None = None,
        enabled: str | None = None,
    ):
        super().__init__(scope, construct_id)
        count = count_when(enabled) if enabled else None
        # Each side admits the other's Lustre traffic both ways; one group admits itself.
        sides = [("server", server_group_id, client_group_id or server_group_id, clients)]
        if client_group_id is not None:
            sides.append(("client", client_group_id, server_group_id, "the file system"))
        self.rules: list[Construct] = []
        for port in LUSTRE_PORTS:
            for side, group_id, peer_id, peer in sides:
                self.rules.append(
                    allow_from_group(
                        self, f"{side}_from_{port.key}", group_id=group_id, source_group_id=peer_id,
                        rule=port, description=f"{port.description} from {peer}",
                    )
                )
                self.rules.append(
                    allow_to_group(
                        self, f"{side}_to_{port.key}", group_id=group_id, target_group_id=peer_id,
                        rule=port, description=f"{port.description} to {peer}",
                    )
                )
        if count is not None:
            for rule in self.rules:
                rule.count = count  # type: ignore[attr-defined]
