"""Who may do what, against real `soni serve` processes: every route with no, wrong,
expired, not-yet-valid, wrong-audience, wrong-issuer, tampered and foreign credentials;
one user's token against another's conversation; admins and the service token; secrets
kept out of the log; rate limits and CORS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.soni.server.conftest import Served, launch, serve_args
from tests.soni.server.test_lifecycle import CLEAN_EXIT

SERVICE_TOKEN = "service-token-7f3a9c1e5b2d4f60"
JWT_SECRET = "jwt-secret-0123456789abcdef0123456789abcdef"
ISSUER, AUDIENCE = "https://id.example.test", "soni"
USER_A, USER_B = "alice", "bob"


def claims(sub: str = USER_A, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300, **extra}


def hs256(payload: dict[str, Any], secret: str = JWT_SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def tampered(token: str, **changes: Any) -> str:
    """The same signature over a payload changed afterwards."""
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = base64.urlsafe_b64encode(json.dumps({**data, **changes}).encode()).rstrip(b"=")
    return f"{header}.{forged.decode()}.{signature}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hmac_signed(payload: dict[str, Any], key: bytes) -> str:
    """HS256 by hand, with any key (PyJWT refuses a PEM key as an HMAC secret)."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(payload).encode())
    signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def unsigned(payload: dict[str, Any]) -> str:
    return jwt.encode(payload, key=None, algorithm="none")


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The service token and HS256 JWTs bound to an issuer and an audience."""
    from tests.soni.conftest import DOMAIN

    scratch = tmp_path_factory.mktemp("secured")
    served = launch(
        serve_args(
            DOMAIN / "domain.yaml",
            scratch / "state.db",
            *("--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE),
            secure=True,
        ),
        scratch / "server.log",
        {"SONI_AUTH_TOKEN": SERVICE_TOKEN, "SONI_JWT_SECRET": JWT_SECRET},
    )
    try:
        served.wait_ready()
        yield served
    finally:
        assert served.stop() in CLEAN_EXIT


def call(
    served: Served, route: str, user: str, token: str | None, *, scheme: str = "Bearer"
) -> httpx.Response:
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    if route == "chat":
        body = {"user_id": user, "message": "hello"}
        return httpx.post(served.url + "/chat", json=body, headers=headers, timeout=10)
    method = {"read": "GET", "delete": "DELETE"}[route]
    return httpx.request(method, f"{served.url}/state/{user}", headers=headers, timeout=10)


ROUTES = ("chat", "read", "delete")
ALLOWED = {"chat": 200, "read": (200, 404), "delete": 204}

REFUSED: list[tuple[str, Any, str]] = [
    ("none", None, "needs a credential"),
    ("basic scheme", "Basic dXNlcjpwYXNz", "needs a credential"),
    ("wrong token", "not-the-token-at-all", "not valid"),
    ("expired", lambda: hs256(claims(exp=int(time.time()) - 120)), "expired"),
    ("not yet valid", lambda: hs256(claims(nbf=int(time.time()) + 120)), "not valid yet"),
    ("wrong audience", lambda: hs256(claims(aud="other")), "another audience"),
    ("no audience", lambda: hs256({k: v for k, v in claims().items() if k != "aud"}), "'aud'"),
    ("wrong issuer", lambda: hs256(claims(iss="https://evil.test")), "another issuer"),
    ("no expiry", lambda: hs256({k: v for k, v in claims().items() if k != "exp"}), "'exp'"),
    ("other secret", lambda: hs256(claims(), "x" * 40), "signature"),
    ("tampered sub", lambda: tampered(hs256(claims(sub="mallory")), sub=USER_A), "signature"),
    ("tampered role", lambda: tampered(hs256(claims()), roles=["admin"]), "signature"),
    ("alg none", lambda: unsigned(claims()), "algorithm"),
    ("garbage jwt", "a.b.c", "well-formed"),
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("case", "credential", "reason"), REFUSED, ids=[case for case, _, _ in REFUSED]
)
def test_bad_credentials_are_401_on_every_route(
    secured: Served, route: str, case: str, credential: Any, reason: str
) -> None:
    token = credential() if callable(credential) else credential
    if token is not None and token.startswith("Basic "):
        response = call(secured, route, USER_A, token.removeprefix("Basic "), scheme="Basic")
    else:
        response = call(secured, route, USER_A, token)
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["type"] == "unauthorized"
    assert reason in error["message"]
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="soni"')
    presented = reason != "needs a credential"
    assert ('error="invalid_token"' in challenge) == presented
    if token:
        assert token not in response.text


@pytest.mark.parametrize("route", ROUTES)
def test_a_users_token_works_for_that_user_only(secured: Served, route: str) -> None:
    mine = hs256(claims(USER_A))
    assert call(secured, route, USER_A, mine).status_code in _codes(route)
    refused = call(secured, route, USER_B, mine)
    assert refused.status_code == 403
    assert refused.json()["error"]["type"] == "forbidden"
    assert "'bob'" in refused.json()["error"]["message"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "credential",
    [
        lambda: SERVICE_TOKEN,
        lambda: hs256(claims("ops", roles=["support", "admin"])),
        lambda: hs256(claims("ops", roles="admin")),
    ],
    ids=["service token", "admin in a list", "admin as a string"],
)
def test_admins_and_the_service_may_act_for_anyone(
    secured: Served, route: str, credential: Callable[[], str]
) -> None:
    # tokens are made when the test runs: made at collection, they expire in a long run
    assert call(secured, route, USER_B, credential()).status_code in _codes(route)


def test_leeway_accepts_a_token_just_expired(secured: Served) -> None:
    recent = hs256(claims(exp=int(time.time()) - 5))  # within the default 30 s
    assert call(secured, "chat", USER_A, recent).status_code == 200


def test_probes_need_no_credential(secured: Served) -> None:
    assert httpx.get(secured.url + "/health", timeout=5).status_code == 200
    assert httpx.get(secured.url + "/ready", timeout=5).status_code == 200


def test_the_log_never_holds_a_secret_or_a_token(secured: Served) -> None:
    presented = [hs256(claims(exp=int(time.time()) - 500)), "wrong-" + SERVICE_TOKEN]
    for token in presented:
        assert call(secured, "chat", USER_A, token).status_code == 401
    log = secured.log()
    assert "not authenticated: the token has expired" in log
    for secret in (SERVICE_TOKEN, JWT_SECRET, *presented):
        assert secret not in log
    assert "authentication: token and jwt" in log


def _codes(route: str) -> tuple[int, ...]:
    codes = ALLOWED[route]
    return codes if isinstance(codes, tuple) else (codes,)


# -- asymmetric keys -----------------------------------------------------------------------------


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str, alg: str) -> Any:
    algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
    return {**json.loads(algorithm.to_jwk(key.public_key())), "kid": kid, "alg": alg}


def test_rs256_with_a_public_key_and_es256_with_a_jwks(tmp_path: Path) -> None:
    from tests.soni.conftest import DOMAIN

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "rsa.pem").write_bytes(_pem(rsa_key))
    jwks = {"keys": [_jwk(rsa_key, "r1", "RS256"), _jwk(ec_key, "e1", "ES256")]}
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    base = (DOMAIN / "domain.yaml", tmp_path / "state.db")
    common = ("--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE)
    pem_server = launch(
        serve_args(
            *base,
            *common,
            "--jwt-algorithm",
            "RS256",
            "--jwt-public-key-file",
            str(tmp_path / "rsa.pem"),
            secure=True,
        ),
        tmp_path / "pem.log",
    )
    jwks_server = launch(
        serve_args(
            *base[:1],
            tmp_path / "state2.db",
            *common,
            "--jwt-algorithm",
            "RS256",
            "--jwt-algorithm",
            "ES256",
            "--jwt-jwks-file",
            str(tmp_path / "jwks.json"),
            secure=True,
        ),
        tmp_path / "jwks.log",
    )
    try:
        pem_server.wait_ready()
        jwks_server.wait_ready()
        signed_rsa = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "r1"})
        signed_ec = jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "e1"})
        forged = jwt.encode(claims(), other, algorithm="RS256", headers={"kid": "r1"})
        unknown = jwt.encode(claims(), other, algorithm="RS256", headers={"kid": "zz"})
        # the public key taken for an HS256 secret: the classic algorithm-confusion attack
        confused = hmac_signed(claims(), _pem(rsa_key))
        assert call(pem_server, "chat", USER_A, signed_rsa).status_code == 200
        assert call(jwks_server, "chat", USER_A, signed_rsa).status_code == 200
        assert call(jwks_server, "chat", USER_A, signed_ec).status_code == 200
        for server in (pem_server, jwks_server):
            for bad in (forged, confused, unknown):
                assert call(server, "chat", USER_A, bad).status_code == 401
            assert call(server, "read", USER_B, signed_rsa).status_code == 403
    finally:
        assert pem_server.stop() in CLEAN_EXIT
        assert jwks_server.stop() in CLEAN_EXIT


# -- start-up ------------------------------------------------------------------------------------


def _start(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> Served:
    from tests.soni.conftest import DOMAIN

    return launch(
        serve_args(DOMAIN / "domain.yaml", tmp_path / "state.db", *extra, secure=True),
        tmp_path / "server.log",
        env,
    )


@pytest.mark.parametrize(
    ("extra", "env", "message"),
    [
        ((), {}, "no authentication is configured: set SONI_AUTH_TOKEN"),
        ((), {"SONI_AUTH_TOKEN": "tiny-tok-3x9"}, "the token is shorter than 16 bytes"),
        (("--jwt-issuer", ISSUER), {}, "SONI_JWT_SECRET holds no secret"),
        (
            ("--jwt-issuer", ISSUER),
            {"SONI_JWT_SECRET": "tiny-jwt-secret-7q"},
            "shorter than 32 bytes",
        ),
        (("--jwt-algorithm", "RS256"), {}, "RS256 needs `public_key_file` or `jwks_file`"),
        (("--jwt-algorithm", "HS256", "--jwt-algorithm", "RS256"), {}, "do not mix"),
        (
            ("--jwt-jwks-file", "/nonexistent/jwks.json", "--jwt-algorithm", "ES256"),
            {},
            "cannot read",
        ),
        (("--rate-limit-user", "0"), {"SONI_AUTH_TOKEN": SERVICE_TOKEN}, "expected a rate > 0"),
    ],
)
def test_unusable_security_settings_stop_the_server(
    tmp_path: Path, extra: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    served = _start(tmp_path, *extra, env={"SONI_AUTH_TOKEN": "", **env})
    assert served.process.wait(timeout=60) == 2
    log = served.log()
    assert message in log
    for value in env.values():
        assert value not in log  # never echoed


def test_insecure_mode_is_loud(tmp_path: Path) -> None:
    served = launch(
        serve_args(Path(__file__).parents[1] / "domain" / "domain.yaml", tmp_path / "s.db"),
        tmp_path / "server.log",
    )
    try:
        served.wait_ready()
        assert call(served, "read", USER_B, None).status_code == 404  # anyone may
    finally:
        assert served.stop() in CLEAN_EXIT
    assert "AUTHENTICATION IS OFF (--insecure-no-auth)" in served.log()


# -- rate limits and CORS ------------------------------------------------------------------------


def test_a_user_over_its_limit_gets_429_and_others_do_not(tmp_path: Path) -> None:
    served = _start(tmp_path, "--insecure-no-auth", "--rate-limit-user", "0.5:3")
    try:
        served.wait_ready()
        replies = [call(served, "chat", USER_A, None) for _ in range(5)]
        assert [r.status_code for r in replies] == [200, 200, 200, 429, 429]
        limited = replies[3]
        assert limited.json()["error"]["type"] == "rate_limited"
        assert limited.json()["error"]["details"]["limit"] == "for this user"
        assert int(limited.headers["retry-after"]) >= 1
        assert call(served, "chat", USER_B, None).status_code == 200
        assert httpx.get(served.url + "/health", timeout=5).status_code == 200
        assert (httpx.get(f"{served.url}/state/{USER_B}", timeout=5)).json()["turn"] == 1
    finally:
        assert served.stop() in CLEAN_EXIT


def test_an_address_over_its_limit_gets_429_whoever_it_speaks_for(tmp_path: Path) -> None:
    served = _start(tmp_path, "--insecure-no-auth", "--rate-limit-client", "0.5:2")
    try:
        served.wait_ready()
        codes = [call(served, "chat", f"user-{n}", None).status_code for n in range(3)]
        assert codes == [200, 200, 429]
        assert httpx.get(served.url + "/ready", timeout=5).status_code == 200  # probes: never
    finally:
        assert served.stop() in CLEAN_EXIT


def test_cors_preflight_allowed_and_refused(tmp_path: Path) -> None:
    allowed, other = "https://chat.example.com", "https://evil.example.com"
    served = _start(tmp_path, "--insecure-no-auth", "--cors-origin", allowed)
    (tmp_path / "plain").mkdir()
    plain = _start(tmp_path / "plain", "--insecure-no-auth")
    try:
        served.wait_ready()
        plain.wait_ready()

        def preflight(server: Served, origin: str) -> httpx.Response:
            return httpx.options(
                server.url + "/chat",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
                },
                timeout=5,
            )

        ok = preflight(served, allowed)
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == allowed
        assert "idempotency-key" in ok.headers["access-control-allow-headers"].lower()
        refused = preflight(served, other)
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        sent = httpx.post(
            served.url + "/chat",
            json={"user_id": USER_A, "message": "hello"},
            headers={"Origin": allowed},
            timeout=5,
        )
        assert sent.headers["access-control-allow-origin"] == allowed
        assert "x-error-id" in sent.headers["access-control-expose-headers"].lower()
        assert "access-control-allow-origin" not in preflight(plain, allowed).headers
    finally:
        assert served.stop() in CLEAN_EXIT
        assert plain.stop() in CLEAN_EXIT


def test_the_openapi_schema_declares_the_bearer_scheme(secured: Served) -> None:
    schema = httpx.get(secured.url + "/openapi.json", timeout=5).json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, method in (("/chat", "post"), ("/state/{user_id}", "get")):
        operation = schema["paths"][path][method]
        assert operation["security"] == [{"HTTPBearer": []}]
        assert {"401", "403", "429"} <= set(operation["responses"])
    assert "security" not in schema["paths"]["/health"]["get"]
