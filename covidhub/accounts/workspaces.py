"""Entry points of each staff role's workspace; capabilities register theirs in ready()."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise

from covidhub.accounts.models import roles_with_implied


@dataclass(frozen=True)
class WorkspaceLink:
    title: str | Promise
    url_name: str
    roles: tuple[str, ...]
    order: int = 100


_links: list[WorkspaceLink] = []


def register_workspace_link(link: WorkspaceLink) -> None:
    if link not in _links:
        _links.append(link)


def workspace_links_for(roles: frozenset[str]) -> list[WorkspaceLink]:
    roles = roles_with_implied(roles)  # a national officer works as a province officer
    return sorted(
        (link for link in _links if roles.intersection(link.roles)), key=lambda link: link.order
    )
