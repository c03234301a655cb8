"""Shared by the list tests: a signed-in client and a CSV download read back as rows."""
from __future__ import annotations

import csv
import io

from tests.evaluation.manage_data import login


def signed_in(app, username):
    """A test client signed in as ``username``."""
    client = app.test_client()
    login(client, username)
    return client


def csv_rows(response) -> list[list[str]]:
    """A 200 CSV response as rows (its UTF-8 BOM dropped)."""
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
