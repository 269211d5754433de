"""What CloudFormation would do to each resource when a stack (or a whole stage) goes from one template to another.

Replacement comes from the AWS resource provider schemas that cfn-lint ships (``createOnlyProperties``),
not from a hand-kept list, so it follows `pip install -U cfn-lint`. Standard library only: cfn-lint's data
is read from disk, never imported.

Actions: add, remove, replace, may_replace (a create-only property references a replaced resource, so its
resolved value changes), update (in place), unchanged, unknown (changed, but no schema for the type).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Sequence

Resources = dict[str, dict[str, Any]]
PSEUDO = {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix", "AWS::StackName",
          "AWS::StackId", "AWS::NoValue", "AWS::NotificationARNs"}
CUSTOM = "AWS::CloudFormation::CustomResource"
TOKEN_NOTE = "CloudFormation rejects a ServiceToken change (docs: updates aren't supported)"
HANDLER_NOTE = "custom resource: its handler decides (a new PhysicalResourceId = replacement)"
# Resource-level keys whose change alone makes CloudFormation touch the resource; Metadata is not one.
OTHER_KEYS = ("DeletionPolicy", "UpdateReplacePolicy", "UpdatePolicy", "DependsOn", "Condition")
REPLACING = ("replace", "may_replace")
_MISSING = object()


@dataclass(frozen=True)
class Change:
    logical_id: str
    type: str
    action: str
    reasons: tuple[str, ...] = ()  # create-only paths that differ, else the properties/keys that differ
    collision: bool = False  # the new physical resource's custom name is still taken: the update fails
    note: str = ""
    #: with a collision: what is still held (its custom name, or the value UNIQUE_WITHIN names)
    held: str = ""


def schema_dir() -> Path:
    """cfn-lint's schema folder (override: CHANGEPLAN_SCHEMAS), located without importing cfn-lint."""
    if os.environ.get("CHANGEPLAN_SCHEMAS"):
        return Path(os.environ["CHANGEPLAN_SCHEMAS"])
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("cfn-lint not found (its resource schemas say what replaces what): run make setup-test, "
                           "or set CHANGEPLAN_SCHEMAS to a folder of AWS resource schemas")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "schemas"


@lru_cache(maxsize=None)
def _providers() -> dict[str, str]:
    return json.loads((schema_dir() / "providers" / "us-east-1.json").read_text())


@lru_cache(maxsize=None)
def schema(rtype: str) -> dict[str, Any] | None:
    """A type's provider schema (providers/us-east-1.json names its file in resources/); Custom::* use
    AWS::CloudFormation::CustomResource's. None: cfn-lint has no schema, so we do not guess."""
    name = _providers().get(CUSTOM if rtype.startswith("Custom::") else rtype)
    return json.loads((schema_dir() / "resources" / f"{name}.json").read_text()) if name else None


def is_custom(rtype: str) -> bool:
    return rtype.startswith("Custom::") or rtype == CUSTOM


def paths(s: dict[str, Any] | None, key: str) -> list[list[str]]:
    """A schema's JSON pointers (`/properties/A/B`) under `key` as ["A", "B"]."""
    return [p.split("/")[2:] for p in (s or {}).get(key, []) if p.startswith("/properties/")]


def normalize(value: Any, azs: tuple[str, ...] = ()) -> Any:
    """Fold intrinsics whose result is known, so changes that are only textual compare equal.

    Fn::Join / Fn::Select over literals, Fn::Sub without variables, "X.Attr" Fn::GetAtt, and Fn::GetAZs when
    the account's AZ list is given (env-agnostic CDK stacks pick `Fn::Select [0, GetAZs]`; an explicit
    "us-east-1a" is only a change if the account's first AZ differs). Other deploy-time values compare as text.
    """
    if isinstance(value, list):
        return [normalize(v, azs) for v in value]
    if not isinstance(value, dict):
        return value
    value = {k: normalize(v, azs) for k, v in value.items()}
    if len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) \
                and isinstance(arg[1], list) and all(isinstance(p, str) for p in arg[1]):
            return arg[0].join(arg[1])
        if fn == "Fn::Sub" and isinstance(arg, str) and "${" not in arg:
            return arg
        if fn == "Fn::Select" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list) \
                and str(arg[0]).isdigit() and int(arg[0]) < len(arg[1]):
            return arg[1][int(arg[0])]
        if fn == "Fn::GetAZs" and azs and arg in ("", {"Ref": "AWS::Region"}):
            return list(azs)
        if fn == "Fn::GetAtt" and isinstance(arg, str) and "." in arg:
            return {"Fn::GetAtt": arg.split(".", 1)}
    return value


