"""The server's security as built at start-up from `settings.server` and the environment:
the authenticator, the rate limiters and the CORS origins.

Secrets are read here, once, before the event loop runs: from the environment variable or
the file that the settings name. A setting that names a missing secret stops the server
with an error that names the setting, never the secret's value.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from soni.config.server import SYMMETRIC, JwtAuth, ServerSettings, TokenAuth
from soni.errors import SoniError
from soni.server.auth import Authenticator, JwtVerifier
from soni.server.ratelimit import RateLimiter

log = logging.getLogger("soni.server")

MIN_SECRET_BYTES = 32
"""RFC 7518 §3.2: an HS256 key must be at least as long as the hash (256 bits)."""


class SecurityError(SoniError):
    """The security settings cannot be used (a missing secret, an unreadable key)."""


@dataclass(frozen=True)
class Security:
    auth: Authenticator
    per_user: RateLimiter | None
    per_client: RateLimiter | None
    cors_origins: tuple[str, ...]

    @classmethod
    def insecure(cls) -> Security:
        """No authentication and no limits: tests and local development only."""
        return cls(Authenticator(), None, None, ())


def with_overrides(settings: ServerSettings, overrides: Mapping[str, Any]) -> ServerSettings:
    """`settings` with each dotted key of `overrides` (`"auth.jwt.issuer"`) set, checked
    again as a whole (a `ValidationError` names the keys)."""
    data = settings.model_dump(exclude_none=True)
    for dotted, value in overrides.items():
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return ServerSettings.model_validate(data)


def warn_insecure() -> None:
    log.warning(
        "AUTHENTICATION IS OFF (--insecure-no-auth): anyone who can reach this server can read, "
        "change and delete every user's conversation. Use it for local development only."
    )


def build_security(
    settings: ServerSettings,
    base_dir: Path,
    environ: Mapping[str, str],
    *,
    insecure_no_auth: bool = False,
) -> Security:
    """`insecure_no_auth` turns authentication off whatever the settings say; without it,
    settings with neither a token nor a JWT configuration are an error."""
    auth = settings.auth
    token = auth.token
    if token is None and environ.get(TokenAuth().env):
        token = TokenAuth()  # the default variable is set: the operator wants the token
    if insecure_no_auth:
        authenticator = Authenticator()
    elif token is None and auth.jwt is None:
        raise SecurityError(
            "no authentication is configured: set SONI_AUTH_TOKEN (or --auth-token-file), "
            "configure settings.server.auth.jwt, or pass --insecure-no-auth for local "
            "development"
        )
    else:
        authenticator = Authenticator(
            _token(token, base_dir, environ) if token else None,
            _verifier(auth.jwt, base_dir, environ) if auth.jwt else None,
        )
    limits = settings.rate_limits
    return Security(
        authenticator,
        RateLimiter(limits.per_user) if limits.per_user else None,
        RateLimiter(limits.per_client) if limits.per_client else None,
        settings.cors.allow_origins,
    )


def _token(settings: TokenAuth, base_dir: Path, environ: Mapping[str, str]) -> bytes:
    where = "settings.server.auth.token"
    secret = _secret(settings.file, settings.env, base_dir, environ, where)
    if len(secret) < 16:
        raise SecurityError(f"{where}: the token is shorter than 16 bytes; use a random one")
    return secret


def _verifier(settings: JwtAuth, base_dir: Path, environ: Mapping[str, str]) -> JwtVerifier:
    where = "settings.server.auth.jwt"
    if settings.algorithms[0] in SYMMETRIC:
        secret = _secret(settings.secret_file, settings.secret_env, base_dir, environ, where)
        if len(secret) < MIN_SECRET_BYTES:
            raise SecurityError(f"{where}: the HS* secret is shorter than {MIN_SECRET_BYTES} bytes")
        return JwtVerifier(settings, secret)
    if settings.public_key_file is not None:
        pem = _read(base_dir / settings.public_key_file, f"{where}.public_key_file")
        return JwtVerifier(settings, pem)
    assert settings.jwks_file is not None  # the settings model requires one of the two
    text = _read(base_dir / settings.jwks_file, f"{where}.jwks_file")
    try:
        keys = jwt.PyJWKSet.from_json(text.decode())
    except (jwt.PyJWKSetError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SecurityError(f"{where}.jwks_file: not a usable JWK set: {error}") from None
    return JwtVerifier(settings, keys)


def _secret(
    file: str | None, env: str, base_dir: Path, environ: Mapping[str, str], where: str
) -> bytes:
    if file is not None:
        secret = _read(base_dir / file, f"{where}.file").strip()
        source = f"the file {file}"
    else:
        secret = environ.get(env, "").strip().encode()
        source = f"the environment variable {env}"
    if not secret:
        raise SecurityError(f"{where}: {source} holds no secret")
    return secret


def _read(path: Path, where: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SecurityError(f"{where}: cannot read {path}: {error.strerror}") from None
