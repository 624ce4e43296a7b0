"""Signing in to the web chat: accounts (or the single ``--auth USER:PASSWORD``), login attempts limited per user
and per address, session cookies that stay on this site (``SameSite=Lax``, ``HttpOnly``), roles on the server.

Gradio checks the password through :func:`authenticator`; :class:`LoginGuard`, an ASGI middleware in front of
Gradio's app, sees the address of each ``POST /login`` (Gradio's check does not) and the cookies it sets.

Example:
    >>> from assistant.team.users import Accounts, Limiter
    >>> accounts = Accounts(tmp / "data"); accounts.add("paul", "reader", "un mot de passe")
    >>> check = authenticator(accounts, None, Limiter())
    >>> check("paul", "un mot de passe"), check("nobody", "un mot de passe")
    (True, False)
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from typing import Any

from assistant.team.users import ROLES, Accounts, Limiter

Scope = dict[str, Any]
ASGIApp = Callable[..., Any]


def authenticator(accounts: Accounts, single: tuple[str, str] | None, limiter: Limiter) -> Callable[[str, str], bool]:
    """The login check: an account's password, or the ``--auth`` pair; a user with too many recent failures is
    refused for a while, with the same answer as a wrong password."""

    def check(name: str, password: str) -> bool:
        key = f"user:{name}"
        if limiter.wait(key) > 0:
            return False
        good = accounts.check(name, password) or (
            single is not None and _same(name, single[0]) and _same(password, single[1])
        )
        if good:
            limiter.succeeded(key)
        else:
            limiter.failed(key)
        return good

    return check


def _same(given: str, expected: str) -> bool:
    """A constant-time comparison of any text (``compare_digest`` refuses non-ASCII ``str``)."""
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def role_of(accounts: Accounts, name: str | None, single: str | None = None) -> str:
    """What a user may do: no accounts at all, admin (as before accounts existed); the ``--auth`` user, admin;
    an account, its role; anyone else — not signed in (accounts added after the server started) or an account
    removed since it signed in — reader only."""
    if not accounts.exist():
        return "admin"
    if name is not None and single is not None and name == single:
        return "admin"
    return (accounts.role(name) if name else None) or "reader"


def allowed(role: str, needed: str) -> bool:
    """Whether ``role`` includes ``needed`` (reader < editor < admin).

    >>> allowed("editor", "reader"), allowed("reader", "editor")
    (True, False)
    """
    return ROLES.index(role) >= ROLES.index(needed)


def _same_site(value: bytes) -> bytes:
    parts = [p for p in value.split(b";") if not p.strip().lower().startswith(b"samesite")]
    return b";".join([*parts, b" SameSite=Lax"])


def mcp_access(check: Callable[[str, str], bool] | None, token: str | None) -> Callable[[dict[bytes, bytes]], bool]:
    """Who may use the MCP tools: with a token, "Authorization: Bearer TOKEN"; else, when logins are asked,
    "Authorization: Basic" with an account (or the --auth pair); else anyone who reaches the address (127.0.0.1
    by default)."""

    def allow(headers: dict[bytes, bytes]) -> bool:
        given = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, value = given.partition(" ")
        if token:
            return scheme.lower() == "bearer" and secrets.compare_digest(value.strip(), token)
        if check is None:
            return True
        if scheme.lower() != "basic":
            return False
        try:
            name, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return check(name, password)

    return allow


class LoginGuard:
    """Refuse ``POST /login`` from an address with too many recent failures (HTTP 429), count each address's
    failures, keep every cookie on this site (``SameSite=Lax``), and let only allowed clients reach the MCP
    tools (Gradio's MCP routes do not ask for its login)."""

    def __init__(
        self, app: ASGIApp, limiter: Limiter, mcp_check: Callable[[dict[bytes, bytes]], bool] | None = None
    ) -> None:
        self.app, self.limiter, self.mcp_check = app, limiter, mcp_check

    async def __call__(self, scope: Scope, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        mcp = "/gradio_api/mcp" in scope["path"] and self.mcp_check is not None
        if mcp and not self.mcp_check({k.lower(): v for k, v in scope.get("headers", [])}):  # type: ignore[misc]
            await _refused(send, 401, "Identifiants MCP requis (Authorization: Bearer ou Basic).")
            return
        login = scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/login")
        key = f"address:{(scope.get('client') or ('?',))[0]}"
        if login and (wait := self.limiter.wait(key)) > 0:
            await _too_many(send, wait)
            return

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [(k, _same_site(v) if k.lower() == b"set-cookie" else v)
                                      for k, v in message.get("headers", [])]  # fmt: skip
                if login and message["status"] == 200:
                    self.limiter.succeeded(key)
                elif login and message["status"] == 400:  # Gradio's answer to wrong credentials
                    self.limiter.failed(key)
            await send(message)

        await self.app(scope, receive, watch)


async def _too_many(send: Callable[..., Any], wait: float) -> None:
    message = f"Trop de tentatives : réessayez dans {wait:.0f} s."
    await _refused(send, 429, message, [(b"retry-after", str(int(wait) + 1).encode())])


async def _refused(
    send: Callable[..., Any], status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"detail": message}, ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json"), *(extra or [])]
    if status == 401:
        headers.append((b"www-authenticate", b'Basic realm="assistant"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
