"""Which console account an OpenID Connect provider's user is (api/console/oidc.py).

Apart from `storage/models.py` because it is the console's alone: a provider's user signs in as
the local account linked to its (issuer, subject) pair, and takes that account's roles,
department and clearance — never claims of the provider's token, which the finance bureau does
not control."""

from __future__ import annotations

from tortoise import fields

from storage.models import BaseModel, ConsoleUser


class ConsoleIdentity(BaseModel):
    """A provider's user (`issuer`, `subject`: the ID token's `iss` and `sub`) linked to a
    console account."""

    id = fields.BigIntField(primary_key=True)
    issuer = fields.CharField(max_length=300)
    subject = fields.CharField(max_length=255)
    user: fields.ForeignKeyRelation[ConsoleUser] = fields.ForeignKeyField(
        "models.ConsoleUser", related_name="identities", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "console_identity"
        unique_together = (("issuer", "subject"),)
