from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from config import health
from leanpmo.api.urls import routes as funding_routes
from portfolio.api.urls import routes as portfolio_routes
from portfolio.sso.forms import PasswordLoginForm
from portfolio.sso.views import SsoLogoutView
from teams.api.urls import routes as team_routes
from valuestreams.api.urls import routes as value_stream_routes

router = DefaultRouter()
for prefix, viewset, basename in [*portfolio_routes, *value_stream_routes, *team_routes]:
    router.register(prefix, viewset, basename=basename)
for prefix, viewset, basename in funding_routes:
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("", include("portfolio.urls")),
    path("", include("valuestreams.urls")),
    path("", include("teams.urls")),
    path("", include("leanpmo.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=PasswordLoginForm
        ),
        name="login",
    ),
    path("accounts/logout/", SsoLogoutView.as_view(), name="logout"),
    path("", include("portfolio.sso.urls")),
    path("health/", require_safe(health.health), name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((router.urls, "api"), namespace="api")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's start script is served from its own URL (?script), so no inline script runs
    path(
        "api/v1/docs/",
        csp_override(settings.API_DOCS_CSP)(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    path(
        "api/v1/redoc/",
        csp_override(settings.API_DOCS_CSP)(SpectacularRedocView.as_view(url_name="api-schema")),
        name="api-redoc",
    ),
]

# the API answers JSON even where no view runs (an unknown URL, a request Django refuses)
handler400 = "portfolio.api.errors.bad_request"
handler404 = "portfolio.api.errors.not_found"
handler500 = "portfolio.api.errors.server_error"
