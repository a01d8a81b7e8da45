from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("Improvement plans")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from plans.roles import ensure_groups

        # Permissions exist only after every app has migrated, so groups are synced here.
        post_migrate.connect(ensure_groups, sender=self)
