"""The review queue of bank credits the matcher could not settle alone."""

from django.urls import path

from relance.banking import views_matching

urlpatterns = [
    path("review/", views_matching.review, name="bank_review"),
    path("unmatched/", views_matching.unmatched, name="bank_unmatched"),
    path("lines/<int:pk>/match/", views_matching.line_match, name="bank_line_match"),
]
