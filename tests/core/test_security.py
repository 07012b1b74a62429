from cxloop.core.security import (
    hash_password,
    new_api_key,
    secret_matches,
    split_api_key,
    verify_password,
)


def test_passwords_are_hashed_with_argon2id_and_verified() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "wrong horse battery")
    assert not verify_password("not-a-hash", "anything")


def test_api_keys_split_and_match_only_their_own_secret() -> None:
    key = new_api_key("read")
    assert key.token.startswith("cxl_read_")
    parts = split_api_key(key.token)
    assert parts is not None
    prefix, secret = parts
    assert prefix == key.prefix
    assert secret not in key.secret_hash
    assert secret_matches(secret, key.secret_hash)
    assert not secret_matches(secret + "x", key.secret_hash)
    assert not secret_matches(new_api_key("read").token.split("_", 3)[3], key.secret_hash)


def test_malformed_keys_are_rejected() -> None:
    for token in ["", "cxl", "abc_read_1234_secret", "cxl_read__secret", "cxl_read_1234_"]:
        assert split_api_key(token) is None
