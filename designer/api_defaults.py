"""The REST API's defaults, hardened against hostile input (set in REST_FRAMEWORK)."""
from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated, ParseError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser
from rest_framework.request import Request


class Pagination(LimitOffsetPagination):
    max_limit = 500

    def get_offset(self, request: Request) -> int:
        # An absurd offset would overflow the database's integer (a 500); it means "past the end".
        return min(super().get_offset(request), 2**31)


class SafeJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # json recurses once per nesting level: a hostile body, not a server error.
            raise ParseError("JSON parse error - the body is nested too deeply") from None


def signed_in(request: Request) -> User:
    """The user of a request that the API's permission classes let in (always signed in)."""
    if not isinstance(request.user, User):
        raise NotAuthenticated()
    return request.user


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know: a typo in a request is an error, never ignored."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(getattr(self, "initial_data", {})) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {key: serializers.ErrorDetail("unknown field", code="unknown_field") for key in unknown}
            )
        return attrs
