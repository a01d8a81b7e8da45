"""The address a request came from, for login throttling (django-axes).

Without a proxy it is ``REMOTE_ADDR``; a client-sent X-Forwarded-For is ignored, so an attacker
cannot pick the address their failures count against. Behind ``TRUSTED_PROXY_COUNT`` reverse
proxies that each append the address they received from (nginx's
``$proxy_add_x_forwarded_for``), it is the entry the outermost trusted proxy appended.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR", "")
