from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("Improvement plans")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from plans.roles import ensure_groups

        # Permissions are created app by app after migrate, and auth's handler is connected
        # after ours; syncing (idempotently) after every app's signal sees them all by the end.
        post_migrate.connect(ensure_groups, dispatch_uid="plans.ensure_groups")
