"""The rollout wait, run by aws-cdk-lib's real KubernetesObjectValue handler with the real kubectl of the layer against
a fake API server serving a Deployment recorded at each stage of a rollout (tests/fixtures/rollout, written by
make_fixtures.py with status blocks as the Deployment controller writes them)."""

import json
import shutil

import pytest
from private_eks_fargate.blocks.rollout import rollout_json_path

from conftest import FIXTURES
from rollout_harness import FAKE_AWS, Clock, FakeApi, StopPolling, event, load_handler

STAGES = {path.stem: json.loads(path.read_text()) for path in sorted((FIXTURES / "rollout").glob("*.json"))}
COMPLETE = {"03-created-complete", "10-updated-complete", "14-scaled-complete"}
PATH = rollout_json_path("0123abcd45")
#: the sample app's wait before this change: the Available condition, which stays True through a stuck rollout
AVAILABLE = '.status.conditions[?(@.reason=="MinimumReplicasAvailable")].status'


@pytest.fixture(scope="module")
def handler(kubectl_binary, tmp_path_factory):
    """The handler module with `kubectl` and a fake `aws` on PATH, talking to a fake API server."""
    workdir = tmp_path_factory.mktemp("rollout")
    bindir = workdir / "bin"
    bindir.mkdir()
    shutil.copy(kubectl_binary, bindir / "kubectl")
    (bindir / "aws").write_text(FAKE_AWS)
    (bindir / "aws").chmod(0o755)
    with FakeApi() as api, pytest.MonkeyPatch.context() as env:
        (workdir / "fake-kubeconfig").write_text(api.kubeconfig())
        env.setenv("PATH", f"{bindir}:{__import__('os').environ['PATH']}")
        env.setenv("TEST_OUTDIR", str(workdir))
        env.setenv("FAKE_KUBECONFIG", str(workdir / "fake-kubeconfig"))
        module = load_handler(workdir)
        module.time = Clock()
        module.api = api
        yield module


def poll_once(handler, stage: dict, json_path: str = PATH, target=("deployment/web", "deployment/web")):
    """One poll of the wait for Deployment web: ("done", value) or ("poll again", None)."""
    handler.api.objects = {("custom-space", stage["metadata"]["name"]): stage}
    try:
        return "done", handler.get_handler(event(json_path, target=target), None)["Data"]["Value"]
    except StopPolling:
        return "poll again", None


def test_fixtures_cover_every_stage_of_a_rollout():
    assert len(STAGES) == 14 and COMPLETE < set(STAGES)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_the_wait_ends_exactly_when_the_rollout_is_complete(handler, stage):
    verdict, value = poll_once(handler, STAGES[stage])
    assert verdict == ("done" if stage in COMPLETE else "poll again")
    if stage in COMPLETE:
        assert value == "True True"  # kubectl prints a List: type and name both deployment/web


def test_the_previous_wait_passed_a_stuck_rollout(handler):
    """Why the wait changed: the Available condition stays True while the new pods never get ready."""
    stuck = STAGES["06-updated-stuck"]
    assert poll_once(handler, stuck, AVAILABLE, target=("deployment", "web"))[0] == "done"
    assert poll_once(handler, stuck)[0] == "poll again"


def test_a_missing_deployment_is_polled_again(handler):
    other = json.loads(json.dumps(STAGES["10-updated-complete"]))
    other["metadata"]["name"] = "other"
    assert poll_once(handler, other)[0] == "poll again"


def test_the_handler_polls_through_a_rollout_until_it_completes(handler):
    stages = ["05-updated-rs-created", "06-updated-stuck", "08-updated-half-way", "09-updated-old-pod-left", "10-updated-complete"]
    handler.api.objects = {("custom-space", "web"): STAGES[stages[0]]}
    seen = []

    def next_stage(_seconds):
        seen.append(stages.pop(0))
        handler.api.objects = {("custom-space", "web"): STAGES[stages[0]]}

    handler.time.sleep = next_stage
    try:
        assert handler.get_handler(event(PATH), None) == {"Data": {"Value": "True True"}}
    finally:
        handler.time.sleep = Clock.stop
    assert seen == ["05-updated-rs-created", "06-updated-stuck", "08-updated-half-way", "09-updated-old-pod-left"]


def test_a_rollout_past_its_deadline_fails_the_deploy_at_the_timeout_with_an_oversized_reason(handler):
    handler.api.objects = {("custom-space", "web"): STAGES["07-updated-deadline-exceeded"]}
    clock = iter(range(0, 10_000, 10))
    handler.time.time, handler.time.sleep = lambda: next(clock), lambda _seconds: None
    try:
        with pytest.raises(RuntimeError, match="Timeout waiting for output") as failure:
            handler.get_handler(event(PATH, timeout=60), None)
    finally:
        handler.time = Clock()
    # kubectl's debug dump of the object is in the reason: over the 4096 bytes CloudFormation takes from a custom
    # resource, so the stack event says "Response object is too long." (docs/day-2.md: where to read the reason instead)
    assert len(str(failure.value)) > 4096


def test_the_revision_changes_the_property_but_never_the_result(handler):
    other = rollout_json_path("fedcba9876")
    assert other != PATH
    assert poll_once(handler, STAGES["10-updated-complete"], other) == ("done", "True True")
    assert poll_once(handler, STAGES["06-updated-stuck"], other)[0] == "poll again"
    with pytest.raises(ValueError):
        rollout_json_path("x}{y")


def test_delete_does_nothing(handler):
    assert handler.get_handler(event(PATH, request_type="Delete"), None) is None
