"""Error pages: every failure gets a clear page in the reader's language, never a trace.

Each handler rolls the session back first, so a failed request can never leave
half a change behind for the next one on the same connection. Messages are kept
untranslated (``N_``) and translated when shown: the page follows the chosen
language; API clients (a token, no language cookie) keep getting "中文 / English".
"""
from __future__ import annotations

from flask import Flask, has_request_context, jsonify, render_template, request
from flask_babel import force_locale, gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from extensions import db

def N_(text: str) -> str:
    """Mark a text for translation when it is shown (it is extracted, not translated here)."""
    return text


MESSAGES = {
    400: (N_("请求无效"), N_("提交的内容无法处理,请返回重试。")),
    401: (N_("请先登录"), N_("请先登录。")),
    403: (N_("无权访问"), N_("您没有访问此页面的权限。")),
    404: (N_("页面不存在"), N_("您要找的页面不存在。")),
    405: (N_("方法不允许"), N_("不支持此操作。")),
    413: (N_("提交内容过大"), N_("提交的内容过大,未被保存。")),
    429: (N_("操作过于频繁"), N_("请稍后再试。")),
    500: (N_("系统错误"), N_("系统出现错误,没有保存任何内容,请稍后再试。")),
    503: (N_("服务暂不可用"), N_("数据库暂时无法访问,没有保存任何内容,请稍后再试。")),
}
CSRF_MESSAGE = N_("页面已过期或来源无效,请返回刷新后重新提交,未保存任何内容。")


def bilingual(text: str) -> str:
    """"中文 / English" for API clients, whatever language a browser chose (English from the catalog)."""
    with force_locale("en"):
        english = gettext(text)
    return text if english == text else f"{text} / {english}"


def json_error(code: int, message: str | None = None):
    """A JSON error response for API clients: ``{"error": message, "status": code}``.

    ``message`` is used as given (the API's own texts are already "中文 / English");
    the default message of the status is given in both languages.
    """
    response = jsonify(error=message or bilingual(MESSAGES.get(code, MESSAGES[500])[1]), status=code)
    response.status_code = code
    return response


def render_error(code: int, message: str | None = None):
    """Render the shared error page for an HTTP status (JSON under /api/, where routing
    errors such as an unknown path or a wrong method never reach the API blueprint).

    ``message`` is an untranslated Chinese text (marked with ``N_``): the page shows
    it in the chosen language, the JSON answer in both.
    """
    if has_request_context() and request.path.startswith("/api/"):
        return json_error(code, bilingual(message) if message else None)
    title, default = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=gettext(title),
                           message=gettext(message or default)), code


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
        return render_error(400, CSRF_MESSAGE)

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