def at(props: Any, path: list[str]) -> Any:
    """The value at a schema path (`*` maps over a list); an intrinsic on the way is returned whole."""
    if not path:
        return props
    if isinstance(props, dict) and len(props) == 1 and next(iter(props)).startswith("Fn::"):
        return props
    if path[0] == "*" and isinstance(props, list):
        return [at(p, path[1:]) for p in props]
    return at(props[path[0]], path[1:]) if isinstance(props, dict) and path[0] in props else _MISSING


def references(value: Any) -> Iterator[tuple[str, str | None]]:
    """(logical id, attribute; None for Ref) of every Ref / Fn::GetAtt / Fn::Sub variable inside value."""
    if isinstance(value, list):
        for v in value:
            yield from references(v)
    elif isinstance(value, dict):
        if isinstance(value.get("Ref"), str) and value["Ref"] not in PSEUDO:
            yield value["Ref"], None
        elif isinstance(value.get("Fn::GetAtt"), list):
            yield str(value["Fn::GetAtt"][0]), str(value["Fn::GetAtt"][1])
        elif "Fn::Sub" in value:
            text = value["Fn::Sub"][0] if isinstance(value["Fn::Sub"], list) else value["Fn::Sub"]
            for var in (v.split("}")[0] for v in str(text).split("${")[1:]):
                if not var.startswith("!") and var not in PSEUDO:
                    yield var.split(".")[0], (var.split(".", 1)[1] if "." in var else None)
        for v in value.values():
            yield from references(v)


def survives(old: dict[str, Any], new: dict[str, Any], attr: str | None) -> bool:
    """Whether a Ref/GetAtt of a *replaced* resource still resolves as before: Ref and read-only attributes
    (Arn, Id...) are new; a GetAtt of a writable property echoes the template, so compare that."""
    s, key = schema(new.get("Type", "")), (attr or "").split(".")[0]
    if attr is None or s is None or [key] in paths(s, "readOnlyProperties") or key not in s.get("properties", {}):
        return False
    return old["Properties"].get(key, _MISSING) == new["Properties"].get(key, _MISSING)


def name_paths(s: dict[str, Any] | None) -> list[list[str]]:
    """The custom-name properties: writable primaryIdentifier parts, else create-only top-level `*Name`."""
    ids = [p for p in paths(s, "primaryIdentifier") if p not in paths(s, "readOnlyProperties")]
    return ids or [p for p in paths(s, "createOnlyProperties") if len(p) == 1 and p[0].endswith("Name")]


def _resources(template: dict[str, Any], azs: tuple[str, ...]) -> Resources:
    return {lid: {**res, "Properties": normalize(res.get("Properties", {}), azs)}
            for lid, res in template.get("Resources", {}).items()}


def plan(before: dict[str, Any], after: dict[str, Any], azs: tuple[str, ...] = ()) -> list[Change]:
    """One Change per logical id of either template, sorted; replacement propagates to a fixed point.
    `azs`: the account's Fn::GetAZs answer if known (else GetAZs-based values compare as text)."""
    olds, news = _resources(before, azs), _resources(after, azs)
    out = {lid: _direct(lid, olds.get(lid), news.get(lid)) for lid in sorted(set(olds) | set(news))}
    changed = True
    while changed:  # a replaced resource changes every Ref / generated GetAtt of it
        changed = False
        gone = {lid for lid, c in out.items() if c.action in REPLACING}
        # a custom resource whose handler runs again may answer new attributes (e.g. a digest)
        answering = {lid for lid, c in out.items() if c.action == "update" and is_custom(c.type)}
        for lid, c in out.items():
            if lid in olds and lid in news and c.action not in REPLACING and (gone or answering):
                new_c = _propagate(c, olds, news, gone, answering)
                out[lid], changed = new_c, changed or new_c != c
    return [_collision(c, olds, news, out) for c in out.values()]


