"""Pod Security Standards, checked offline: would a namespace enforcing a level admit a pod spec?

No maintained offline checker exists for Python (the real one is the kube-apiserver's Pod Security admission, Go
only), so the controls of the Kubernetes Pod Security Standards page (kubernetes.io/docs/concepts/security/
pod-security-standards) are written out here, one function per control, with the Pod Security admission's check
ids and the Kubernetes version each control's current form applies from. Linux pods only: Fargate runs no
Windows pods, so the Windows exemptions are not modelled (a Windows pod is checked like a Linux one: stricter).

Standard library only: the building blocks reject a manifest with it at synth, and the review report counts
with it from the synthesized templates (which may import nothing of the platform).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

LEVELS = ("privileged", "baseline", "restricted")
LABEL_PREFIX = "pod-security.kubernetes.io/"
MODES = ("enforce", "audit", "warn")
#: kinds whose manifests carry pod templates, and where the pod spec sits in each
POD_SPEC_PATHS = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")

BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
    "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})  # fmt: skip
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
#: the "safe" sysctls, with the minor version each became allowed in
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced": 0, "net.ipv4.ip_local_port_range": 0, "net.ipv4.tcp_syncookies": 0,
    "net.ipv4.ping_group_range": 0, "net.ipv4.ip_unprivileged_port_start": 0, "net.ipv4.ip_local_reserved_ports": 27,
    "net.ipv4.tcp_keepalive_time": 29, "net.ipv4.tcp_fin_timeout": 29, "net.ipv4.tcp_keepalive_intvl": 29,
    "net.ipv4.tcp_keepalive_probes": 29, "net.ipv4.tcp_rmem": 32, "net.ipv4.tcp_wmem": 32,
}  # fmt: skip
RESTRICTED_VOLUME_TYPES = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
)
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def _containers(spec: Mapping) -> Iterator[Mapping]:
    for key in _CONTAINER_LISTS:
        yield from (c for c in spec.get(key) or [] if isinstance(c, Mapping))


def _context(item: Mapping) -> Mapping:
    return item.get("securityContext") or {}


def _names(containers: list[Mapping]) -> str:
    word = "container" if len(containers) == 1 else "containers"
    return f"{word} " + ", ".join(f'"{c.get("name")}"' for c in containers)


def _bad(spec: Mapping, predicate: Callable[[Mapping], bool]) -> list[Mapping]:
    return [c for c in _containers(spec) if predicate(c)]


# --- baseline controls ------------------------------------------------------------------------------------------


def host_process(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    pod = (_context(spec).get("windowsOptions") or {}).get("hostProcess") is True
    bad = _bad(spec, lambda c: (_context(c).get("windowsOptions") or {}).get("hostProcess") is True)
    return "hostProcess (pod or containers set windowsOptions.hostProcess=true)" if pod or bad else None


def host_namespaces(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    used = [f"{key}=true" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key) is True]
    return f"host namespaces ({', '.join(used)})" if used else None


def privileged(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    bad = _bad(spec, lambda c: _context(c).get("privileged") is True)
    return f"privileged ({_names(bad)} must not set securityContext.privileged=true)" if bad else None


def capabilities_baseline(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    added = {cap for c in _containers(spec) for cap in (_context(c).get("capabilities") or {}).get("add") or []}
    extra = sorted(added - BASELINE_CAPABILITIES)
    return f"non-default capabilities (must not add {', '.join(extra)})" if extra else None


def host_path_volumes(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    bad = [v.get("name") for v in spec.get("volumes") or [] if "hostPath" in v]
    return f"hostPath volumes ({', '.join(map(str, bad))})" if bad else None


def host_ports(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    ports = sorted({p["hostPort"] for c in _containers(spec) for p in c.get("ports") or [] if p.get("hostPort")})
    return f"hostPort ({', '.join(map(str, ports))})" if ports else None


def app_armor(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    bad = [
        name for name, value in (meta.get("annotations") or {}).items()
        if name.startswith(APPARMOR_ANNOTATION) and value not in ("", "runtime/default") and not str(value).startswith("localhost/")
    ]  # fmt: skip
    profiles = [_context(spec).get("appArmorProfile"), *(_context(c).get("appArmorProfile") for c in _containers(spec))]
    if bad or any(p and p.get("type") not in ("RuntimeDefault", "Localhost") for p in profiles):
        return "forbidden AppArmor profile (only RuntimeDefault or Localhost)"
    return None


def se_linux_options(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    allowed = SELINUX_TYPES if minor >= 31 else SELINUX_TYPES - {"container_engine_t"}
    options = [_context(spec).get("seLinuxOptions"), *(_context(c).get("seLinuxOptions") for c in _containers(spec))]
    for option in filter(None, options):
        if option.get("type", "") not in allowed or option.get("user") or option.get("role"):
            return "seLinuxOptions (type must be one of container_t, container_init_t, container_kvm_t; no user or role)"
    return None


def proc_mount(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    bad = _bad(spec, lambda c: _context(c).get("procMount", "Default") != "Default")
    return f"procMount ({_names(bad)} must use the Default procMount)" if bad else None


def seccomp_baseline(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    profiles = [_context(spec).get("seccompProfile"), *(_context(c).get("seccompProfile") for c in _containers(spec))]
    if any(p and p.get("type") == "Unconfined" for p in profiles):
        return "seccompProfile (type must not be Unconfined)"
    return None


def sysctls(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    names = [s.get("name") for s in _context(spec).get("sysctls") or []]
    bad = [n for n in names if SAFE_SYSCTLS.get(n, minor + 1) > minor]
    return f"forbidden sysctls ({', '.join(map(str, bad))})" if bad else None


def host_probes_and_lifecycle(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    if minor < 34:
        return None

    def hosts(container: Mapping) -> list[str]:
        handlers = [container.get(p) for p in ("livenessProbe", "readinessProbe", "startupProbe")]
        handlers += [(container.get("lifecycle") or {}).get(h) for h in ("postStart", "preStop")]
        return [h[kind]["host"] for h in filter(None, handlers) for kind in ("httpGet", "tcpSocket") if (h.get(kind) or {}).get("host")]

    bad = _bad(spec, hosts)
    return f"probe or lifecycle host ({_names(bad)} must not set host)" if bad else None


def ulimits(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    bad = _bad(spec, lambda c: "ulimits" in _context(c)) if minor >= 37 else []
    return f"ulimits ({_names(bad)} must not set securityContext.ulimits)" if bad else None


# --- restricted controls ----------------------------------------------------------------------------------------


def restricted_volumes(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    bad = [v.get("name") for v in spec.get("volumes") or [] if not RESTRICTED_VOLUME_TYPES & set(v)]
    return f"restricted volume types (volumes {', '.join(map(str, bad))})" if bad else None


def allow_privilege_escalation(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    bad = _bad(spec, lambda c: _context(c).get("allowPrivilegeEscalation") is not False)
    if bad:
        return f"allowPrivilegeEscalation != false ({_names(bad)} must set securityContext.allowPrivilegeEscalation=false)"
    return None


def run_as_non_root(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    pod = _context(spec).get("runAsNonRoot")
    explicit_false = _bad(spec, lambda c: _context(c).get("runAsNonRoot") is False)
    unset = _bad(spec, lambda c: "runAsNonRoot" not in _context(c))
    if pod is False or explicit_false or (pod is not True and unset):
        return "runAsNonRoot != true (pod or every container must set securityContext.runAsNonRoot=true)"
    return None


def run_as_user(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    if minor < 23:
        return None
    if _context(spec).get("runAsUser") == 0 or _bad(spec, lambda c: _context(c).get("runAsUser") == 0):
        return "runAsUser=0 (pod and containers must not set runAsUser=0)"
    return None


def seccomp_restricted(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    if minor < 19:
        return None
    allowed = ("RuntimeDefault", "Localhost")
    pod = (_context(spec).get("seccompProfile") or {}).get("type")
    bad = _bad(spec, lambda c: (_context(c).get("seccompProfile") or {}).get("type", pod) not in allowed)
    if bad:
        return f"seccompProfile ({_names(bad)} or the pod must set securityContext.seccompProfile.type to RuntimeDefault or Localhost)"
    return None


def cgroup_options(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    bad = _bad(spec, lambda c: (_context(c).get("cgroupOptions") or {}).get("mountMode", "ReadOnly") != "ReadOnly")
    return f"cgroupOptions ({_names(bad)} must not set a writable cgroupOptions.mountMode)" if bad else None


def capabilities_restricted(meta: Mapping, spec: Mapping, minor: int) -> str | None:
    if minor < 22:
        return None
    caps = lambda c: _context(c).get("capabilities") or {}  # noqa: E731
    not_dropped = _bad(spec, lambda c: "ALL" not in (caps(c).get("drop") or []))
    added = sorted({a for c in _containers(spec) for a in caps(c).get("add") or []} - {"NET_BIND_SERVICE"})
    problems = [f'{_names(not_dropped)} must set securityContext.capabilities.drop=["ALL"]'] if not_dropped else []
    problems += [f"must not add {', '.join(added)}"] if added else []
    return f"unrestricted capabilities ({'; '.join(problems)})" if problems else None


BASELINE = (
    host_process, host_namespaces, privileged, capabilities_baseline, host_path_volumes, host_ports, app_armor,
    se_linux_options, proc_mount, seccomp_baseline, sysctls, host_probes_and_lifecycle, ulimits,
)  # fmt: skip
RESTRICTED = (
    restricted_volumes, allow_privilege_escalation, run_as_non_root, run_as_user, seccomp_restricted,
    cgroup_options, capabilities_restricted,
)  # fmt: skip
CONTROLS = {"privileged": (), "baseline": BASELINE, "restricted": BASELINE + RESTRICTED}


def minor_of(version: str) -> int:
    """The minor of ``v1.36`` / ``1.36``; ``latest`` counts as newer than any version named here."""
    if version == "latest":
        return 1_000
    return int(version.lstrip("v").split(".")[1])


def violations(spec: Mapping[str, Any], *, level: str = "restricted", version: str = "latest",
               metadata: Mapping[str, Any] | None = None) -> list[str]:
    """Why a namespace enforcing `level` (at `version`) would refuse a pod with `spec`; empty when it admits it."""
    if level not in CONTROLS:
        raise ValueError(f"{level!r} is not a Pod Security level ({', '.join(LEVELS)})")
    minor = minor_of(version)
    return [why for control in CONTROLS[level] if (why := control(metadata or {}, spec, minor))]


def pod_templates(manifest: Mapping[str, Any]) -> Iterator[tuple[Mapping, Mapping]]:
    """(pod metadata, pod spec) of the pods a manifest creates: a Pod, or the template of a workload kind."""
    path = POD_SPEC_PATHS.get(manifest.get("kind"))
    if path is None:
        return
    node: Any = manifest
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, Mapping) else None
    if isinstance(node, Mapping) and isinstance(node.get(path[-1]), Mapping):
        yield node.get("metadata") or {}, node[path[-1]]


def namespace_labels(level: str, version: str) -> dict[str, str]:
    """The Pod Security admission labels that enforce, audit and warn at `level`, pinned to `version`."""
    labels = {}
    for mode in MODES:
        labels[f"{LABEL_PREFIX}{mode}"] = level
        labels[f"{LABEL_PREFIX}{mode}-version"] = version
    return labels


def enforced(labels: Mapping[str, str]) -> tuple[str, str]:
    """(level, version) a namespace with these labels enforces; unlabelled namespaces are privileged."""
    return labels.get(f"{LABEL_PREFIX}enforce", "privileged"), labels.get(f"{LABEL_PREFIX}enforce-version", "latest")
