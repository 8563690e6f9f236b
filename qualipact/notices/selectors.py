"""Reading published policy versions and turning their text into page blocks."""

import re
from dataclasses import dataclass

from django.http import Http404

from qualipact.notices.models import PolicyVersion
from qualipact.privacy.errors import ApplicationError

_SECTION = re.compile(r"^\d+\.\s+\S")
_BULLET = re.compile(r"^\s*[•\-\*]\s+")
_SUBHEADING = re.compile(r"^[A-Z][^.:]{2,80}:\s+[^.]{3,120}$")


@dataclass(frozen=True)
class Block:
    kind: str  # "h2", "h3", "p" or "ul"
    text: str = ""
    items: tuple[str, ...] = ()


def policy_current() -> PolicyVersion:
    version = PolicyVersion.objects.order_by("-version").first()
    if version is None:
        raise Http404("No privacy policy has been published")
    return version


def policy_version_get(number: int) -> PolicyVersion:
    try:
        return PolicyVersion.objects.get(version=number)
    except PolicyVersion.DoesNotExist:
        raise Http404("No such policy version") from None


def policy_versions() -> list[PolicyVersion]:
    return list(PolicyVersion.objects.defer("text").order_by("-version"))


def policy_blocks(text: str) -> list[Block]:
    """Split the policy's plain text into headings, paragraphs and lists."""
    blocks: list[Block] = []
    bullets: list[str] = []
    lines = [line.strip() for line in text.splitlines()]
    # The first line is the title and the second the effective date; the page shows both.
    body = [line for line in lines[1:] if line and not line.startswith("Effective Date:")]
    for line in body:
        if _BULLET.match(line):
            bullets.append(_BULLET.sub("", line))
            continue
        if bullets:
            blocks.append(Block("ul", items=tuple(bullets)))
            bullets = []
        if _SECTION.match(line):
            blocks.append(Block("h2", line))
        elif _SUBHEADING.match(line):
            blocks.append(Block("h3", line))
        else:
            blocks.append(Block("p", line))
    if bullets:
        blocks.append(Block("ul", items=tuple(bullets)))
    return blocks


def policy_current_version() -> int:
    """The number of the policy version in force; every consent record stores it."""
    version = PolicyVersion.objects.order_by("-version").values_list("version", flat=True).first()
    if version is None:
        raise ApplicationError("No privacy policy has been published")
    return version
