"""Account activation: a focal point created by a unit import has no password yet.

Django's PasswordResetForm leaves out users without a usable password (so that a reset cannot
turn on an account an administrator disabled that way). Here such accounts are exactly the ones
waiting to be activated, so the reset form includes every *active* user with that e-mail
address; ``is_active=False`` remains the way to switch an account off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache, caches

from plans.models import User

logger = logging.getLogger(__name__)

# At most this many reset e-mails to one address an hour: the form is public, and without a
# limit anyone could flood an official's mailbox. Past it the page says the same as usual.
RESETS_PER_ADDRESS_PER_HOUR = 3


class ActivatingPasswordResetForm(PasswordResetForm):
    def get_users(self, email: str) -> Iterator[User]:
        if _count_reset(email) > RESETS_PER_ADDRESS_PER_HOUR:
            return iter(())
        return iter(User.objects.filter(email__iexact=email, is_active=True))


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
