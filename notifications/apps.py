from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_triggers(*, using: str, **kwargs: object) -> None:
    from django.db import connections

    from notifications.changes import triggers_install

    triggers_install(connections[using])


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Reminders")

    def ready(self) -> None:
        from notifications import signals

        signals.connect()
        post_migrate.connect(_install_triggers, sender=self, dispatch_uid="sweep_triggers")
