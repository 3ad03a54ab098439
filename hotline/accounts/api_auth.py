"""API authentication. Kept apart from the API views: DRF imports it while loading its settings."""

import hashlib

from django.utils.translation import gettext
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from hotline.models import User

# A key is 40 hex characters (as DRF makes them); anything much longer is not one of ours.
KEY_MAX_LENGTH = 100


def token_digest(key: str) -> str:
    """What is stored for a key (hotline.accounts.tokens): its SHA-256, cut to the 40 characters of
    DRF's key column — 160 bits of a 160-bit random key; a slow hash would buy nothing."""
    return hashlib.sha256(key.encode()).hexdigest()[:40]


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check (`Authorization: Token <key>`) as one plain query for the user: integrations
    send hundreds of requests a second, and building the ORM join and a Token object for each was a
    measurable share of an intake. Only the key's digest is stored (hotline.accounts.tokens). Same
    answers: unknown key or inactive user → 401 (DRF's messages)."""

    _sql = f"SELECT u.* FROM {User._meta.db_table} u JOIN {Token._meta.db_table} t ON t.user_id = u.id WHERE t.key = %s"

    def authenticate_credentials(self, key):
        user = None
        if len(key) <= KEY_MAX_LENGTH:
            user = next(iter(User.objects.raw(self._sql, [token_digest(key)])), None)
        if user is None:
            raise exceptions.AuthenticationFailed(gettext("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(gettext("User inactive or deleted."))
        return (user, key)
