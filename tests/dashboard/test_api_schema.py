"""The OpenAPI schema and docs pages, and every endpoint exercised from the schema (schemathesis).

Schemathesis calls the WSGI application in-process (no server): property-based
requests, valid tokens, and the one check that matters here, no 5xx answer.
"""
from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from monitor.tokens import token_create


def test_the_schema_lists_every_endpoint_and_the_bearer_scheme(db):
    response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) == {
        "/api/v1/posts", "/api/v1/posts/{post_id}", "/api/v1/posts/{post_id}/similar",
        "/api/v1/flags", "/api/v1/flags/{flag_id}", "/api/v1/search",
    }
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize("url", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_docs_pages_load_their_assets_from_the_package_not_a_cdn(db, url):
    html = Client().get(url).content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    asset = html.split('src="', 1)[1].split('"', 1)[0] if 'src="' in html else ""
    assert asset.startswith("/static/") and Client().get(asset).status_code == 200


@pytest.fixture
def seeded(db, make_flag, researcher, django_user_model):
    """A few processed posts (real embeddings), a flag, and tokens of a researcher and an admin."""
    from monitor.pipeline import posts_process
    from monitor.roles import user_set_role

    flag = make_flag(text="Il faut chasser les Peuls de Bamako")
    posts_process(post_ids=[flag.post_id])
    admin = django_user_model.objects.create_user(username="root", password="x" * 20)
    user_set_role(user=admin, role="admin")
    return [token_create(user=u, name="schemathesis")[1] for u in (researcher, admin)]


def _load_schema():
    from monitor.wsgi import application

    # The schema view needs no database and no token, so it can be read at collection time.
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


schema = _load_schema()


@pytest.fixture
def keep_test_connection():
    """Calls go straight to the WSGI app, not through Django's test client: like the client, stop the
    request signals from closing the test's database connection (it holds the test transaction)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(
    max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck),
)
def test_no_endpoint_answers_a_server_error(case, seeded, settings, keep_test_connection):
    settings.MONITOR_API_RATE = "100000/minute"
    cache.clear()
    for key in seeded:
        response = case.call(headers={"Authorization": f"Bearer {key}"})
        case.validate_response(response, checks=[not_a_server_error])
