"""Image references as containerd normalises them (`reference/docker.ParseNormalizedNamed`).

`alpine:3` -> `docker.io/library/alpine:3`; `myhost/app` -> `docker.io/myhost/app:latest`;
`host:5000/a/b@sha256:…` keeps its registry and digest. A first component is a registry only
when a `/` follows it and it contains `.` or `:` or is `localhost` (SEMANTICS.md §1.5).
"""

from __future__ import annotations

from .errors import InputError
from .patterns import lazy
from .record import field, record

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_PATH = lazy(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = lazy(rf"^(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$")
_TAG = lazy(r"^[\w][\w.-]{0,127}$")
_DIGEST = lazy(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")
DOCKER_HUB = "docker.io"


@record
class Reference:
    registry: str
    repository: str
    tag: str = ""
    digest: str = ""
    #: how the text a user typed became this reference, in words (`resolve` tells them)
    steps: tuple[str, ...] = field(default=(), compare=False)

    @property
    def object(self) -> str:
        """What is asked for under /manifests/: the digest when there is one, else the tag."""
        return self.digest or self.tag

    @property
    def name(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.digest:
            return f"{text}@{self.digest}"
        return f"{text}:{self.tag}"


def parse(text: str) -> Reference:
    """The normalised reference of TEXT, as a user types it."""
    original = text
    if not text or len(text) > 4096 or any(c.isspace() for c in text):
        raise InputError(f"{original!r} is not an image reference", fix="e.g. alpine:3 or ghcr.io/org/app:1.0")
    digest = ""
    if "@" in text:
        text, digest = text.split("@", 1)
        if not _DIGEST.match(digest):
            raise InputError(f"image reference {original!r} has an invalid digest",
                             fix="use algorithm:hex, e.g. sha256:…")
    steps: list[str] = []
    slash = text.find("/")
    first = text[:slash] if slash != -1 else ""
    if slash == -1 or (not any(c in first for c in ".:") and first != "localhost" and first.lower() == first):
        registry, remainder = DOCKER_HUB, text
        why = ("the name has no '/'" if slash == -1 else
               f"the first component {first!r} has no '.' or ':' and is not localhost")
        steps.append(f"{why}, so the registry is Docker Hub: docker.io")
    else:
        registry, remainder = first, text[slash + 1:]
        steps.append(f"the first component {first!r} is a registry host (it has '.' or ':' or is localhost)")
    if registry == "index.docker.io":
        registry = DOCKER_HUB
        steps.append("index.docker.io is Docker Hub: docker.io")
    tag = ""
    colon = remainder.rfind(":")
    if colon != -1 and "/" not in remainder[colon:]:
        remainder, tag = remainder[:colon], remainder[colon + 1:]
        if not _TAG.match(tag):
            raise InputError(f"image reference {original!r} has an invalid tag {tag!r}")
    if registry == DOCKER_HUB and "/" not in remainder:
        remainder = "library/" + remainder
        steps.append(f"a Docker Hub name without '/' gets the prefix library/: {remainder}")
    if remainder != remainder.lower():
        raise InputError(f"image reference {original!r}: repository name must be lowercase")
    if not _PATH.match(remainder):
        raise InputError(f"image reference {original!r} has an invalid repository name {remainder!r}")
    if not _DOMAIN.match(registry):
        raise InputError(f"image reference {original!r} has an invalid registry {registry!r}")
    if len(registry) + 1 + len(remainder) > 255:
        raise InputError(f"image reference {original!r}: repository name is longer than 255 characters")
    if not tag and not digest:
        tag = "latest"
        steps.append("no tag and no digest: the tag is latest")
    if digest:
        if tag:
            steps.append(f"a tag and a digest: only the digest is used, the tag {tag!r} is ignored")
        tag = ""
        steps.append("a digest is fetched from hosts with the pull capability (resolve is not needed)")
    else:
        steps.append("a tag is resolved only through hosts with both pull and resolve")
    return Reference(registry=registry, repository=remainder, tag=tag, digest=digest, steps=tuple(steps))