def _direct(lid: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> Change:
    """The verdict from this resource's own template entries."""
    if old is None or new is None:
        return Change(lid, (new or old or {}).get("Type", ""), "add" if old is None else "remove")
    rtype, op, np_ = new.get("Type", ""), old["Properties"], new["Properties"]
    if old.get("Type") != rtype:
        return Change(lid, rtype, "replace", ("Type",))
    diff = tuple(sorted(k for k in set(op) | set(np_) if op.get(k, _MISSING) != np_.get(k, _MISSING)))
    diff += tuple(k for k in OTHER_KEYS if old.get(k) != new.get(k))
    s = schema(rtype)
    if not diff:
        return Change(lid, rtype, "unchanged")
    if s is None:
        return Change(lid, rtype, "unknown", diff, note="no provider schema in cfn-lint")
    create_only = tuple("/".join(p) for p in paths(s, "createOnlyProperties") if at(op, p) != at(np_, p))
    if create_only and is_custom(rtype):
        return Change(lid, rtype, "update", create_only, note=TOKEN_NOTE)
    if create_only:
        return Change(lid, rtype, "replace", create_only)
    return Change(lid, rtype, "update", diff, note=HANDLER_NOTE if is_custom(rtype) else "")


def _propagate(c: Change, olds: Resources, news: Resources, gone: set[str], answering: set[str] = frozenset()) -> Change:
    """Values that Ref / GetAtt a replaced resource, or GetAtt a custom resource that runs again, may resolve
    differently: a create-only one replaces."""
    props = news[c.logical_id]["Properties"]
    moved = {r for r, attr in references(props)
             if (r in gone and not survives(olds[r], news[r], attr)) or (r in answering and attr is not None)}
    if not moved:
        return c
    hits = tuple("/".join(p) for p in paths(schema(c.type), "createOnlyProperties")
                 if {r for r, _ in references(at(props, p))} & moved)
    note = f"references replaced or re-run {', '.join(sorted(moved))}"
    reasons = tuple(dict.fromkeys(c.reasons + hits))
    if hits and is_custom(c.type):  # its ServiceToken points at a replaced function
        return Change(c.logical_id, c.type, "update", reasons, note=f"{TOKEN_NOTE}; {note}")
    if hits:
        return Change(c.logical_id, c.type, "may_replace", reasons, note=note)
    if c.action == "unchanged":
        return Change(c.logical_id, c.type, "update", ("(references)",), note=note)
    return c


def _name_key(lid: str, res: Resources, unstable: set[str]) -> tuple[Any, ...] | None:
    """(type, name values) when the custom name resolves the same in both templates, else None."""
    s = schema(res[lid].get("Type", ""))
    vals = [at(res[lid]["Properties"], p) for p in name_paths(s)]
    if not vals or any(v is _MISSING or {r for r, _ in references(v)} & unstable for v in vals):
        return None
    return (res[lid]["Type"], json.dumps(vals, sort_keys=True))


#: Values a resource type holds uniquely within another resource, as a name is held: EC2 refuses a subnet whose CIDR
#: block overlaps one of its VPC's subnets, so a replacement with the same CIDR cannot be created first.
UNIQUE_WITHIN = {"AWS::EC2::Subnet": ((["VpcId"], ["CidrBlock"]), "CIDR block in its VPC")}


def _unique_key(lid: str, res: Resources, unstable: set[str]) -> tuple[Any, ...] | None:
    """(type, values) of a ``UNIQUE_WITHIN`` type when they resolve the same in both templates, else None."""
    rtype = res[lid].get("Type", "")
    vals = [at(res[lid]["Properties"], p) for p in UNIQUE_WITHIN.get(rtype, ((), ""))[0]]
    if not vals or any(v is _MISSING or {r for r, _ in references(v)} & unstable for v in vals):
        return None
    return (rtype, json.dumps(vals, sort_keys=True))


def _collision(c: Change, olds: Resources, news: Resources, out: dict[str, Change]) -> Change:
    """A resource being created (add / replace) whose custom name, or a value it holds uniquely (``UNIQUE_WITHIN``),
    is still held by an old physical resource: its own (replacement creates first, deletes in cleanup) or a
    removed/replaced/kept one."""
    if c.action not in REPLACING + ("add",):
        return c
    unstable = {lid for lid, x in out.items() if x.action in REPLACING or lid not in olds}
    for key_of, what in ((_name_key, "custom name"), (_unique_key, UNIQUE_WITHIN.get(c.type, ((), ""))[1])):
        key = key_of(c.logical_id, news, unstable)
        holders = [lid for lid in olds if key is not None and key_of(lid, olds, unstable) == key]
        if holders:
            why = f"{what} still held by {', '.join(holders)} (CloudFormation cannot create a second one)"
            return Change(c.logical_id, c.type, c.action, c.reasons, True, f"{c.note}; {why}" if c.note else why, what)
    return c


def moved_exports(before: dict[str, Any], after: dict[str, Any], changes: list[Change]) -> list[str]:
    """Exports whose value changes because they point at a replaced resource: CloudFormation refuses to
    change an export another stack imports, so the update fails until the importers let go."""
    gone = {c.logical_id for c in changes if c.action in REPLACING}
    olds, news = _resources(before, ()), _resources(after, ())
    return [name for name, out in after.get("Outputs", {}).items()
            if "Export" in out and name in before.get("Outputs", {})
            and any(r in gone and not survives(olds[r], news[r], a) for r, a in references(out["Value"]))]


@dataclass(frozen=True)
class Retained:
    """A resource that outlives `cdk destroy` (DeletionPolicy Retain)."""

    logical_id: str
    type: str
    label: str
    #: its literal custom name; None when CloudFormation generates the name (a redeploy creates a new one)
    name: str | None
    #: CloudFormation can adopt it by name (ImportExistingResources): read+list handlers, writable identifier
    importable: bool


def label(resource: dict[str, Any], logical_id: str) -> str:
    """How a person finds the resource: its construct path without stage and ``/Resource``, else its logical id."""
    path = resource.get("Metadata", {}).get("aws:cdk:path")
    if not isinstance(path, str):
        return logical_id
    parts = [p for p in path.split("/")[1:] if p not in ("Resource", "Default")]
    return "/".join(parts) or logical_id


def retained_resources(template: dict[str, Any]) -> list[Retained]:
    """Every Retain resource of `template`, with its literal name if it has one and whether it can be imported."""
    found = []
    for lid, res in template.get("Resources", {}).items():
        if res.get("DeletionPolicy") not in ("Retain", "RetainExceptOnCreate"):
            continue
        s = schema(res["Type"])
        props = normalize(res.get("Properties", {}))
        values = [at(props, p) for p in name_paths(s)]
        literal = bool(values) and all(v is not _MISSING and not list(references(v)) for v in values)
        importable = s is not None and {"read", "list"} <= set(s.get("handlers", {})) and not any(
            p in paths(s, "readOnlyProperties") for p in paths(s, "primaryIdentifier"))
        name = "|".join(map(str, values)) if literal else None
        found.append(Retained(lid, res["Type"], label(res, lid), name, importable and literal))
    return found


@dataclass
class StagePlan:
    """The plan of every stack of a stage, by stack path (``Dev/Cluster``); a stack only on one side is all
    added or all removed."""

    stacks: dict[str, list[Change]]
    exports: dict[str, list[str]]
    labels: dict[tuple[str, str], str]
    protection: dict[str, tuple[bool, bool]]

    def changes(self) -> list[tuple[str, Change]]:
        return [(stack, c) for stack, changes in self.stacks.items() for c in changes]

    def with_action(self, *actions: str) -> list[tuple[str, Change]]:
        """(label, change) of the resources with one of `actions`, in stack and logical-id order."""
        return [(self.labels[stack, c.logical_id], c) for stack, c in self.changes() if c.action in actions]

    def ids(self, *actions: str) -> set[str]:
        """``STACK:LogicalId`` of the resources with one of `actions`."""
        return {f"{stack}:{c.logical_id}" for stack, c in self.changes() if c.action in actions}

    def protection_changes(self) -> list[str]:
        return [f"{'on' if new else 'off'} ({stack})" for stack, (old, new) in self.protection.items() if old != new]


def plan_stage(before: Sequence[Any], after: Sequence[Any], azs: tuple[str, ...] = ()) -> StagePlan:
    """Plan every stack of two syntheses of one stage. `before`/`after`: objects with ``path``, ``template`` and
    ``termination_protection`` (``review.assembly.StackTemplate``)."""
    olds, news = {s.path: s for s in before}, {s.path: s for s in after}
    empty = {"Resources": {}}
    stacks, exports, labels, protection = {}, {}, {}, {}
    for path in [*olds, *(p for p in news if p not in olds)]:
        old = olds[path].template if path in olds else empty
        new = news[path].template if path in news else empty
        changes = plan(old, new, azs)
        stacks[path] = changes
        exports[path] = moved_exports(old, new, changes)
        for c in changes:
            res = new.get("Resources", {}).get(c.logical_id) or old["Resources"][c.logical_id]
            labels[path, c.logical_id] = label(res, c.logical_id)
        protection[path] = (
            bool(olds[path].termination_protection) if path in olds else False,
            bool(news[path].termination_protection) if path in news else False,
        )
    return StagePlan(stacks, exports, labels, protection)


def main(argv: list[str]) -> int:
    """``python -m private_eks_fargate.review.changeplan OLD.json NEW.json [--azs a,b]``: one line per change."""
    azs = tuple(argv[argv.index("--azs") + 1].split(",")) if "--azs" in argv else ()
    files = [a for i, a in enumerate(argv) if a != "--azs" and (i == 0 or argv[i - 1] != "--azs")]
    if len(files) != 2:
        print("usage: python -m private_eks_fargate.review.changeplan OLD.json NEW.json [--azs a,b,...]", file=sys.stderr)
        return 2
    before, after = (json.loads(Path(p).read_text()) for p in files)
    try:
        changes = plan(before, after, azs)
    except RuntimeError as error:  # one line, not a traceback
        print(f"error: {error}", file=sys.stderr)
        return 1
    for c in (c for c in changes if c.action != "unchanged"):
        print(f"{c.action:12} {c.logical_id} ({c.type}){' COLLISION' if c.collision else ''} "
              f"{', '.join(c.reasons)}" + (f"  # {c.note}" if c.note else ""))
    for name in moved_exports(before, after, changes):
        print(f"export       {name}: value changes, fails while another stack imports it")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
