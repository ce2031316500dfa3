from django.urls import path

from portfolio import views

urlpatterns = [
    path("", views.home, name="home"),
    path("portfolios/<int:pk>/", views.portfolio_detail, name="portfolio-detail"),
]
