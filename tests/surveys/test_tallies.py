"""Running tallies equal a full recount: after counts of the ballot box, concurrently, and via `flask recount`."""
from __future__ import annotations

import concurrent.futures
import re

import pandas as pd
import requests
from sqlalchemy import text

from extensions import db


def _count(app, sql: str) -> int:
    with app.app_context():
        return db.session.execute(text(sql)).scalar_one()


def test_each_count_updates_the_tallies_in_its_transaction(app, client, campaign, issue, answers_for, runner,
                                                           count_box):
    evaluation = campaign["evaluation"]
    for i, code in enumerate(issue(evaluation, "党员", 3) + issue(evaluation, "群众代表", 2)):
        assert client.post("/v", data={**(answers_for(evaluation, choice=i % 2)), "code": code, "ballot": "1"}).status_code == 303
    assert _count(app, "SELECT count(*) FROM ballot_tally") == 0  # sealed: nothing counted yet
    assert count_box(evaluation) == 5
    assert _count(app, "SELECT sum(n) FROM ballot_tally") == 5
    # 6 scale items per ballot; the text item is not tallied
    assert _count(app, "SELECT sum(n) FROM tally") == 5 * 6
    with app.app_context():
        from surveys.tallies import differences

        assert differences(db.session) == []
    result = runner.invoke(args=["recount"])
    assert result.exit_code == 0 and "tallies equal a full recount" in result.output


def test_a_rejected_submit_changes_no_tally(app, client, campaign, issue, answers_for, count_box):
    evaluation = campaign["evaluation"]
    code = issue(evaluation, "党员", 1)[0]
    assert client.post("/v", data={**(answers_for(evaluation)), "code": code, "ballot": "1"}).status_code == 303
    assert client.post("/v", data={**(answers_for(evaluation, choice=3)), "code": code, "ballot": "1"}).status_code == 409
    assert count_box(evaluation) == 1
    assert _count(app, "SELECT sum(n) FROM ballot_tally") == 1
    assert _count(app, "SELECT count(*) FROM tally WHERE n > 0") == 6


def test_recount_reports_a_tampered_tally_and_fix_rebuilds_it(app, client, campaign, issue, answers_for, runner,
                                                               count_box):
    evaluation = campaign["evaluation"]
    for code in issue(evaluation, "党员", 2):
        client.post("/v", data={**(answers_for(evaluation)), "code": code, "ballot": "1"})
    count_box(evaluation)
    with app.app_context():
        db.session.execute(text("UPDATE tally SET n = n + 1 WHERE option_id = (SELECT min(option_id) FROM tally)"))
        db.session.execute(text("DELETE FROM ballot_tally"))
        # the sums by polarity that scoring reads are checked and rebuilt the same way
        db.session.execute(text("UPDATE polarity_tally SET n_negative = n_negative + 3 "
                                "WHERE item_id = (SELECT min(item_id) FROM polarity_tally)"))
        db.session.commit()
    broken = runner.invoke(args=["recount"])
    assert broken.exit_code == 1 and "cells differ" in broken.output
    assert re.search(r"ballots\t\(\d+, \d+\)\ttallied=0\trecounted=2", broken.stdout)
    assert re.search(r"polarity\t\(\d+, \d+, \d+\)\ttallied=\(\d+, 3, \d+\)\trecounted=\(\d+, 0, \d+\)", broken.stdout)
    assert runner.invoke(args=["recount", "--fix"]).exit_code == 0
    assert runner.invoke(args=["recount"]).exit_code == 0
    assert _count(app, "SELECT sum(n) FROM ballot_tally") == 2
    assert _count(app, "SELECT sum(n_positive + n_negative + n_unknown) FROM polarity_tally") == 2 * 6


def test_results_read_from_tallies_equal_a_recount_after_concurrent_submits(app, campaign, issue, answers_for,
                                                                            live_server, count_box):
    """60 ballots over two groups through 4 gunicorn workers: tallies == GROUP BY over the answers."""
    evaluation = campaign["evaluation"]
    codes = [(c, i % 4) for i, c in enumerate(issue(evaluation, "党员", 40) + issue(evaluation, "服务对象", 20))]
    # the live server runs with CSRF on: fetch a token per request session first
    def vote_with_token(code_choice):
        session = requests.Session()
        page = session.post(f"{live_server}/v", data={"code": code_choice[0]}, timeout=60).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = dict(answers_for(evaluation, choice=code_choice[1]), csrf_token=token)
        return session.post(f"{live_server}/v", data={**(data), "code": code_choice[0], "ballot": "1"}, allow_redirects=False, timeout=60).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(vote_with_token, codes))
    assert statuses.count(303) == 60
    with app.app_context():
        from surveys.tallies import differences

        assert differences(db.session) == []  # what the requests counted in batches, concurrently
    count_box(evaluation)
    with app.app_context():
        from evaluation.results.frames import load_frames
        from surveys.tallies import differences

        assert differences(db.session) == []
        frames = load_frames([evaluation])
        assert int(frames.ballots["n_ballots"].sum()) == 60
        # the pooled counts the dashboards read equal a GROUP BY over the stored answers
        recount = db.session.execute(text(
            "SELECT count(*) FROM answer a JOIN ballot b ON b.id = a.ballot_id "
            "JOIN item i ON i.id = a.item_id WHERE i.kind = 'scale' AND b.evaluation_id = :e"
        ), {"e": evaluation}).scalar_one()
        assert int(frames.counts["n"].sum()) == recount == 60 * 6
        # the overview's read, summed by polarity in SQL, scores exactly like the per-option cells
        import analysis

        summed = load_frames([evaluation], per_option=False)
        assert "option_id" not in summed.counts.columns
        assert int(summed.counts[["n_positive", "n_negative", "n_unknown"]].sum().sum()) == recount
        pd.testing.assert_frame_equal(analysis.item_results(*summed.args()), analysis.item_results(*frames.args()))
        pd.testing.assert_frame_equal(analysis.unit_results(*summed.args()), analysis.unit_results(*frames.args()))
