"""Who is calling: a shared-secret token (a trusted front end, which may act for any
user) or a JWT (which may act only for the user its claim names, unless it carries the
admin role). Verification is PyJWT's; nothing here handles key material by hand.

Failures say what was wrong with the credential, never the credential itself: neither the
client nor the log ever sees a token or a secret.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

import jwt

from soni.config.server import JwtAuth
from soni.errors import SoniError

REALM = 'Bearer realm="soni"'


@dataclass(frozen=True)
class Principal:
    user_id: str | None
    """The one user this caller may act for; None for the service token and no auth."""
    admin: bool
    """May act for every user."""
    via: str
    """"token", "jwt" or "none": how the caller was recognised (for the log)."""

    def may_act_for(self, user_id: str) -> bool:
        return self.admin or self.user_id == user_id


ANYONE = Principal(user_id=None, admin=True, via="none")
SERVICE = Principal(user_id=None, admin=True, via="token")


class Unauthenticated(SoniError):
    """No credential, or one that does not verify: 401."""

    def __init__(self, reason: str, *, presented: bool) -> None:
        self.reason = reason
        self.presented = presented
        super().__init__(reason)

    @property
    def challenge(self) -> str:
        """The `WWW-Authenticate` value (RFC 6750: no error code when nothing was sent)."""
        return f'{REALM}, error="invalid_token"' if self.presented else REALM


class Forbidden(SoniError):
    """A valid credential for another user: 403."""

    def __init__(self, principal: Principal, user_id: str) -> None:
        self.user_id = user_id
        super().__init__(f"this credential may not act for user {user_id!r}")


_REASONS: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet (nbf)"),
    (jwt.InvalidAudienceError, "the token is meant for another audience"),
    (jwt.InvalidIssuerError, "the token comes from another issuer"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
    (jwt.InvalidAlgorithmError, "the token's algorithm is not accepted"),
    (jwt.InvalidIssuedAtError, "the token's issue time (iat) is in the future"),
    (jwt.DecodeError, "the token is not a well-formed JWT"),
)


class JwtVerifier:
    def __init__(self, settings: JwtAuth, keys: str | bytes | jwt.PyJWKSet) -> None:
        self.settings = settings
        self._keys = keys

    def principal(self, token: str) -> Principal:
        try:
            claims = self._claims(token)
        except jwt.MissingRequiredClaimError as error:
            raise Unauthenticated(
                f"the token has no {error.claim!r} claim", presented=True
            ) from None
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(_reason(error), presented=True) from None
        user = claims[self.settings.user_claim]
        if not isinstance(user, str) or not user:
            reason = f"the token's {self.settings.user_claim!r} claim is not a user id"
            raise Unauthenticated(reason, presented=True)
        return Principal(user_id=user, admin=self._admin(claims), via="jwt")

    def _claims(self, token: str) -> dict[str, Any]:
        settings = self.settings
        claims: dict[str, Any] = jwt.decode(
            token,
            self._key(token),
            algorithms=list(settings.algorithms),
            audience=settings.audience,
            issuer=settings.issuer,
            leeway=settings.leeway_s,
            options={"require": ["exp", settings.user_claim]},
        )
        return claims

    def _key(self, token: str) -> Any:
        if not isinstance(self._keys, jwt.PyJWKSet):
            return self._keys
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keys.keys:
            if key.key_id == kid:
                return key
        raise jwt.InvalidSignatureError("unknown key id")

    def _admin(self, claims: dict[str, Any]) -> bool:
        value = claims.get(self.settings.admin_claim)
        wanted = self.settings.admin_value
        if isinstance(value, list):
            return wanted in value
        return value is True or value == wanted


def _reason(error: jwt.InvalidTokenError) -> str:
    for kind, reason in _REASONS:
        if isinstance(error, kind):
            return reason
    return "the token is not valid"


class Authenticator:
    """Recognises the bearer credential of a request. With neither a token nor a JWT
    verifier, every caller is `ANYONE` (only `--insecure-no-auth` builds that)."""

    def __init__(self, token: bytes | None = None, jwt_verifier: JwtVerifier | None = None) -> None:
        self._token = token
        self._jwt = jwt_verifier

    @property
    def enabled(self) -> bool:
        return self._token is not None or self._jwt is not None

    @property
    def methods(self) -> tuple[str, ...]:
        return (("token",) if self._token else ()) + (("jwt",) if self._jwt else ())

    def principal(self, credential: str | None) -> Principal:
        if not self.enabled:
            return ANYONE
        if not credential:
            raise Unauthenticated(
                "this route needs a credential: send `Authorization: Bearer <token>`",
                presented=False,
            )
        if self._token is not None and hmac.compare_digest(credential.encode(), self._token):
            return SERVICE
        if self._jwt is not None and credential.count(".") == 2:
            return self._jwt.principal(credential)
        raise Unauthenticated("the credential is not valid", presented=True)

    @staticmethod
    def authorize(principal: Principal, user_id: str) -> None:
        if not principal.may_act_for(user_id):
            raise Forbidden(principal, user_id)
