"""Chinese error pages (JSON for API and Dash requests) and response security headers."""

from __future__ import annotations

from dash import Dash
from dash.exceptions import DependencyException
from flask import Flask, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import Conflict, HTTPException, InternalServerError, NotFound, ServiceUnavailable

from tracker.core.db import is_contention, is_unique_violation
from tracker.core.i18n import N_, _, translated

TITLES = {
    400: N_("请求无效"),
    403: N_("无权访问"),
    404: N_("页面不存在"),
    405: N_("不支持的请求方式"),
    413: N_("上传内容过大"),
    409: N_("数据已变化"),
    429: N_("请求过于频繁"),
    500: N_("服务器内部错误"),
    503: N_("系统繁忙"),
}
MESSAGES = {
    404: N_("您访问的页面不存在，请检查网址。"),
    405: N_("此地址不接受这种请求方式。"),
    409: N_("同一数据刚被他人同时修改，您的操作未保存。请刷新后重试。"),
    500: N_("处理请求时出错，已记录日志。请稍后重试或联系管理员。"),
    503: N_("系统正忙，您的操作未保存，请稍后重试。"),
}


def _render(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    title = translated(TITLES, code, _("请求出错"))
    message = translated(MESSAGES, code, "") or (error.description if code < 500 else None) or title
    if request.path.startswith(("/_dash-", "/api/")) or request.accept_mimetypes.best == "application/json":
        response = jsonify(error=code, message=message, message_en=error.name)
        response.status_code = code
        return response
    return render_template("error.html", title=title, message=message), code


def _database_error(error: DBAPIError) -> ResponseReturnValue:
    """Lock and serialization conflicts are the server being busy (503, try again); two requests
    inserting the same key at once is a conflict (409). The transaction was rolled back: nothing
    was changed. Anything else is a crash."""
    if is_contention(error):
        current_app.logger.warning("database busy on %s %s: %s", request.method, request.path, error.orig)
        response = _render(ServiceUnavailable())
        response = response if isinstance(response, Response) else current_app.make_response(response)
        response.headers["Retry-After"] = "2"
        return response
    if is_unique_violation(error):
        current_app.logger.warning("concurrent insert on %s %s: %s", request.method, request.path, error.orig)
        return _render(Conflict())
    return _crash(error)


def _crash(error: Exception) -> ResponseReturnValue:
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return _render(InternalServerError())


ONE_YEAR = 365 * 24 * 3600


def _security_headers(response: Response) -> Response:
    if not request.path.startswith(("/assets/", "/_dash-component-suites/")):
        response.headers["Cache-Control"] = "no-store"  # regulator data stays out of shared caches
    elif request.path.startswith("/assets/") and request.args.get("m") and response.status_code in (200, 304):
        # Dash names each asset with its file's time (``?m=``): a changed file gets a new address, so
        # the browser keeps it instead of asking again on every page (a round trip per file before
        # the page could start); a 304 says so too, for a file kept from before. Without ``m`` (the
        # login page's links) Flask's revalidation stays.
        response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")  # and frame-ancestors 'none' below
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def install_error_pages(server: Flask) -> None:
    server.register_error_handler(HTTPException, _render)
    # Dash raises this for a component-suite file it does not serve: that is a 404, not a crash.
    server.register_error_handler(DependencyException, lambda _error: _render(NotFound()))
    server.register_error_handler(DBAPIError, _database_error)
    server.register_error_handler(Exception, _crash)
    server.after_request(_security_headers)


def content_security_policy(app: Dash) -> str:
    """Only this server's own files; inline scripts only those Dash writes into every page (by their
    SHA-256, ``app.csp_hashes()``); no frames, plugins or other sites. Styles may be inline: Plotly
    and AG Grid set element styles as they draw."""
    scripts = " ".join(app.csp_hashes())
    return "; ".join([
        "default-src 'self'", f"script-src 'self' {scripts}", "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:", "font-src 'self' data:", "connect-src 'self'", "worker-src 'self' blob:",
        "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
    ])  # fmt: skip


def install_content_security_policy(app: Dash) -> None:
    def add(response: Response) -> Response:
        # Built for each answer (some 20 µs): Dash adds its pages' inline script (the document
        # title's) while it sets itself up on its first page request, after the app was made.
        response.headers.setdefault("Content-Security-Policy", content_security_policy(app))
        return response

    app.server.after_request(add)
