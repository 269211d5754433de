"""Container image references, parsed the way the container runtime reads them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ImageRef:
    #: registry host; empty for Docker Hub (a name without a host)
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, image: Any) -> ImageRef | None:
        if not isinstance(image, str) or not image or any(c.isspace() for c in image):
            return None
        name, _, digest = image.partition("@")
        first, slash, rest = name.partition("/")
        if slash and ("." in first or ":" in first or first == "localhost"):
            registry, path = first, rest
        else:
            registry, path = "", name
        path, colon, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "")
        if not path or (colon and not tag):
            return None
        return cls(registry=registry, repository=path, tag=tag or None, digest=digest or None)
