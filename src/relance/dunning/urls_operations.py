"""URLs of the reminder pages (operations)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
