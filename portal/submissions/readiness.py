"""Whether a draft is ready to be signed and submitted, and the refusal that says what is missing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from flask import flash
from markupsafe import Markup, escape

P = TypeVar("P")


@dataclass(frozen=True)
class Readiness(Generic[P]):
    """The problems standing between a draft and its signature; none when it is ready."""

    problems: list[P] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems


def flash_not_ready(lead: str, page: str, items: Sequence[tuple[str, str, str]]) -> None:
    """A refusal that names each problem (input id, label, message) and links to its input on ``page``."""
    links = [
        Markup('<li><a href="{url}#{anchor}">{text}</a></li>').format(
            url=page, anchor=anchor, text=f"{label}: {message}" if label else message
        )
        for anchor, label, message in items
    ]
    flash(Markup("{lead}<ul>{items}</ul>").format(lead=escape(lead), items=Markup("").join(links)), "error")
