"""API-token authentication of WebSocket handshakes, for scripts and the CLI.

A client that sends `Authorization: Token <key>` (DRF's token, from POST /api/auth/token/)
on the handshake is that token's user; a token that matches nobody makes the connection
anonymous (the consumers then refuse it), never the session's user. Without the header
the session (AuthMiddlewareStack) decides, as before.

Browsers cannot set this header on a WebSocket, so it opens nothing to other sites.
"""
from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser


def _token_key(scope: dict[str, Any]) -> str | None:
    """The key of an `Authorization: Token <key>` header; "" for a malformed one; None without."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            scheme, _, key = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() != "token":
                return None  # another scheme: not ours to judge
            return key.strip()
    return None


@database_sync_to_async
def _token_user(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    if not key:
        return AnonymousUser()
    try:
        token = Token.objects.select_related("user").get(key=key)
    except Token.DoesNotExist:
        return AnonymousUser()
    return token.user if token.user.is_active else AnonymousUser()


class TokenAuthMiddleware:
    """Sets `scope["user"]` from an `Authorization: Token` header, when there is one.

    Goes inside AuthMiddlewareStack (which sets the session's user first): see
    TokenAuthMiddlewareStack.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("type") == "websocket":
            key = _token_key(scope)
            if key is not None:
                scope = {**scope, "user": await _token_user(key)}
        return await self.inner(scope, receive, send)


def TokenAuthMiddlewareStack(inner: Any) -> Any:  # named like Channels' AuthMiddlewareStack
    """Session authentication, overridden by an API token when the handshake carries one."""
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))
