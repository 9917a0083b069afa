from tests.conftest import login


def test_api_metrics_table(client, refreshed, maria, alice):
    login(client, maria)
    body = client.get("/api/metrics/funnel/?start=2026-01-01&end=2026-02-28&dim=source").json()
    assert body["columns"][:3] == ["source", "leads", "mql"]
    assert body["rows"][0][:3] == ["All leads", 5, 4]
    assert client.get("/api/metrics/nope/").status_code == 404
    login(client, alice)
    assert client.get("/api/metrics/funnel/").status_code == 403
