from __future__ import annotations

from django.apps import AppConfig


class DtiplanConfig(AppConfig):
    """The project package as an app: it holds no models, only wiring (system checks)."""

    name = "dtiplan"
    verbose_name = "dtiplan"

    def ready(self) -> None:
        from dtiplan import checks  # noqa: F401  (registers the deployment checks)
