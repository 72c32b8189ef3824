"""What Kubernetes accepts for the labels and taints the configuration writes."""

from __future__ import annotations

from typing import Annotated, Literal

from .patterns import described

# A label name: at most 63 letters, digits, '-', '_' or '.', alphanumeric at both ends.
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
# A key: an optional DNS-subdomain prefix and a name; a value: a name or empty.
LABEL_KEY_PATTERN = rf"^([a-z0-9]([-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_LABEL_NAME}$"
LABEL_VALUE_PATTERN = rf"^({_LABEL_NAME})?$"

LabelKey = Annotated[str, described(LABEL_KEY_PATTERN, "a Kubernetes key such as example.com/team or team")]
LabelValue = Annotated[str, described(LABEL_VALUE_PATTERN, "at most 63 letters, digits, '-', '_' or '.', alphanumeric at both ends")]
TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]

# A namespace (and any DNS-1123 label): at most 63 lowercase letters, digits and '-',
# alphanumeric at both ends.
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DnsLabel = Annotated[str, described(DNS_LABEL_PATTERN, "at most 63 lowercase letters, digits and '-', alphanumeric at both ends")]
Namespace = DnsLabel
