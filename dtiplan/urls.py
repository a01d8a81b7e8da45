from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from notifications.forms import BackgroundPasswordResetForm

admin.site.site_header = _("dtiplan: DTI improvement plan")
admin.site.site_title = _("dtiplan")
admin.site.index_title = _("Plan administration")
# The app list is one click away (the header's site name); at 1366 px its sidebar took the
# width the task and weak-indicator lists need.
admin.site.enable_nav_sidebar = False


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on every page whatever the page says; the icon itself is a
    static file (hashed name and long cache in production)."""
    return HttpResponseRedirect(static("favicon.ico"))


urlpatterns = [
    path("favicon.ico", favicon),
    # Both reset pages (the admin's login links to the first) also activate accounts that a
    # unit import created without a password. The e-mail goes from the background
    # (notifications/password_reset.py): the page does the same work for any address.
    path(
        "admin/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=BackgroundPasswordResetForm),
        name="admin_password_reset",
    ),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=BackgroundPasswordResetForm),
        name="password_reset",
    ),
    # The steering committee's reports: admin pages (the admin's sign-in and look), read-only.
    path("admin/reports/", include("plans.reports.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The focal-point portal; coordinators reach /admin/ from its header.
    path("notifications/", include("notifications.urls")),
    path("", include("plans.urls")),
]
