"""Error pages: every failure gets a clear page in Chinese and English, never a trace.

Each handler rolls the session back first, so a failed request can never leave
half a change behind for the next one on the same connection.
"""
from __future__ import annotations

from flask import Flask, has_request_context, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from extensions import db

MESSAGES = {
    400: ("请求无效 / Bad request", "提交的内容无法处理,请返回重试。 / The request could not be processed."),
    401: ("请先登录 / Sign-in required", "请先登录。 / Please sign in."),
    403: ("无权访问 / Forbidden", "您没有访问此页面的权限。 / You may not open this page."),
    404: ("页面不存在 / Not found", "您要找的页面不存在。 / The page does not exist."),
    405: ("方法不允许 / Method not allowed", "不支持此操作。 / This action is not supported here."),
    413: ("提交内容过大 / Too large", "提交的内容过大,未被保存。 / The submission is too large; nothing was stored."),
    429: ("操作过于频繁 / Too many requests", "请稍后再试。 / Please wait a moment and try again."),
    500: ("系统错误 / Server error", "系统出现错误,没有保存任何内容,请稍后再试。 / Something went wrong; nothing was stored."),
    503: ("服务暂不可用 / Unavailable", "数据库暂时无法访问,没有保存任何内容,请稍后再试。 / The database is unavailable; nothing was stored."),
}


def json_error(code: int, message: str | None = None):
    """A JSON error response for API clients: ``{"error": message, "status": code}``."""
    response = jsonify(error=message or MESSAGES.get(code, MESSAGES[500])[1], status=code)
    response.status_code = code
    return response


def render_error(code: int, message: str | None = None):
    """Render the shared error page for an HTTP status (JSON under /api/, where routing
    errors such as an unknown path or a wrong method never reach the API blueprint)."""
    if has_request_context() and request.path.startswith("/api/"):
        return json_error(code, message)
    title, default = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, message=message or default), code


def _rollback() -> None:
    """Roll back, tolerating a dead connection (the reason we may be here)."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the page must still render
        pass


def register(app: Flask) -> None:
    """Attach the handlers to ``app``."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        _rollback()
        return render_error(400, "页面已过期或来源无效,请返回刷新后重新提交,未保存任何内容。"
                                 " / The page expired or the form was not ours; nothing was stored. "
                                 "Go back, reload and submit again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        _rollback()
        return render_error(error.code or 500)

    @app.errorhandler(OperationalError)
    def database_down(error):
        _rollback()
        app.logger.error("database unavailable: %s", type(error).__name__)
        return render_error(503)

    @app.errorhandler(Exception)
    def unexpected(error):
        _rollback()
        app.logger.exception("unhandled error")
        return render_error(500)
