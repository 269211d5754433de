"""The delivery pipeline's settings (``pipeline.*``): where the pipeline runs, what it builds from, in which order it
deploys the environments. Declared like every other setting (``catalog.setting``); without any ``pipeline.*`` key the
app builds no pipeline. Which environments a person approves is not a pipeline setting: every environment whose
``compliance.production`` is true is approved before it is deployed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from . import parsers
from .catalog import key_of, setting
from .checks import ACCOUNT_ID, BUCKET_NAME, REGION_NAME
from .errors import ConfigError

#: owner/name as AWS CodeConnections names a repository (GitLab groups nest: group/subgroup/name)
REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")
CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"connection/[0-9a-f-]{36}$"
)
TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):[A-Za-z0-9_-]{1,256}$")
#: a git branch name: no spaces, control characters, '..', '~^:?*[\' or a leading '-' (git check-ref-format)
BRANCH = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[^\s~^:?*\[\\\x00-\x1f\x7f]{1,255}(?<![./])$")
CONNECTION_EXAMPLE = "arn:aws:codeconnections:eu-west-1:999999999999:connection/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
#: where each key of the section is
SECTION = "pipeline"


@dataclass(frozen=True, kw_only=True)
class PipelineSettings:
    """A CDK pipeline in a tooling account that deploys the environments of ``app.environments`` in order, each
    after the project's gates passed, each production environment after a person approved it."""

    account: str | None = setting(
        None, key="pipeline.account", parse=parsers.text,
        doc="the tooling account the pipeline runs in (any pipeline.* key builds the pipeline)",
        allowed="12-digit account id; required with the other pipeline.* settings", default_text="none (no pipeline)",
    )
    region: str | None = setting(
        None, key="pipeline.region", parse=parsers.text, doc="the pipeline's region; it deploys the environments of this region (one pipeline per region)",
        allowed="a region name, e.g. eu-west-1; required with pipeline.account", default_text="none",
    )
    repository: str | None = setting(
        None, key="pipeline.repository", parse=parsers.text,
        doc="the repository (AWS CodeConnections) whose pushes to pipeline.branch start the pipeline",
        allowed="owner/name, with pipeline.connection_arn; or pipeline.source_bucket instead", default_text="none",
    )
    connection_arn: str | None = setting(
        None, key="pipeline.connection_arn", parse=parsers.text,
        doc="the AWS CodeConnections connection to that repository (created and authorized in the tooling account)",
        allowed="arn:aws:codeconnections:REGION:ACCOUNT:connection/ID", default_text="none",
    )
    branch: str = setting(
        "main", key="pipeline.branch", parse=parsers.text, doc="the branch the pipeline releases", allowed="a git branch name",
    )
    source_bucket: str | None = setting(
        None, key="pipeline.source_bucket", parse=parsers.text,
        doc="instead of a repository: a versioned S3 bucket in the tooling account whose zip of the project starts the "
        "pipeline when a new version is written (air-gapped organizations; S3 events through a CloudTrail trail that "
        "logs the bucket's data events)",
        allowed="an S3 bucket name; not with pipeline.repository", default_text="none",
    )
    source_key: str = setting(
        "private-eks-fargate.zip", key="pipeline.source_key", parse=parsers.text,
        doc="the zip's object key in pipeline.source_bucket", allowed="an S3 object key ending in .zip",
    )
    environments: Sequence[str] = setting(
        (), key="pipeline.environments", parse=parsers.strings,
        doc="the environments of app.environments the pipeline deploys, in this order; each production one "
        "(compliance.production) after a manual approval",
        allowed="names of app.environments, each once", default_text="every environment of app.environments, in their order",
    )
    approval_topic_arn: str | None = setting(
        None, key="pipeline.approval_topic_arn", parse=parsers.text,
        doc="an SNS topic that tells the approvers a production deploy waits for them",
        allowed="an SNS topic ARN in the pipeline's account and region", default_text="none (approvers watch the console)",
    )
    access_log_bucket: str | None = setting(
        None, key="pipeline.access_log_bucket", parse=parsers.text,
        doc="an existing bucket of the tooling account for the artifact bucket's S3 server access logs",
        allowed="an S3 bucket name in the pipeline's account and region whose policy lets logging.s3.amazonaws.com write",
        default_text="none (the pipeline stack creates one; it cannot log itself: AWS Control Tower's CT.S3.PR.2)",
    )

    @property
    def uses_connection(self) -> bool:
        return self.repository is not None

    def validate(self) -> None:
        key = lambda name: key_of(PipelineSettings, name)  # noqa: E731
        if self.account is None or self.region is None:
            missing = "account" if self.account is None else "region"
            raise ConfigError(
                key(missing), "required with the pipeline settings; give pipeline.account and pipeline.region (the "
                "tooling account and region the pipeline runs in)",
            )
        if not ACCOUNT_ID.match(self.account):
            raise ConfigError(key("account"), f"{self.account!r} is not a 12-digit AWS account id")
        if not REGION_NAME.match(self.region):
            raise ConfigError(key("region"), f"{self.region!r} is not an AWS region name (e.g. eu-west-1)")
        self._validate_source(key)
        if not BRANCH.match(self.branch):
            raise ConfigError(key("branch"), f"{self.branch!r} is not a git branch name")
        names = list(self.environments)
        if len(set(names)) != len(names):
            raise ConfigError(key("environments"), f"{names!r} lists an environment more than once; each is deployed once")
        if self.approval_topic_arn is not None:
            topic = TOPIC_ARN.match(self.approval_topic_arn)
            if topic is None:
                raise ConfigError(key("approval_topic_arn"), f"{self.approval_topic_arn!r} is not an SNS topic ARN "
                                  "(arn:aws:sns:REGION:ACCOUNT:NAME)")
            if (topic["account"], topic["region"]) != (self.account, self.region):
                raise ConfigError(key("approval_topic_arn"), f"the topic is in {topic['account']}/{topic['region']}; "
                                  f"the approval publishes only to a topic of the pipeline's {self.account}/{self.region}")
        if self.access_log_bucket is not None and not BUCKET_NAME.match(self.access_log_bucket):
            raise ConfigError(key("access_log_bucket"), f"{self.access_log_bucket!r} is not an S3 bucket name")

    def _validate_source(self, key) -> None:
        if self.source_bucket is not None:
            if self.repository is not None or self.connection_arn is not None:
                given = key("repository") if self.repository is not None else key("connection_arn")
                raise ConfigError(key("source_bucket"), f"not with {given}; the pipeline has one source, a repository or a bucket")
            if not BUCKET_NAME.match(self.source_bucket):
                raise ConfigError(key("source_bucket"), f"{self.source_bucket!r} is not an S3 bucket name")
            if not self.source_key.endswith(".zip") or self.source_key.startswith("/"):
                raise ConfigError(key("source_key"), f"{self.source_key!r} is not allowed; give the object key of a zip, "
                                  "e.g. private-eks-fargate.zip")
            return
        if self.repository is None and self.connection_arn is None:
            raise ConfigError(
                key("repository"), "the pipeline needs a source: pipeline.repository and pipeline.connection_arn (AWS "
                "CodeConnections), or pipeline.source_bucket (S3)",
            )
        if self.repository is None:
            raise ConfigError(key("repository"), "required with pipeline.connection_arn; give owner/name")
        if not REPOSITORY.match(self.repository):
            raise ConfigError(key("repository"), f"{self.repository!r} is not a repository name; give owner/name, e.g. bank/platform")
        if self.connection_arn is None:
            raise ConfigError(key("connection_arn"), f"required with pipeline.repository; give the connection's ARN, e.g. "
                              f"{CONNECTION_EXAMPLE}")
        if not CONNECTION_ARN.match(self.connection_arn):
            raise ConfigError(key("connection_arn"), f"{self.connection_arn!r} is not an AWS CodeConnections ARN (e.g. "
                              f"{CONNECTION_EXAMPLE})")
