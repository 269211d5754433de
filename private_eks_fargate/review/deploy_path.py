"""The deploy's longest path, from the synthesized templates' dependency graph and nominal durations.

CloudFormation creates a resource once everything it depends on exists: its ``DependsOn`` and every resource it
references (``Ref``, ``Fn::GetAtt``, ``Fn::Sub``). A stack starts when the stacks it depends on are complete (the
CDK CLI deploys them in that order). With a nominal duration per resource type, the latest finish is the deploy's
length and the chain of resources leading to it is its longest path. Standard library only; reads templates only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from .assembly import StackTemplate

#: Minutes per resource type (nominal, from observed EKS deploys); every other resource counts as about 0.
NOMINAL_MINUTES: Mapping[str, float] = {
    "AWS::EKS::Cluster": 10.0,
    "AWS::EKS::FargateProfile": 2.5,
    "Custom::AWSCDK-EKS-KubernetesResource": 0.5,
    "Custom::AWSCDK-EKS-KubernetesPatch": 0.5,
    "AWS::EKS::Addon": 0.5,
    "Custom::AWSCDK-EKS-HelmChart": 0.5,
    "Custom::AWSCDK-EKS-KubernetesObjectValue": 1.5,
    # the image copy: CodeBuild's start, skopeo's install, the copy and the digest (2 to 4 minutes)
    "Custom::ImageCopy": 3.0,
}


@dataclass(frozen=True)
class Step:
    """One resource on the path: when it starts and finishes, in minutes after the deploy began."""

    stack: str
    logical_id: str
    type: str
    start: float
    finish: float


@dataclass(frozen=True)
class DeployPath:
    minutes: float
    steps: tuple[Step, ...]

    def describe(self) -> str:
        """One line: the total and each timed step (resources of about 0 minutes are left out)."""
        timed = [f"{s.logical_id} ({s.finish - s.start:g})" for s in self.steps if s.finish > s.start]
        return f"{self.minutes:.1f} min: " + " -> ".join(timed)


def references(value: Any) -> set[str]:
    """Logical ids `value` refers to (pseudo parameters included; callers keep those that are resources)."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else str(arg).split(".")[0])
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                found |= {name.split(".")[0] for name in _sub_names(text)}
            found |= references(arg)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def _sub_names(text: str) -> list[str]:
    names, rest = [], text
    while "${" in rest:
        head, _, rest = rest.partition("${")
        name, _, rest = rest.partition("}")
        if not name.startswith("!"):
            names.append(name)
    return names


def resource_dependencies(template: Mapping) -> dict[str, set[str]]:
    """For each resource, the resources of the same template CloudFormation creates before it."""
    resources = template.get("Resources", {})
    graph = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        depends_on = [depends_on] if isinstance(depends_on, str) else list(depends_on)
        referenced = references({k: v for k, v in resource.items() if k in ("Properties", "Condition")})
        graph[logical_id] = {d for d in [*depends_on, *referenced] if d in resources and d != logical_id}
    return graph


def _stack_order(stacks: Sequence[StackTemplate]) -> list[StackTemplate]:
    by_path = {stack.path: stack for stack in stacks}
    ordered: list[StackTemplate] = []

    def visit(stack: StackTemplate) -> None:
        if stack in ordered:
            return
        for dependency in stack.dependencies:
            if dependency in by_path:
                visit(by_path[dependency])
        ordered.append(stack)

    for stack in stacks:
        visit(stack)
    return ordered


def longest_path(stacks: Iterable[StackTemplate], minutes: Mapping[str, float] = NOMINAL_MINUTES) -> DeployPath:
    """The latest-finishing chain of resources when every stack of the assembly is deployed from scratch."""
    ordered = _stack_order(list(stacks))
    finish: dict[tuple[str, str], float] = {}
    previous: dict[tuple[str, str], tuple[str, str] | None] = {}
    stack_end: dict[str, tuple[float, tuple[str, str] | None]] = {}
    types: dict[tuple[str, str], str] = {}
    for stack in ordered:
        start, start_step = max(
            (stack_end[d] for d in stack.dependencies if d in stack_end), default=(0.0, None), key=lambda e: e[0]
        )
        graph = resource_dependencies(stack.template)

        def settle(logical_id: str, trail: tuple[str, ...] = ()) -> float:
            key = (stack.path, logical_id)
            if key in finish:
                return finish[key]
            if logical_id in trail:
                raise ValueError(f"{stack.path}: dependency cycle through {logical_id}")
            done = {dependency: settle(dependency, (*trail, logical_id)) for dependency in sorted(graph[logical_id])}
            latest = max(done, key=done.__getitem__, default=None)
            if latest is None or done[latest] < start:
                begin, before = start, start_step
            else:
                begin, before = done[latest], (stack.path, latest)
            kind = stack.resources[logical_id]["Type"]
            types[key] = kind
            finish[key] = begin + minutes.get(kind, 0.0)
            previous[key] = before
            return finish[key]

        ends = [(settle(logical_id), (stack.path, logical_id)) for logical_id in stack.resources]
        stack_end[stack.path] = max(ends, default=(start, start_step), key=lambda e: e[0])
    if not finish:
        return DeployPath(0.0, ())
    last = max(finish, key=lambda key: finish[key])
    steps = []
    key: tuple[str, str] | None = last
    while key is not None:
        begin = finish[key] - minutes.get(types[key], 0.0)
        steps.append(Step(key[0], key[1], types[key], begin, finish[key]))
        key = previous[key]
    return DeployPath(finish[last], tuple(reversed(steps)))
