"""Private, loopback and link-local targets are refused when an endpoint is saved and again at
delivery (a host that resolved to a public address and now resolves to 127.0.0.1: DNS rebinding)."""

from __future__ import annotations

import socket

import pytest
from django.core.exceptions import ValidationError

from qualify.webhooks import addresses, delivery
from qualify.webhooks.models import Delivery, Endpoint, EventType

pytestmark = pytest.mark.django_db


def resolves_to(monkeypatch, *ips: str) -> None:
    def fake(host, port, *args, **kwargs):
        return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips]

    monkeypatch.setattr(addresses.socket, "getaddrinfo", fake)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hooks", "http://localhost:8000/", "http://10.1.2.3/", "http://192.168.0.10/", "http://172.16.5.4/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[fe80::1]/", "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/", "http://100.64.0.1/",
])
def test_private_targets_are_refused_when_saved(north, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ValidationError) as e:
        Endpoint(team=north, url=url, events=[EventType.LEAD_MQL]).full_clean()
    assert "url" in e.value.message_dict


@pytest.mark.parametrize("ip", [
    "64:ff9b::7f00:1",  # NAT64's well-known prefix around 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # ... around 169.254.169.254, the cloud metadata service
    "64:ff9b:1::a00:7",  # the local-use NAT64 prefix around 10.0.0.7
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
    "::7f00:1",  # IPv4-compatible 127.0.0.1
    "fec0::1",  # site-local
])
def test_an_ipv6_address_that_carries_a_private_ipv4_one_is_refused(north, settings, monkeypatch, ip):
    """ipaddress calls these global: through a NAT64 gateway (IPv6-only cloud subnets) 64:ff9b::a9fe:a9fe
    reaches the metadata service, so a host name resolving to it passed the check."""
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    resolves_to(monkeypatch, ip)
    with pytest.raises(ValidationError):
        Endpoint(team=north, url="https://hooks.example.com/", events=[EventType.LEAD_MQL]).full_clean()


def test_a_host_with_one_private_address_among_public_ones_is_refused(north, settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    resolves_to(monkeypatch, "93.184.216.34", "10.0.0.7")
    with pytest.raises(ValidationError):
        Endpoint(team=north, url="https://hooks.example.com/", events=[EventType.LEAD_MQL]).full_clean()


def test_public_targets_are_accepted(north, settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    resolves_to(monkeypatch, "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")
    Endpoint(team=north, url="https://hooks.example.com/in", events=[EventType.LEAD_MQL]).full_clean()


def test_the_setting_allows_loopback(north, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    Endpoint(team=north, url="http://127.0.0.1:9000/", events=[EventType.LEAD_MQL]).full_clean()


def test_unknown_events_and_bad_schemes_are_refused(north):
    with pytest.raises(ValidationError) as e:
        Endpoint(team=north, url="ftp://127.0.0.1/", events=["lead.mql", "lead.exploded"]).full_clean()
    assert set(e.value.message_dict) == {"url", "events"}


def test_a_host_that_now_resolves_to_loopback_is_not_called(north, north_hook, maria, settings, monkeypatch):
    """Saved while the host was public; at delivery it resolves to the receiver on 127.0.0.1."""
    endpoint, r = north_hook
    Endpoint.objects.filter(pk=endpoint.pk).update(url=r.url.replace("127.0.0.1", "rebind.example.com"))
    from tests.webhooks.test_delivery import new_lead

    new_lead(north, maria)
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    resolves_to(monkeypatch, "127.0.0.1")
    assert delivery.deliver() == 1
    row = Delivery.objects.get()
    assert r.attempts == [] and row.status == "pending" and row.last_error.startswith("Refused: rebind.example.com resolves to 127.0.0.1")
    # With the setting on (this test's receiver is local), the same row goes out on its retry.
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    Delivery.objects.update(next_attempt_at=row.created_at)
    assert delivery.deliver() == 1
    assert len(r.delivered()) == 1
