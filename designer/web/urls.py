"""The canvas pages: the app at / and its client routes, sign-in and sign-out."""
from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.app, name="web-home"),
    path("pipelines/<int:pipeline_id>/", views.app, name="web-pipeline"),
    path("runs/<uuid:run_id>/", views.app, name="web-run"),
    path("jobs/", views.app, name="web-jobs"),
    path("experiments/", views.app, name="web-experiments"),
    path("jobs/<uuid:run_id>/", views.app, name="web-job"),
    path("experiments/<str:name>/", views.app, name="web-experiment"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True, next_page="/"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page=views.LOGIN_URL), name="logout"),
]
