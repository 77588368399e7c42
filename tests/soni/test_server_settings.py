"""`settings.server` and what the server builds from it: the YAML shapes, the secrets read
from the environment or files, the flags that override keys, and the token buckets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from soni.config.loader import load_server_settings
from soni.config.server import Bucket, JwtAuth, ServerSettings
from soni.errors import ConfigErrors
from soni.server.ratelimit import RateLimiter, retry_after
from soni.server.security import SecurityError, build_security, with_overrides

TOKEN = "t" * 20
SECRET = "s" * 40


@pytest.mark.parametrize(
    ("jwt", "message"),
    [
        ({"algorithms": []}, "at least one algorithm"),
        ({"algorithms": ["HS256", "RS256"]}, "do not mix"),
        ({"algorithms": ["RS256"]}, "RS256 needs `public_key_file` or `jwks_file`"),
        ({"algorithms": ["ES256"], "public_key_file": "a", "jwks_file": "b"}, "needs"),
        ({"algorithms": ["HS256"], "public_key_file": "k.pem"}, "not a public key"),
        ({"algorithms": ["XX256"]}, "Input should be"),
        ({"leeway_s": -1}, "greater than or equal to 0"),
    ],
)
def test_bad_jwt_settings(jwt: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        JwtAuth.model_validate(jwt)


def test_yaml_settings_errors_name_file_line_and_field(tmp_path: Path) -> None:
    domain = tmp_path / "domain.yaml"
    domain.write_text(
        'version: "1"\nsettings:\n  server:\n    rate_limits:\n      per_user: {per_second: 0}\n'
        "    cors: {origins: [x]}\n"
    )
    with pytest.raises(ConfigErrors) as raised:
        load_server_settings(domain)
    text = str(raised.value)
    assert f"{domain}:5: settings.server.rate_limits.per_user.per_second: " in text
    assert "settings.server.cors.origins: unknown key 'origins'" in text


def test_yaml_settings_are_read_without_importing_the_actions(tmp_path: Path) -> None:
    domain = tmp_path / "domain.yaml"
    domain.write_text(
        'version: "1"\nsettings:\n  actions: missing_module\n'
        "  server: {cors: {allow_origins: ['https://a.example']}}\n"
    )
    settings, base = load_server_settings(domain)
    assert settings.cors.allow_origins == ("https://a.example",)
    assert base == tmp_path


def test_no_authentication_is_refused_unless_explicitly_insecure(tmp_path: Path) -> None:
    with pytest.raises(SecurityError, match="no authentication is configured"):
        build_security(ServerSettings(), tmp_path, {})
    insecure = build_security(ServerSettings(), tmp_path, {}, insecure_no_auth=True)
    assert not insecure.auth.enabled


def test_the_token_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    from_env = build_security(ServerSettings(), tmp_path, {"SONI_AUTH_TOKEN": TOKEN})
    assert from_env.auth.methods == ("token",)
    (tmp_path / "token").write_text(TOKEN + "\n")
    settings = with_overrides(ServerSettings(), {"auth.token.file": "token"})
    assert build_security(settings, tmp_path, {}).auth.principal(TOKEN).admin
    with pytest.raises(SecurityError, match=r"auth.token.file: cannot read .*nope"):
        build_security(with_overrides(settings, {"auth.token.file": "nope"}), tmp_path, {})


def test_flags_override_yaml_keys_and_are_checked_together() -> None:
    yaml = ServerSettings.model_validate({"auth": {"jwt": {"issuer": "a", "audience": "b"}}})
    changed = with_overrides(
        yaml, {"auth.jwt.issuer": "c", "rate_limits.per_user": {"per_second": 2}}
    )
    assert changed.auth.jwt is not None
    assert (changed.auth.jwt.issuer, changed.auth.jwt.audience) == ("c", "b")
    assert changed.rate_limits.per_user == Bucket(per_second=2, burst=10)
    with pytest.raises(ValidationError, match="do not mix"):
        with_overrides(yaml, {"auth.jwt.algorithms": ["HS256", "ES256"]})


def test_secrets_are_never_in_error_messages(tmp_path: Path) -> None:
    short = "abc-def-123"
    with pytest.raises(SecurityError) as raised:
        build_security(ServerSettings(), tmp_path, {"SONI_AUTH_TOKEN": short})
    assert short not in str(raised.value)
    settings = ServerSettings.model_validate({"auth": {"jwt": {}}})
    with pytest.raises(SecurityError) as raised:
        build_security(settings, tmp_path, {"SONI_JWT_SECRET": short})
    assert short not in str(raised.value)
    assert build_security(settings, tmp_path, {"SONI_JWT_SECRET": SECRET}).auth.methods == ("jwt",)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("steps", "waits"),
    [
        # burst 3 at once, then one every 0.5 s
        ([0, 0, 0, 0], [0, 0, 0, 0.5]),
        ([0, 0, 0, 0.5], [0, 0, 0, 0]),
        ([0, 0, 0, 0.25], [0, 0, 0, 0.25]),
        ([0, 0, 0, 10, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0.5]),  # refilled to the burst, no more
    ],
)
def test_token_bucket(steps: list[float], waits: list[float]) -> None:
    clock = Clock()
    limiter = RateLimiter(Bucket(per_second=2, burst=3), clock)
    seen = []
    for step in steps:
        clock.now += step
        seen.append(round(limiter.wait_s("ann"), 6))
    assert seen == waits
    assert limiter.wait_s("bob") == 0  # others have their own bucket


def test_idle_buckets_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    limiter = RateLimiter(Bucket(per_second=10, burst=10), clock)
    monkeypatch.setattr("soni.server.ratelimit.PRUNE_EVERY", 100)
    for n in range(99):
        limiter.wait_s(f"user-{n}")
    assert len(limiter) == 99
    clock.now += 5  # everyone refilled
    limiter.wait_s("last")
    assert len(limiter) == 1


@pytest.mark.parametrize(("wait", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (30, "30")])
def test_retry_after_is_whole_seconds(wait: float, header: str) -> None:
    assert retry_after(wait) == header
