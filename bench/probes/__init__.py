"""Probes: short scripts that time one part of a queue request on `bench queue`'s data set, for
comparing two checkouts or two settings run after run (each one's docstring gives its command)."""

from __future__ import annotations


def queue_users() -> dict:
    """The users the queue bench measures: the first team's manager ("manager") and the SDR with
    the longest own queue ("sdr"). Exits when this database holds no queue data set. Call after
    django.setup()."""
    from accounts.models import User
    from bench import dataset
    from bench.queue import sdr_queue_lengths

    ds = dataset.current()
    if ds is None:
        raise SystemExit("No queue data set here: run `python -m bench queue` on this database first.")
    team = ds.team(0)
    return {"manager": ds.manager(team), "sdr": User.objects.get(pk=sdr_queue_lengths(team)[0]["owner"])}
