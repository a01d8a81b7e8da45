"""Extension requests and completion submissions are both decided requests
(``plans.models.DecidedRequest``): the same decision fields, the same database rules, the same
"pending" rows, and the services record a decision the same way for both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from plans import roles, services
from plans.models import CompletionSubmission, DecidedRequest, Decision, ExtensionRequest, Task
from tests.factories import TaskFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 5, 4, 9, 0))


def extension(task: Task, **fields: object) -> ExtensionRequest:
    return ExtensionRequest.objects.create(
        task=task,
        unit=task.lead_unit,
        previous_deadline=task.deadline,
        new_deadline=task.deadline + dt.timedelta(days=30),
        reason="Chờ nhà cung cấp",
        **fields,
    )


def completion(task: Task, **fields: object) -> CompletionSubmission:
    return CompletionSubmission.objects.create(
        task=task,
        unit=task.lead_unit,
        document_number="45/BC-SKHCN",
        document_date=dt.date(2026, 5, 1),
        summary="Đã triển khai",
        **fields,
    )


KINDS: list[Callable[..., DecidedRequest]] = [extension, completion]


@pytest.fixture
def coordinator():  # type: ignore[no-untyped-def]
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    return user


@pytest.mark.parametrize("make", KINDS)
def test_pending_and_decided_rows_are_the_same_question_for_both_kinds(make) -> None:  # type: ignore[no-untyped-def]
    waiting = make(TaskFactory())
    approved = make(TaskFactory(), status=Decision.APPROVED, decided_at=NOW)
    refused = make(TaskFactory(), status=Decision.REFUSED, decided_at=NOW, decision_note="Thiếu")
    model = type(waiting)

    assert list(model.objects.pending()) == [waiting]
    assert set(model.objects.decided()) == {approved, refused}
    assert waiting.is_pending and not approved.is_pending


@pytest.mark.parametrize("make", KINDS)
def test_database_holds_the_decision_rules_for_both_kinds(make) -> None:  # type: ignore[no-untyped-def]
    task = TaskFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        make(task, status=Decision.REFUSED, decided_at=NOW)  # a refusal says why
    with pytest.raises(IntegrityError), transaction.atomic():
        make(task, status=Decision.APPROVED)  # a decision says when
    with pytest.raises(IntegrityError), transaction.atomic():
        make(task, decided_at=NOW)  # a pending request has no decision yet
    make(task)
    with pytest.raises(IntegrityError), transaction.atomic():
        make(task)  # one waiting request of a kind per task


def test_each_kind_keeps_its_own_labels_in_the_admin() -> None:
    with translation.override("en"):
        labels = {
            model.__name__: [
                str(model._meta.get_field(name).verbose_name)
                for name in DecidedRequest.DECISION_FIELDS
            ]
            for model in (ExtensionRequest, CompletionSubmission)
        }
    assert labels == {
        "ExtensionRequest": ["decision", "decided by", "decided at", "decision note"],
        "CompletionSubmission": ["verification", "verified by", "verified at", "verifier's note"],
    }


def test_both_decisions_record_who_when_and_why_the_same_way(coordinator) -> None:  # type: ignore[no-untyped-def]
    task = TaskFactory(deadline=dt.date(2026, 6, 30))
    request = extension(task)
    submitted = TaskFactory(status=Task.Status.SUBMITTED)
    submission = completion(submitted)

    request = services.extension_decide(
        request=request, by=coordinator, approve=False, note=" Chưa đủ ", now=NOW
    )
    submission = services.completion_refuse(
        submission=submission, by=coordinator, reason=" Thiếu ", now=NOW
    )

    decided = [
        (row.status, row.decided_by, row.decided_at, row.decision_note)
        for row in (request, submission)
    ]
    assert decided == [
        (Decision.REFUSED, coordinator, NOW, "Chưa đủ"),
        (Decision.REFUSED, coordinator, NOW, "Thiếu"),
    ]
    assert request.history.latest().history_user == coordinator
    assert submission.history.latest().history_user == coordinator


def test_a_decided_request_cannot_be_decided_again(coordinator) -> None:  # type: ignore[no-untyped-def]
    request = extension(TaskFactory())
    services.extension_decide(request=request, by=coordinator, approve=True, now=NOW)

    with translation.override("en"), pytest.raises(ValidationError) as raised:
        services.extension_decide(request=request, by=coordinator, approve=True, now=NOW)

    assert raised.value.messages == ["This request has already been decided."]


def test_a_refusal_without_a_reason_names_the_forms_field_for_each_kind(coordinator) -> None:  # type: ignore[no-untyped-def]
    request = extension(TaskFactory())
    submission = completion(TaskFactory(status=Task.Status.SUBMITTED))

    with translation.override("en"):
        with pytest.raises(ValidationError) as refused_extension:
            services.extension_decide(request=request, by=coordinator, approve=False, note=" ")
        with pytest.raises(ValidationError) as refused_completion:
            services.completion_refuse(submission=submission, by=coordinator, reason="")

    assert refused_extension.value.message_dict == {"note": ["Give the reason for the refusal."]}
    assert refused_completion.value.message_dict == {"reason": ["Give the reason for the refusal."]}
