"""`settings.server`: who may use the HTTP server, how often, and from which web pages.

    settings:
      server:
        auth:
          token: {file: /run/secrets/soni-token}        # or {env: SONI_AUTH_TOKEN}
          jwt: {algorithms: [RS256], public_key_file: jwt.pem, issuer: https://id.example.com,
                audience: soni, admin_claim: roles, admin_value: admin}
        rate_limits:
          per_user: {per_second: 1, burst: 5}
          per_client: {per_second: 20, burst: 40}
        cors: {allow_origins: ["https://www.example.com"]}

Secrets are never values here: they are named (an environment variable or a file), so the
YAML can be committed and `ps` never shows them. `soni serve` flags override each key.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from soni.config.base import Model

SYMMETRIC = ("HS256", "HS384", "HS512")
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
Algorithm = Literal[
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
]


class TokenAuth(Model):
    """A shared secret for a trusted front end, which may speak for any user."""

    env: str = "SONI_AUTH_TOKEN"
    file: str | None = None
    """Read the token from this file instead (relative to the configuration's directory)."""


class JwtAuth(Model):
    """Bearer JWTs: `user_claim` names the only user a token may act for, unless the token
    has `admin_value` in its `admin_claim` (a string, a list, or `true`)."""

    algorithms: tuple[Algorithm, ...] = ("HS256",)
    secret_env: str = "SONI_JWT_SECRET"  # noqa: S105 -- the variable's name, not a secret
    secret_file: str | None = None
    public_key_file: str | None = None
    """A PEM public key, for RS*/PS*/ES* tokens."""
    jwks_file: str | None = None
    """A JSON Web Key Set, for RS*/PS*/ES* tokens; the token's `kid` picks the key."""
    issuer: str | None = None
    audience: str | None = None
    leeway_s: float = Field(default=30.0, ge=0, le=600)
    """Clock skew allowed on `exp`, `nbf` and `iat`."""
    user_claim: str = "sub"
    admin_claim: str = "roles"
    admin_value: str = "admin"

    @model_validator(mode="after")
    def _keys_match_algorithms(self) -> JwtAuth:
        if not self.algorithms:
            raise ValueError("`algorithms` needs at least one algorithm")
        symmetric = {a in SYMMETRIC for a in self.algorithms}
        if len(symmetric) > 1:
            raise ValueError(
                "do not mix HS* with RS*/PS*/ES* algorithms: a public key would be taken "
                "for a shared secret"
            )
        keys = [self.public_key_file, self.jwks_file]
        if symmetric == {True} and any(keys):
            raise ValueError("HS* algorithms use `secret_env`/`secret_file`, not a public key")
        if symmetric == {False} and sum(key is not None for key in keys) != 1:
            raise ValueError(f"{self.algorithms[0]} needs `public_key_file` or `jwks_file`")
        return self


class AuthSettings(Model):
    token: TokenAuth | None = None
    jwt: JwtAuth | None = None


class Bucket(Model):
    """A token bucket: `burst` requests at once, then `per_second` on average."""

    per_second: float = Field(gt=0)
    burst: int = Field(default=10, ge=1)


class RateLimits(Model):
    per_user: Bucket | None = None
    per_client: Bucket | None = None
    """Per client address (as proxy headers from trusted proxies give it)."""


class CorsSettings(Model):
    allow_origins: tuple[str, ...] = ()
    """Web pages allowed to call the server from a browser, e.g. `https://www.example.com`."""


class ServerSettings(Model):
    auth: AuthSettings = Field(default_factory=AuthSettings)
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    cors: CorsSettings = Field(default_factory=CorsSettings)
