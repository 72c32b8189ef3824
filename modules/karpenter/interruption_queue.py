"""Interruption handling: EventBridge rules forward EC2 and AWS Health events about nodes to
an SQS queue that Karpenter reads, so it drains a node before it is reclaimed."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from constructs import Construct

from modules.core.aws_context import AwsContext
from modules.core.iam import Statement, policy_document

# Karpenter acts on a message within seconds; an older one describes a node that is gone.
MESSAGE_RETENTION_SECONDS = 300


@dataclass(frozen=True)
class InterruptionEvent:
    key: str
    """Names the rule: at most 20 characters, so rule names stay within EventBridge's 64."""
    source: str
    detail_type: str

    def pattern(self) -> str:
        return json.dumps({"source": [self.source], "detail-type": [self.detail_type]}, sort_keys=True)


INTERRUPTION_EVENTS = (
    InterruptionEvent("spot_interruption", "aws.ec2", "EC2 Spot Instance Interruption Warning"),
    InterruptionEvent("rebalance", "aws.ec2", "EC2 Instance Rebalance Recommendation"),
    InterruptionEvent("state_change", "aws.ec2", "EC2 Instance State-change Notification"),
    InterruptionEvent("health_event", "aws.health", "AWS Health Event"),
    InterruptionEvent("capacity_reservation", "aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
)


class InterruptionQueue(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, name: str):
        super().__init__(scope, construct_id)
        self.queue_name = f"{name}-karpenter"
        """Known at synth time, for the chart values; depend on ``policy`` to use the queue."""
        self.queue = SqsQueue(
            self,
            "queue",
            name=self.queue_name,
            message_retention_seconds=MESSAGE_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
        )
        self.rules = [self._rule(name, event) for event in INTERRUPTION_EVENTS]
        self.policy = SqsQueuePolicy(
            self,
            "policy",
            queue_url=self.queue.url,
            policy=policy_document(
                Statement(
                    "EventBridgeRulesSend",
                    ("sqs:SendMessage",),
                    (self.queue.arn,),
                    principals={"Service": f"events.{aws.dns_suffix}"},
                    conditions={"ArnEquals": {"aws:SourceArn": [rule.arn for rule in self.rules]}},
                ),
                Statement(
                    "DenyWithoutTls",
                    ("sqs:*",),
                    (self.queue.arn,),
                    effect="Deny",
                    principals={"AWS": "*"},
                    conditions={"Bool": {"aws:SecureTransport": "false"}},
                ),
            ),
        )

    def _rule(self, name: str, event: InterruptionEvent) -> CloudwatchEventRule:
        rule = CloudwatchEventRule(
            self,
            f"rule_{event.key}",
            name=f"{name}-karpenter-{event.key.replace('_', '-')}",
            description=f"{event.detail_type} events for Karpenter of {name}",
            event_pattern=event.pattern(),
        )
        CloudwatchEventTarget(
            self,
            f"target_{event.key}",
            rule=rule.name,
            target_id="karpenter-interruption-queue",
            arn=self.queue.arn,
        )
        return rule

    @property
    def arn(self) -> str:
        return self.queue.arn
