"""Analytics and conversions over HTTP (SPEC §14)."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from orgportal.models import Click
from orgportal.services import clicks
from tests.api.conftest import Team, bearer
from tests.factories import make_user
from tests.services.test_clicks import GOOGLEBOT, hit, make_link


def clicked(session: Session, team: Team, n: int = 2):
    link = make_link(session, team.users["owner"], team.org.id, append_click_id=True)
    batch = [hit(link) for _ in range(n)] + [hit(link, GOOGLEBOT)]
    clicks.record(session, batch)
    session.commit()
    return link, batch


def test_link_stats_for_members_and_404_for_others(client: TestClient, team: Team, session):
    link, _ = clicked(session, team)
    answer = client.get(f"/api/links/{link.id}/stats", headers=team.keys["viewer"])
    assert answer.status_code == 200
    body = answer.json()
    assert (body["clicks"], body["bot_visits"]) == (2, 1)
    assert len(body["days"]) == 30 and body["days"][-1]["clicks"] == 2
    assert body["browsers"][0] == {
        "label": "Chrome", "clicks": 2, "conversions": 0, "conversion_rate": 0.0,
        "conversion_value": 0.0, "id": None,
    }  # fmt: skip
    outsider = client.get(f"/api/links/{link.id}/stats", headers=team.keys["outsider"])
    assert outsider.status_code == 404


def test_stats_range_from_to(client: TestClient, team: Team, session):
    link, batch = clicked(session, team)
    today = batch[0].at.date()
    week_ago = (today - timedelta(days=7)).isoformat()
    answer = client.get(
        f"/api/links/{link.id}/stats?from={week_ago}&to={week_ago}", headers=team.keys["owner"]
    )
    assert answer.status_code == 200
    assert answer.json()["from"] == week_ago and answer.json()["clicks"] == 0
    # ends the wrong way round are swapped, a longer range is cut to the last 366 days:
    # the answer says which days it covers (the document promises no refusal for them)
    swapped = client.get(
        f"/api/links/{link.id}/stats?from={today}&to={week_ago}", headers=team.keys["owner"]
    ).json()
    assert (swapped["from"], swapped["to"]) == (week_ago, today.isoformat())
    long = client.get(
        f"/api/links/{link.id}/stats?from=2000-01-01&to={today}", headers=team.keys["owner"]
    ).json()
    assert len(long["days"]) == 366 and long["to"] == today.isoformat()
    for bad_day in ("0", "2026-02-30", "29-11-2026"):
        bad = client.get(f"/api/links/{link.id}/stats?to={bad_day}", headers=team.keys["owner"])
        assert bad.status_code == 422, bad_day


def test_organization_analytics_same_figures_as_the_page(client: TestClient, team: Team, session):
    link, _ = clicked(session, team, 3)
    answer = client.get(
        f"/api/organizations/{team.org.public_id}/analytics", headers=team.keys["agent"]
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["clicks"] == 3
    assert body["top_links"][0]["id"] == link.id and body["top_links"][0]["clicks"] == 3
    assert body["top_projects"][0]["label"] == "No project"
    filtered = client.get(
        f"/api/organizations/{team.org.public_id}/analytics?link_id={link.id}",
        headers=team.keys["owner"],
    )
    assert filtered.json()["clicks"] == 3
    other = client.get(
        f"/api/organizations/{team.other_org.public_id}/analytics?link_id={link.id}",
        headers=team.keys["outsider"],
    )
    assert other.status_code == 404
    assert (
        client.get(
            f"/api/organizations/{team.org.public_id}/analytics", headers=team.keys["outsider"]
        ).status_code
        == 404
    )


def test_conversions_created_once_then_repeated(client: TestClient, team: Team, session):
    link, batch = clicked(session, team)
    body = {"click_id": batch[0].token, "name": "signup", "value": 10}
    first = client.post("/api/conversions", headers=team.keys["viewer"], json=body)
    assert first.status_code == 201 and first.json()["created"] is True
    again = client.post("/api/conversions", headers=team.keys["viewer"], json=body)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    stats = client.get(f"/api/links/{link.id}/stats", headers=team.keys["owner"]).json()
    assert (stats["conversions"], stats["conversion_rate"]) == (1, 0.5)


def test_conversion_outside_the_window_is_422_naming_it(client: TestClient, team: Team, session):
    _, batch = clicked(session, team)
    click = session.exec(select(Click).where(Click.token == batch[0].token)).one()
    click.clicked_at -= timedelta(hours=169)
    session.add(click)
    session.commit()
    answer = client.post(
        "/api/conversions", headers=team.keys["owner"], json={"click_id": click.token, "name": "x"}
    )
    assert answer.status_code == 422
    assert "attribution window of 168 hours" in answer.json()["detail"]


def test_conversion_refusals(client: TestClient, team: Team, session):
    _, batch = clicked(session, team)
    outsider = client.post(
        "/api/conversions",
        headers=team.keys["outsider"],
        json={"click_id": batch[0].token, "name": "x"},
    )
    assert outsider.status_code == 404
    personal = client.post(
        "/api/conversions",
        headers=bearer(session, make_user(session)),
        json={"click_id": batch[0].token, "name": "x"},
    )
    assert personal.status_code == 404
    assert client.post("/api/conversions", json={"click_id": "a", "name": "x"}).status_code == 401
    bad = client.post("/api/conversions", headers=team.keys["owner"], json={"click_id": "a"})
    assert bad.status_code == 422


def test_openapi_documents_the_analytics_routes(client: TestClient):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/links/{link_id}/stats" in paths
    assert "/api/organizations/{organization_id}/analytics" in paths
    assert "post" in paths["/api/conversions"]
    params = {p["name"] for p in paths["/api/links/{link_id}/stats"]["get"]["parameters"]}
    assert {"from", "to"} <= params


def test_link_with_click_id_redirect_then_conversion(client: TestClient, team: Team, monkeypatch):
    """The whole attribution path over HTTP: a link made with append_click_id, followed, and
    the op_click id from the redirect reported as a conversion."""
    from orgportal.config import settings

    monkeypatch.setattr(settings, "click_recording", "inline")
    made = client.post(
        "/api/links",
        headers=team.keys["agent"],
        json={"target_url": "https://shop.example/p?x=1", "append_click_id": True},
    )
    assert made.status_code == 201 and made.json()["append_click_id"] is True
    followed = client.get(
        f"/l/{made.json()['slug']}", follow_redirects=False, headers={"User-Agent": "Mozilla/5.0"}
    )
    assert followed.status_code == 302
    location = followed.headers["location"]
    assert location.startswith("https://shop.example/p?x=1&op_click=")
    click_id = location.split("op_click=")[1]
    converted = client.post(
        "/api/conversions", headers=team.keys["owner"], json={"click_id": click_id, "name": "buy"}
    )
    assert converted.status_code == 201
    assert converted.json()["link_id"] == made.json()["id"]
