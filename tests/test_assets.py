"""Static files and compression (issue 14, point 2; assets.py, docs/security.md "Compression")."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STATIC_URL = re.compile(r'(?:src|href|data-plotly)="(/static/[^"?]+)\?v=([0-9a-f]{12})"')


@pytest.fixture()
def organiser(app, client, campaign):
    from tests.evaluation.results_data import login, seed_results

    ids = seed_results(app, campaign)
    login(client, ids["organiser"])
    return ids


def test_every_static_url_carries_the_files_hash_and_is_cached_a_year(client, organiser):
    import hashlib

    html = client.get(f"/admin/campaigns/{organiser['campaign']}").get_data(as_text=True)
    urls = STATIC_URL.findall(html)
    assert {"/static/css/ceping.css", "/static/js/charts.js", "/static/vendor/plotly.min.js"} <= {u for u, _ in urls}
    assert not re.search(r'(?:src|href)="/static/[^"?]+"', html)  # none without its version
    for url, version in urls:
        body = (ROOT / url.lstrip("/")).read_bytes()
        assert version == hashlib.sha256(body).hexdigest()[:12], url
        response = client.get(f"{url}?v={version}")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable", url
    # an old or missing version is served, but must be checked again: its name does not change with the file
    for query in ("", "?v=000000000000"):
        assert "immutable" not in client.get(f"/static/css/ceping.css{query}").headers.get("Cache-Control", "")


def test_plotly_is_the_vendored_partial_bundle_of_the_python_packages_version(client):
    import plotly

    vendored = (ROOT / "static/vendor/plotly.min.js").read_text(encoding="utf-8")[:400]
    package = (Path(plotly.__file__).parent / "package_data/plotly.min.js").read_text(encoding="utf-8")[:400]
    version = re.search(r"plotly\.js v([\d.]+)", package).group(1)
    assert f"plotly.js (cartesian - minified) v{version}" in vendored
    size = len(client.get("/static/vendor/plotly.min.js").data)
    assert 1_000_000 < size < 2_000_000  # the cartesian bundle, not the 4.8 MB full one
    assert (ROOT / "static/vendor/plotly.js-LICENSE").read_text().startswith("MIT License")


def test_static_files_the_api_and_results_pages_are_compressed(app, client, organiser):
    from tests.evaluation.results_data import make_token

    gz = {"Accept-Encoding": "gzip"}
    page = client.get(f"/admin/campaigns/{organiser['campaign']}", headers=gz)
    assert page.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in page.headers["Vary"]
    assert "需要补课的单位" in gzip.decompress(page.data).decode()
    for path in (f"/admin/evaluations/{organiser['a']}", f"/admin/campaigns/{organiser['campaign']}/report"):
        assert client.get(path, headers=gz).headers.get("Content-Encoding") == "gzip", path
    js = client.get("/static/vendor/plotly.min.js", headers=gz)
    assert js.headers["Content-Encoding"] == "gzip" and len(js.data) < 600_000
    token = make_token(app, "api-reader")
    api = client.get(f"/api/v1/campaigns/{organiser['campaign']}/results",
                     headers={**gz, "Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.headers["Content-Encoding"] == "gzip"
    # no Accept-Encoding: plain
    assert "Content-Encoding" not in client.get(f"/admin/campaigns/{organiser['campaign']}").headers


def test_pages_that_reflect_input_are_never_compressed(app, client, organiser):
    """BREACH: a page with a secret (CSRF token, ballot code) beside echoed input must not be compressed."""
    gz = {"Accept-Encoding": "gzip, deflate, br"}
    rater = app.test_client()
    code = organiser["codes"][0]
    for response in (rater.get("/v", headers=gz), rater.post("/v", data={"code": code}, headers=gz),
                     rater.get("/v/questionnaire", headers=gz),  # the form: the code and a CSRF token
                     rater.get("/login?next=/admin/", headers=gz),
                     rater.post("/login", data={"username": "guess" * 40, "password": "x"}, headers=gz),
                     client.get(f"/admin/campaigns/{organiser['campaign']}/evaluations", headers=gz),
                     client.get("/admin/", headers=gz)):
        assert "Content-Encoding" not in response.headers, response.request.path
