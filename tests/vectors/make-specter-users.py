#!/usr/bin/env python3
"""Writes specter-users.json: a Specter Desktop users.json made the way Specter makes it.

The password record is Specter's `hash_password` (src/cryptoadvance/specter/user.py):
salt = base64 of SHA-256 of random bytes, used as text; pwdhash = base64 of
PBKDF2-HMAC-SHA256(password, salt text, 10000 iterations). The tokens are HS256 JWTs with
Specter's claims (`user`, `description`, `iat`, `exp`) stored in plain text, as Specter
stores them. Fixed inputs keep the output stable: rerun to regenerate.
"""
import base64, binascii, hashlib, hmac, json, os

PASSWORD = "specter-password-1"
SALT_SEED = b"tokenlife test vector salt seed, fixed so the file is stable"


def hash_password(password):
    salt = binascii.b2a_base64(hashlib.sha256(SALT_SEED).digest()).strip()
    pwdhash = binascii.b2a_base64(
        hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, 10000)
    ).strip().decode()
    return {"salt": salt.decode(), "pwdhash": pwdhash}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(payload, secret=b"specter secret key"):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64url(signature)}"


users = [
    {
        "id": "admin",
        "username": "specter",
        "password": hash_password(PASSWORD),
        "is_admin": True,
        "jwt_tokens": {
            "5b9e1a52-1111-4c3a-9f00-0000000000a1": {
                "jwt_token": jwt({"user": "specter", "description": "wallet script",
                                  "iat": 1767225600, "exp": 4102444800}),
                "jwt_token_description": "wallet script",
                "jwt_token_life": 4102444800 - 1767225600,
            },
            "5b9e1a52-2222-4c3a-9f00-0000000000a2": {
                "jwt_token": jwt({"user": "specter", "description": "old script",
                                  "iat": 1700000000, "exp": 1700000360}),
                "jwt_token_description": "old script",
                "jwt_token_life": 360,
            },
        },
        "encrypted_user_secret": None,
        "services": [],
    },
]

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "specter-users.json"), "w") as f:
    json.dump(users, f, indent=4)
    f.write("\n")
