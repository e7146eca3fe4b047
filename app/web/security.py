"""Cross-site request protection and the security headers of every answer.

- Unsafe methods (POST, PUT, PATCH, DELETE) on the direct port are accepted only when `Origin` (or,
  without it, `Referer`) is the request's own origin. Through Home Assistant ingress the supervisor's
  proxy has already checked the user's HA session, so the origin is HA's and is not compared.
- JSON endpoints (`/api/...`) take only `Content-Type: application/json` (415 otherwise): a foreign
  page cannot send that type without a CORS preflight, which this server never grants.
- A form post without `Origin` and `Referer` must carry the per-session token: the `med_csrf` cookie
  (SameSite=Strict, HttpOnly) repeated in the form's hidden `csrf_token` field.
- Every answer gets a Content-Security-Policy without inline script, `X-Content-Type-Options: nosniff`
  and `frame-ancestors 'self'` (the ingress panel frames the UI from Home Assistant's own origin; no
  other site may frame it).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web

from app.web.ingress import INGRESS, door_of, ingress_path

log = logging.getLogger(__name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
JSON_TYPE = "application/json"
CSRF_COOKIE = "med_csrf"
CSRF_FIELD = "csrf_token"
CSRF_TOKEN: web.RequestKey[str] = web.RequestKey("csrf_token", str)
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # uPlot and the tooltip position elements by style
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    )
)


def setup_security(app: web.Application) -> None:
    """Adds the CSRF middleware (right after the access check) and the security headers."""
    app.middlewares.insert(1 if app.middlewares else 0, csrf_middleware)
    app.on_response_prepare.append(_security_headers)


def _is_json_endpoint(path: str) -> bool:
    return path.startswith("/api/")


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def _own_origins(request: web.Request) -> set[str]:
    host = request.host.lower()
    return {f"{scheme}://{host}" for scheme in ("http", "https")}


def _refuse(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=f'{{"error": "{status.__name__}", "message": "{message}"}}', content_type=JSON_TYPE)


@web.middleware
async def csrf_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    token = request.cookies.get(CSRF_COOKIE, "")
    fresh = len(token) < 32
    if fresh:
        token = secrets.token_urlsafe(32)
    request[CSRF_TOKEN] = token
    request.setdefault(aiohttp_jinja2.REQUEST_CONTEXT_KEY, {})[CSRF_FIELD] = token
    if request.method in UNSAFE_METHODS:
        await _check_unsafe(request, "" if fresh else token)
    response: web.StreamResponse = await handler(request)
    if fresh and not response.prepared:
        _set_cookie(request, response, token)
    return response


def _set_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        token,
        path=(ingress_path(request) or "") + "/",
        httponly=True,
        samesite="Strict",
        secure=request.secure or None,
    )


async def _check_unsafe(request: web.Request, cookie_token: str) -> None:
    content_type = request.content_type if "Content-Type" in request.headers else ""
    ingress = door_of(request) == INGRESS
    origin = request.headers.get("Origin")
    if origin is None and request.headers.get("Referer"):
        origin = _origin_of(request.headers["Referer"]) or "invalid"
    if not ingress and origin is not None and origin.lower() not in _own_origins(request):
        log.warning("refused a %s %s from another site (%s)", request.method, request.path, origin[:100])
        raise _refuse(web.HTTPForbidden, "cross-site request refused")
    if request.body_exists:
        if _is_json_endpoint(request.path):
            if content_type != JSON_TYPE:
                raise _refuse(web.HTTPUnsupportedMediaType, "send the body as Content-Type: application/json")
        elif content_type not in FORM_TYPES | {JSON_TYPE}:
            raise _refuse(web.HTTPUnsupportedMediaType, "send a form or a JSON body")
    if not ingress and origin is None and content_type in FORM_TYPES:
        form = await request.post()
        given = form.get(CSRF_FIELD)
        if not cookie_token or not isinstance(given, str) or not hmac.compare_digest(given, cookie_token):
            raise _refuse(web.HTTPForbidden, "the form's session token is missing or wrong: reload the page")


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Referrer-Policy", "same-origin")
