import time
import uuid

import jwt
import pytest

from curhat.auth.tokens import TokenError, TokenSigner


def test_token_round_trip_keeps_subject_and_role() -> None:
    signer = TokenSigner("s3cret-long-enough-for-hmac-sha256-key", 60)
    subject = uuid.uuid4()
    principal = signer.verify(signer.issue(subject, "mitra"))
    assert principal.id == subject and principal.role == "mitra"


def test_expired_foreign_and_unknown_role_tokens_are_refused() -> None:
    signer = TokenSigner("s3cret-long-enough-for-hmac-sha256-key", 60)
    expired = jwt.encode(
        {"sub": str(uuid.uuid4()), "role": "customer", "exp": int(time.time()) - 5},
        "s3cret-long-enough-for-hmac-sha256-key",
    )
    foreign = TokenSigner("another-secret-long-enough-for-sha256-key", 60).issue(uuid.uuid4(), "customer")
    admin = jwt.encode(
        {"sub": str(uuid.uuid4()), "role": "admin", "exp": int(time.time()) + 60},
        "s3cret-long-enough-for-hmac-sha256-key",
    )
    for token in (expired, foreign, admin, "garbage"):
        with pytest.raises(TokenError):
            signer.verify(token)
