"""An S3 bucket for a delivery pipeline's artifacts: the cloud assembly each execution built and deploys, and the review
reports an approver reads. Evidence of what was deployed, so it is kept like the logs: customer-managed key (rotating,
retained), versioned, Object Lock on, TLS only, no ACLs, no public access, server access logs, kept on destroy."""

from __future__ import annotations

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..compliance import HIPAA, NIST, PCI, acknowledge, acknowledge_in_packs, skip_checkov, user_choice
from .keys import platform_key

#: aws-cdk-lib lets S3 deliver server access logs through a bucket policy (not the LogDeliveryWrite ACL) when this
#: feature flag is on; cdk.json sets it (docs/feature-flags.md), and the store sets it for its own constructs too, so
#: that it holds in a library user's app whatever that app's cdk.json says
LOGS_BY_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"
#: incomplete multipart uploads are useless after a week
ABORT_UPLOADS_AFTER_DAYS = 7


class ArtifactStore(Construct):
    """The artifact bucket, its KMS key and (unless one is given) the bucket its server access logs go to.

    :param retention_days: how long objects are kept (current and noncurrent versions): the compliance log retention
    :param access_log_bucket: an existing bucket of this account and region for the server access logs. default: none,
        a bucket is created here; it cannot log its own access (AWS Control Tower's CT.S3.PR.2, declared as the
        choice of ``access_log_setting``)
    :param access_log_setting: the setting that names an existing log bucket (for the declared choice)
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        retention_days: int,
        access_log_bucket: str | None = None,
        access_log_setting: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.node.set_context(LOGS_BY_BUCKET_POLICY, True)
        self.key: kms.Key = platform_key(
            self, "Key", description="Encryption of the delivery pipeline's artifacts, review reports and access logs"
        )
        if access_log_bucket is None:
            self.log_bucket: s3.IBucket = self._bucket("AccessLogs", retention_days)
            self._acknowledge_log_bucket(self.log_bucket, access_log_setting)
        else:
            self.log_bucket = s3.Bucket.from_bucket_name(self, "AccessLogs", access_log_bucket)
        self.bucket: s3.Bucket = self._bucket("Artifacts", retention_days, log_bucket=self.log_bucket)
        if access_log_bucket is not None:
            Annotations.of(self.bucket).acknowledge_warning(
                "@aws-cdk/aws-s3:accessLogsPolicyNotAdded",
                f"{access_log_setting} names an existing log bucket: its own policy admits the S3 logging service",
            )
        acknowledge_in_packs(
            self.bucket.node.default_child, "S3BucketReplicationEnabled", (NIST, HIPAA, PCI),
            "This artifact bucket holds what each pipeline execution built from its commit; a rebuild from the commit "
            "recreates it, and the pipeline runs in one region by design, so no replica is kept elsewhere.",
        )

    def _bucket(self, construct_id: str, retention_days: int, *, log_bucket: s3.IBucket | None = None) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            object_lock_enabled=True,
            server_access_logs_bucket=log_bucket,
            server_access_logs_prefix=f"{construct_id.lower()}/" if log_bucket is not None else None,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="Retention",
                    expiration=Duration.days(retention_days),
                    noncurrent_version_expiration=Duration.days(retention_days),
                    abort_incomplete_multipart_upload_after=Duration.days(ABORT_UPLOADS_AFTER_DAYS),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # events of the bucket to EventBridge, set on the resource itself (aws-cdk-lib's event_bridge_enabled adds a
        # custom-resource Lambda outside any VPC to do the same)
        bucket.node.default_child.add_property_override("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)
        return bucket

    def _acknowledge_log_bucket(self, bucket: s3.Bucket, setting: str) -> None:
        resource = bucket.node.default_child
        why = (f"the bucket that receives the artifact bucket's server access logs cannot log its own access into itself; "
               f"name an existing log bucket of the account in {setting}")
        user_choice(resource, "CT.S3.PR.2", setting, why)
        # cdk-nag's S1 / S3BucketLoggingEnabled pass a bucket another bucket of the stack logs into; checkov does not
        reason = ("This bucket is the target of the artifact bucket's S3 server access logs; logging its own access "
                  "into itself would log every log delivery again, so it has none.")
        skip_checkov(resource, "CKV_AWS_18", reason)
        acknowledge_in_packs(
            resource, "S3BucketReplicationEnabled", (NIST, HIPAA, PCI),
            "This bucket keeps the access logs of one region's pipeline artifact bucket for the retention period; the "
            "pipeline runs in one region by design, so no replica is kept elsewhere.",
        )
