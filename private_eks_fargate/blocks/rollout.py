"""A deploy-time wait that guards every change of a Deployment: the deploy ends only when its rollout is complete.

It is aws-cdk-lib's ``KubernetesObjectValue`` unchanged. Its handler runs
``kubectl get -n NS TYPE NAME -o=jsonpath='{PATH}'`` every 10 s until the output is non-empty, treats a kubectl error
like empty output, and fails the deploy at the timeout. Three choices make that a rollout check:

- TYPE and NAME are both ``deployment/NAME``: kubectl then prints a ``List``, and a JSONPath filter over ``.items``
  can compare two fields of the Deployment (a filter on a single object cannot);
- gates ``.items[?(BAD)].metadata[0]`` make kubectl fail while BAD holds (``[0]`` on a map is an error, and no match
  evaluates nothing), the final expression prints only for a complete rollout. Together: the current generation is
  observed, every replica is updated, no old replica is left, every updated replica is available, and the
  Progressing condition's reason is ``NewReplicaSetAvailable`` -- what ``kubectl rollout status`` checks;
- a no-op segment ``.metadata.annotations.rev-<hash>`` (the List's metadata is empty) carries a hash of what was
  applied, so CloudFormation updates the wait, which runs it again, whenever the manifest or image changes.

Tested with the real handler and the real kubectl on a Deployment at each stage of a rollout
(``tests/fixtures/rollout``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

#: each makes kubectl fail (the handler polls again) while the rollout is not complete
GATES = (
    "@.metadata.generation!=@.status.observedGeneration",
    "@.spec.replicas!=@.status.updatedReplicas",
    "@.status.replicas!=@.status.updatedReplicas",
)
COMPLETE = (
    '.items[?(@.status.availableReplicas==@.status.updatedReplicas)]'
    '.status.conditions[?(@.reason=="NewReplicaSetAvailable")].status'
)


def revision(value: Any, scope: Construct) -> str:
    """10 hex digits of `value` as CloudFormation will see it (tokens resolved to their Ref/GetAtt form)."""
    resolved = Stack.of(scope).resolve(value)
    return hashlib.sha256(json.dumps(resolved, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:10]


def rollout_json_path(rev: str, *deploy_time: str) -> str:
    """The JSONPath for a ``KubernetesObjectValue`` whose type and name are both ``deployment/NAME``.

    `deploy_time`: alphanumeric values known only at deploy time (tokens, e.g. the hex of an image digest) that the
    revision also carries, so that CloudFormation runs the wait again when they change.
    """
    if not rev.isalnum():
        raise ValueError(f"revision {rev!r} must be alphanumeric: it sits inside a field name")
    revision_segment = f".metadata.annotations.rev-{rev}{''.join(deploy_time)}"
    return "}{".join([revision_segment, *(f".items[?({gate})].metadata[0]" for gate in GATES), COMPLETE])


def rollout_wait(
    scope: Construct,
    construct_id: str,
    *,
    cluster: eks.ICluster,
    namespace: str,
    deployment: str,
    applied: Any,
    timeout: Duration,
    deploy_time: Sequence[str] = (),
) -> eks.KubernetesObjectValue:
    """Wait until Deployment `namespace/deployment` has completed the rollout of `applied`, or fail the deploy.

    :param cluster: the cluster the Deployment runs in
    :param namespace: the Deployment's namespace
    :param deployment: the Deployment's name
    :param applied: what the deploy applies to it (manifest, or add-on version and configuration): a change of it
        re-runs the wait
    :param timeout: how long the wait polls before the deploy fails (the kubectl Lambda stops at 15 minutes)
    :param deploy_time: alphanumeric deploy-time values of what is applied (e.g. an image digest's hex), which the
        hash of `applied` cannot see. default: none
    """
    target = f"deployment/{deployment}"
    return eks.KubernetesObjectValue(
        scope,
        construct_id,
        cluster=cluster,
        object_type=target,
        object_name=target,
        object_namespace=namespace,
        json_path=rollout_json_path(revision(applied, scope), *deploy_time),
        timeout=timeout,
    )
