"""Who a password reset reaches, and how often one address may ask.

Account activation: a focal point created by a unit import has no password yet. Django's
PasswordResetForm leaves out users without a usable password (so that a reset cannot turn on an
account an administrator disabled that way). Here such accounts are exactly the ones waiting to
be activated, so a reset reaches every *active* user with that e-mail address;
``is_active=False`` remains the way to switch an account off.

The e-mail itself is sent from the background (``notifications.password_reset``), so the
public page does the same work whether or not the address belongs to anyone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.cache import cache, caches
from django.db.models import QuerySet
from django.db.models.functions import Lower

from plans.models import User

logger = logging.getLogger(__name__)

# At most this many reset e-mails to one address an hour: the form is public, and without a
# limit anyone could flood an official's mailbox. Past it the page says the same as usual.
RESETS_PER_ADDRESS_PER_HOUR = 3


def reset_recipients(emails: Iterable[str]) -> QuerySet[User]:
    """The accounts a reset for these (lower-case) addresses reaches: active ones, with or
    without a password (a focal point's first reset activates the account)."""
    return User.objects.annotate(email_lower=Lower("email")).filter(
        email_lower__in=[email.strip().lower() for email in emails], is_active=True
    )


def reset_request_allowed(email: str) -> bool:
    """Counts this request against the address's hourly limit; false past the limit. Counted
    for every address typed, known or not, so the limit tells nothing either."""
    return _count_reset(email) <= RESETS_PER_ADDRESS_PER_HOUR


def _count_reset(email: str) -> int:
    """This hour's reset requests for the address, counted in the shared cache. With the cache
    (Redis) down, the page must still work: the count falls back to this process's memory, a
    weaker limit that is still a limit, and the outage is logged."""
    key = f"password-reset:{email.strip().lower()}"
    try:
        cache.add(key, 0, timeout=3600)
        return cache.incr(key)
    except Exception:  # the shared cache's client raises its own connection errors
        logger.exception("Cache unavailable; counting password resets in this process only")
        local = caches["local"]
        local.add(key, 0, timeout=3600)
        return local.incr(key)
