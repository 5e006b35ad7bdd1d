"""Secrets stay out of the access log.

A token belongs in the `Authorization` header, which uvicorn never logs; but a client that puts
it in the URL by mistake (``?access_token=…``) would have it written to the access log, where
anyone who reads the logs could replay it until it expires. `RedactSecrets` rewrites each access
log line before it is formatted: the values of query parameters with a secret's name, and
anything shaped like a JWT wherever it appears, become ``[REDACTED]``.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[REDACTED]"
#: query parameters whose value is a credential (compared lower-case)
SECRET_PARAMETERS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "auth",
        "authorization",
        "bearer",
        "id_token",
        "jwt",
        "key",
        "password",
        "refresh_token",
        "secret",
        "token",
    }
)
#: a compact JWS/JWE: base64url header starting with '{"' (eyJ), then dot-separated segments
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){1,4}")


def redact(text: str) -> str:
    """`text` (a path with its query string, or any log argument) without its secrets."""
    path, separator, query = text.partition("?")
    if separator:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(name.lower() in SECRET_PARAMETERS for name, _ in pairs):
            query = urlencode(
                [
                    (name, REDACTED if name.lower() in SECRET_PARAMETERS else value)
                    for name, value in pairs
                ],
                safe="[]",
            )
        text = f"{path}?{query}"
    return _JWT.sub(REDACTED, text)


class RedactSecrets(logging.Filter):
    """Rewrites the string arguments of a log record (uvicorn's access line passes the client,
    method, path with query, HTTP version and status as arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _JWT.sub(REDACTED, record.msg)
        return True


def install() -> None:
    """Attach the filter to uvicorn's access logger, once."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
