"""Security groups of the platform's in-VPC Lambdas and its bastion: one per purpose, owned by their stack, HTTPS out
only."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

HTTPS = 443


def https_out_only(scope: Construct, construct_id: str, *, vpc: ec2.IVpc, description: str, egress: str) -> ec2.SecurityGroup:
    """No inbound rule; 443 out to any address: the subnet's routes decide what that reaches (in the cluster subnets the
    VPC, its endpoints and the API server's interfaces, the S3 gateway endpoint, whose prefix list cannot be named
    without an AWS lookup; they have no other route). Being the stack's own, CloudFormation deletes a Lambda's group
    after its Lambdas have released their network interfaces.

    :param description: the group's description (what uses it)
    :param egress: the egress rule's description (what it reaches)
    """
    group = ec2.SecurityGroup(scope, construct_id, vpc=vpc, description=description, allow_all_outbound=False)
    group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS), egress)
    return group
