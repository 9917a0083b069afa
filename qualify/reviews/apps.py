from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "qualify.reviews"
    label = "reviews"
