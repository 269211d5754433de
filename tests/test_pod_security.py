"""The Pod Security Standards checker: each control of the Kubernetes Pod Security Standards page refuses what the
page forbids and admits what it allows, at the level and from the version the page names."""

import copy

import pytest
from private_eks_fargate.pod_security import (
    LEVELS,
    enforced,
    namespace_labels,
    pod_templates,
    violations,
)


def restricted_pod() -> dict:
    """The smallest pod spec the page's restricted profile admits."""
    return {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "app", "image": "x",
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        }],
    }  # fmt: skip


def changed(path: str, value) -> dict:
    """restricted_pod() with `value` at the dotted `path` (`c` is the first container)."""
    spec = restricted_pod()
    node = spec
    keys = path.split(".")
    for key in keys[:-1]:
        node = node["containers"][0] if key == "c" else node.setdefault(key, {})
    node[keys[-1]] = value
    return spec


#: (case, pod spec, the level whose namespace refuses it, the start of the reason) — from the standard's tables
REFUSED = [
    ("host network", changed("hostNetwork", True), "baseline", "host namespaces (hostNetwork=true)"),
    ("host PID and IPC", changed("hostIPC", True) | {"hostPID": True}, "baseline", "host namespaces (hostPID=true, hostIPC=true)"),
    ("privileged container", changed("c.securityContext.privileged", True), "baseline", 'privileged (container "app"'),
    ("Windows host process", changed("securityContext.windowsOptions", {"hostProcess": True}), "baseline", "hostProcess"),
    ("capability beyond the default set", changed("c.securityContext.capabilities", {"drop": ["ALL"], "add": ["SYS_ADMIN"]}),
     "baseline", "non-default capabilities (must not add SYS_ADMIN)"),
    ("hostPath volume", changed("volumes", [{"name": "h", "hostPath": {"path": "/"}}]), "baseline", "hostPath volumes (h)"),
    ("host port", changed("c.ports", [{"containerPort": 80, "hostPort": 8080}]), "baseline", "hostPort (8080)"),
    ("AppArmor unconfined", changed("securityContext.appArmorProfile", {"type": "Unconfined"}), "baseline", "forbidden AppArmor"),
    ("SELinux custom type", changed("c.securityContext.seLinuxOptions", {"type": "spc_t"}), "baseline", "seLinuxOptions"),
    ("SELinux user", changed("securityContext.seLinuxOptions", {"user": "root"}), "baseline", "seLinuxOptions"),
    ("unmasked /proc", changed("c.securityContext.procMount", "Unmasked"), "baseline", 'procMount (container "app"'),
    ("seccomp unconfined", changed("c.securityContext.seccompProfile", {"type": "Unconfined"}), "baseline", "seccompProfile"),
    ("unsafe sysctl", changed("securityContext.sysctls", [{"name": "kernel.msgmax", "value": "1"}]), "baseline",
     "forbidden sysctls (kernel.msgmax)"),
    ("probe to another host", changed("c.livenessProbe", {"httpGet": {"host": "10.0.0.1", "port": 80}}), "baseline",
     'probe or lifecycle host (container "app"'),
    ("nfs volume", changed("volumes", [{"name": "n", "nfs": {"server": "s", "path": "/"}}]), "restricted",
     "restricted volume types (volumes n)"),
    ("privilege escalation unset", changed("c.securityContext", {"capabilities": {"drop": ["ALL"]}}), "restricted",
     "allowPrivilegeEscalation != false"),
    ("runAsNonRoot unset", changed("securityContext", {"seccompProfile": {"type": "RuntimeDefault"}}), "restricted",
     "runAsNonRoot != true"),
    ("a container runAsNonRoot false", changed("c.securityContext.runAsNonRoot", False), "restricted", "runAsNonRoot != true"),
    ("runAsUser 0", changed("c.securityContext.runAsUser", 0), "restricted", "runAsUser=0"),
    ("no seccomp profile", changed("securityContext", {"runAsNonRoot": True}), "restricted", "seccompProfile"),
    ("capabilities not dropped", changed("c.securityContext.capabilities", {}), "restricted", "unrestricted capabilities"),
    ("a default capability added", changed("c.securityContext.capabilities", {"drop": ["ALL"], "add": ["CHOWN"]}),
     "restricted", "unrestricted capabilities (must not add CHOWN)"),
    ("writable cgroups", changed("c.securityContext.cgroupOptions", {"mountMode": "ReadWrite"}), "restricted", "cgroupOptions"),
]  # fmt: skip


