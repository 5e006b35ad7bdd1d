"""gongkai's error hierarchy. Everything we raise on purpose derives from `GongkaiError`.

GongkaiError
├── InvalidRecord      a record breaks a domain rule; names the field and the rule
├── NotFound           a referenced record does not exist
└── StoreError         the object store failed (storage.objects)
"""

from __future__ import annotations


class GongkaiError(Exception):
    """Base of every error gongkai raises deliberately."""


class InvalidRecord(GongkaiError):
    """A record was refused before it was stored.

    `field` is the dotted path of the offending field (``indicators[2].level2``), `rule` a short
    identifier of the rule it breaks (``indicator-level2-child``), `message` the explanation in
    words a department editor can act on.
    """

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{field}: {message} [{rule}]")
        self.field = field
        self.rule = rule
        self.message = message


class NotFound(GongkaiError):
    """A record that was referenced does not exist (or is not visible to the caller)."""


class StoreError(GongkaiError):
    """The object store could not complete an operation."""
