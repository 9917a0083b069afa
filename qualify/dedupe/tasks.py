"""The bulk finder as a task: at 1,000,000 leads it takes 20–55 s (bench/dedupe.py), longer than a
web request may, so the page's "Find duplicates" queues it (io queue)."""

from __future__ import annotations

from celery import shared_task

from .finder import find_duplicates


@shared_task(name="dedupe.find_duplicates")
def find_duplicates_task(team_ids: list[int]) -> dict[str, int]:
    """Idempotent: pairs already flagged are strengthened at most, decided ones left alone."""
    return find_duplicates(team_ids)
