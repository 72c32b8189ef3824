"""VPC flow logs to an encrypted CloudWatch log group with a retention."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from constructs import Construct

from modules.config.network import FlowLogsConfig
from modules.core.aws_context import AwsContext
from modules.core.iam import ServiceRole, Statement, policy_document
from modules.core.kms import CustomerKey

FLOW_LOGS_PRINCIPAL = "vpc-flow-logs.amazonaws.com"


class FlowLogs(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, aws: AwsContext, name: str, vpc_id: str, config: FlowLogsConfig
    ):
        super().__init__(scope, construct_id)
        log_group_name = f"/aws/vpc/{name}/flow-logs"
        key = CustomerKey(
            self,
            "key",
            aws=aws,
            alias=f"{name}-flow-logs",
            description=f"VPC flow logs of {name}",
            log_group_names=(log_group_name,),
        )
        log_group = CloudwatchLogGroup(
            self, "log_group", name=log_group_name, retention_in_days=config.retention_days, kms_key_id=key.arn
        )
        # The service may assume the role only on behalf of this account (confused deputy).
        trust = policy_document(
            Statement(
                "FlowLogsDelivery",
                ("sts:AssumeRole",),
                principals={"Service": FLOW_LOGS_PRINCIPAL},
                conditions={"StringEquals": {"aws:SourceAccount": aws.account_id}},
            )
        )
        role = ServiceRole(
            self,
            "role",
            name=f"{name}-flow-logs",
            description=f"Delivers VPC flow logs of {name}",
            trust_policy=trust,
            inline_policies={
                "deliver": policy_document(
                    Statement(
                        "WriteFlowLogs",
                        ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
                        (log_group.arn, f"{log_group.arn}:*"),
                    )
                )
            },
        )
        self.flow_log = FlowLog(
            self,
            "flow_log",
            vpc_id=vpc_id,
            traffic_type=config.traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            depends_on=role.grants,
        )