@pytest.mark.parametrize("case, spec, level, reason", REFUSED, ids=[case for case, *_ in REFUSED])
def test_each_control_refuses_what_the_standard_forbids_at_its_level(case, spec, level, reason):
    refused = violations(spec, level=level, version="v1.36")
    assert len(refused) == 1 and refused[0].startswith(reason), refused
    assert violations(spec, level="restricted", version="v1.36")  # restricted includes baseline
    assert violations(spec, level="privileged", version="v1.36") == []
    if level == "restricted":
        assert violations(spec, level="baseline", version="v1.36") == []


ADMITTED = [
    ("the smallest restricted pod", restricted_pod()),
    ("NET_BIND_SERVICE added", changed("c.securityContext.capabilities", {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})),
    ("seccomp per container instead of the pod", changed("securityContext", {"runAsNonRoot": True}) | {"containers": [
        {"name": "app", "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                            "seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}}]}),
    ("runAsNonRoot per container", changed("securityContext", {"seccompProfile": {"type": "RuntimeDefault"}}) | {"containers": [
        {"name": "app", "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                            "runAsNonRoot": True}}]}),
    ("every core volume type", changed("volumes", [{"name": t, t: {}} for t in (
        "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret")])),
    ("a safe sysctl", changed("securityContext.sysctls", [{"name": "net.ipv4.tcp_keepalive_time", "value": "60"}])),
    ("an allowed SELinux type", changed("c.securityContext.seLinuxOptions", {"type": "container_init_t"})),
    ("read-only cgroups", changed("c.securityContext.cgroupOptions", {"mountMode": "ReadOnly"})),
    ("hostPort 0", changed("c.ports", [{"containerPort": 80, "hostPort": 0}])),
]  # fmt: skip


@pytest.mark.parametrize("case, spec", ADMITTED, ids=[case for case, _ in ADMITTED])
def test_what_the_standard_allows_is_admitted(case, spec):
    assert violations(spec, level="restricted", version="v1.36") == []


def test_init_and_ephemeral_containers_are_checked_like_containers():
    for kind in ("initContainers", "ephemeralContainers"):
        spec = restricted_pod()
        spec[kind] = [{"name": "extra", "image": "x", "securityContext": copy.deepcopy(spec["containers"][0]["securityContext"])}]
        assert violations(spec) == []
        spec[kind][0]["securityContext"]["privileged"] = True
        assert violations(spec) == ['privileged (container "extra" must not set securityContext.privileged=true)'], kind


def test_controls_apply_from_the_version_the_standard_names():
    keepalive = changed("securityContext.sysctls", [{"name": "net.ipv4.tcp_keepalive_time", "value": "60"}])
    assert violations(keepalive, version="v1.28") == ["forbidden sysctls (net.ipv4.tcp_keepalive_time)"]
    assert violations(keepalive, version="v1.29") == []
    probe_host = changed("c.readinessProbe", {"tcpSocket": {"host": "example.com", "port": 80}})
    assert violations(probe_host, version="v1.33") == []
    assert violations(probe_host, version="v1.34") and violations(probe_host, version="latest")
    ulimits = changed("c.securityContext.ulimits", [{"name": "core", "soft": 1, "hard": 1}])
    assert violations(ulimits, version="v1.36") == [] and violations(ulimits, version="v1.37")


def test_pods_of_every_workload_kind_are_found():
    spec = restricted_pod()
    template = {"metadata": {"labels": {"a": "b"}}, "spec": spec}
    manifests = {
        "Pod": {"kind": "Pod", "metadata": {"name": "p"}, "spec": spec},
        "Deployment": {"kind": "Deployment", "spec": {"template": template}},
        "CronJob": {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": template}}}},
        "PodTemplate": {"kind": "PodTemplate", "template": template},
    }
    assert manifests
    for kind, manifest in manifests.items():
        assert [s for _, s in pod_templates(manifest)] == [spec], kind
    assert list(pod_templates({"kind": "Service", "spec": {}})) == []


def test_namespace_labels_enforce_audit_and_warn_one_level_at_one_version():
    labels = namespace_labels("baseline", "v1.35")
    assert labels == {
        "pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "v1.35",
        "pod-security.kubernetes.io/audit": "baseline", "pod-security.kubernetes.io/audit-version": "v1.35",
        "pod-security.kubernetes.io/warn": "baseline", "pod-security.kubernetes.io/warn-version": "v1.35",
    }
    assert enforced(labels) == ("baseline", "v1.35")
    assert enforced({}) == ("privileged", "latest")  # an unlabelled namespace admits everything
    assert LEVELS == ("privileged", "baseline", "restricted")
    with pytest.raises(ValueError, match="'strict' is not a Pod Security level"):
        violations(restricted_pod(), level="strict")
