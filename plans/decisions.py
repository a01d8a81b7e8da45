"""How each kind of request is decided, for every door that decides one (the portal's decide
pages, the admin's decide page and its bulk actions): who may, what the two answers are called,
and which service records them. The services (``plans.services``) do the checking and writing;
this only pairs them with their words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from plans import services
from plans.access import task_access
from plans.models import CompletionSubmission, DecidedRequest, ExtensionRequest, User


@dataclass(frozen=True)
class Decider:
    """One kind of request's decision: labels, the permission check, the two services."""

    model: type[DecidedRequest]
    title: Promise
    approve_label: Promise
    refuse_label: Promise
    note_label: Promise
    approved_message: Promise  # "%(count)d ..." after a bulk approval
    refused_message: Promise
    portal_url_name: str
    _allowed: Callable[[User, Any], bool]
    _approve: Callable[[Any, User, str], object]
    _refuse: Callable[[Any, User, str], object]

    def allowed(self, user: User, row: DecidedRequest) -> bool:
        """Whether ``user`` may decide ``row`` now (pending, and theirs to decide)."""
        return row.is_pending and self._allowed(user, row)

    def approve(self, row: DecidedRequest, *, by: User, note: str = "") -> object:
        return self._approve(row, by, note)

    def refuse(self, row: DecidedRequest, *, by: User, reason: str) -> object:
        return self._refuse(row, by, reason)


EXTENSION = Decider(
    model=ExtensionRequest,
    title=_("Decide the extension request"),
    approve_label=_("Approve (the deadline moves)"),
    refuse_label=_("Refuse"),
    note_label=_("Note (required when refusing)"),
    approved_message=_("%(count)d extension request(s) approved."),
    refused_message=_("%(count)d extension request(s) refused."),
    portal_url_name="portal:extension_decide",
    _allowed=lambda user, row: user.has_perm("plans.decide_extension"),
    _approve=lambda row, by, note: services.extension_decide(
        request=row, by=by, approve=True, note=note
    ),
    _refuse=lambda row, by, reason: services.extension_decide(
        request=row, by=by, approve=False, note=reason
    ),
)

COMPLETION = Decider(
    model=CompletionSubmission,
    title=_("Verify the completion"),
    approve_label=_("Verify (the task becomes completed)"),
    refuse_label=_("Return for more work"),
    note_label=_("Comment (required when returning)"),
    approved_message=_("%(count)d completion(s) verified."),
    refused_message=_("%(count)d completion(s) returned for more work."),
    portal_url_name="portal:completion_decide",
    _allowed=lambda user, row: task_access(user, row.task).can_verify(row),
    _approve=lambda row, by, note: services.completion_verify(submission=row, by=by, note=note),
    _refuse=lambda row, by, reason: services.completion_refuse(
        submission=row, by=by, reason=reason
    ),
)
