"""Static files and compression: versioned URLs cached for a year, and gzip where it is safe.

* Every ``url_for('static', filename=…)`` gets ``?v=<hash of the file>`` (a url_defaults
  hook, so no template changes), and a response for the current hash is cached for a
  year as immutable: a browser asks again only when the file, and so its URL, changes.
  A request with an old or no hash gets the file with the default revalidating
  headers, never a long life under a name that may change.
* plotly.js is vendored (static/vendor/plotly.min.js: the "cartesian" partial bundle,
  bar and heatmap, the only trace types the app draws) instead of served from the
  Python package's full 4.8 MB bundle; nothing comes from a CDN.
* Responses are compressed by Flask-Compress only where compression cannot serve as
  a BREACH oracle (docs/security.md, "Compression"): static files, the bearer-token
  JSON API, and the organiser pages listed in :data:`COMPRESSED_PAGES`, which reflect
  no free text from the request. The rater's pages (a ballot code, a CSRF token, typed
  answers), sign-in and every other page stay uncompressed.
"""
from __future__ import annotations

import hashlib
import os

from flask import Flask, request
from flask_compress import Compress

#: One year: the longest lifetime browsers honour; the hash in the URL does the invalidation.
STATIC_MAX_AGE = 365 * 24 * 3600
#: Organiser pages safe to compress: their query arguments are parsed to ids or checked against a
#: fixed list before anything is echoed, so no attacker-chosen text sits beside the CSRF token.
COMPRESSED_PAGES = frozenset({"evaluation.campaign", "evaluation.campaign_report", "evaluation.evaluation",
                              "evaluation.evaluation_report"})
#: Blueprints whose every response may be compressed: the API authenticates by bearer token, not
#: cookie, so another site cannot make a browser send it requests that carry a secret.
COMPRESSED_BLUEPRINTS = frozenset({"api"})

compress = Compress()


def init_app(app: Flask) -> None:
    """Register the versioned static URLs, their cache headers and the compression policy."""
    app.config.setdefault("COMPRESS_REGISTER", False)  # our own hook decides which responses
    app.config.setdefault("COMPRESS_MIMETYPES", ["text/html", "text/css", "text/javascript", "application/javascript",
                                                 "application/json", "image/svg+xml"])
    # Plain HTTP browsers offer gzip and deflate only; brotli and zstd where they are offered.
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip", "deflate"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip", "deflate"])
    compress.init_app(app)
    versions: dict[str, str] = {}

    def version_of(filename: str) -> str:
        """The first 12 hex digits of the file's SHA-256, read once per process (files change with a deploy)."""
        if filename not in versions:
            path = os.path.join(app.static_folder or "", filename)
            try:
                with open(path, "rb") as handle:
                    versions[filename] = hashlib.sha256(handle.read()).hexdigest()[:12]
            except OSError:
                versions[filename] = ""  # no such file: the URL answers 404 anyway
        return versions[filename]

    @app.url_defaults
    def versioned_static(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = version_of(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_and_compress(response):
        if request.endpoint == "static" and response.status_code == 200:
            filename = (request.view_args or {}).get("filename", "")
            if request.args.get("v") and request.args.get("v") == version_of(filename):
                response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}, immutable"
        if compressible():
            response = compress.after_request(response)
        return response


def compressible() -> bool:
    """Whether this request's response may be compressed (see the module docstring and docs/security.md)."""
    return (request.endpoint == "static" or request.endpoint in COMPRESSED_PAGES
            or request.blueprint in COMPRESSED_BLUEPRINTS)
