"""Reading an ASGI request body in chunks, with a size limit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from backends.base import InvalidInput


async def receive_chunks(
    receive: Callable[[], Awaitable[dict[str, Any]]], limit: int, too_big: str
) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive; InvalidInput(`too_big`) past `limit` bytes.

    Raises:
        InvalidInput: over the limit, or the client went away before the end.
    """
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidInput("the client went away before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise InvalidInput(too_big)
        yield chunk
        if not message.get("more_body", False):
            return
