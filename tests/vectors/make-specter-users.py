#!/usr/bin/env python3
"""Writes a Specter Desktop users.json made the way Specter makes it.

With no arguments it writes specter-users.json beside this file from fixed inputs (rerun to
regenerate: the output is stable). The end-to-end tests run it with `--out FILE --now
SECONDS --secret-key KEY [--forged FILE]` for users and tokens issued "now" under a key of
their own, with a token close to its expiry; `--forged` also writes tokens signed with the
same key by the same code that were never in users.json (a new id, a changed exp).

The password record is Specter's `hash_password` (src/cryptoadvance/specter/user.py):
salt = base64 of SHA-256 of random bytes, used as text; pwdhash = base64 of
PBKDF2-HMAC-SHA256(password, salt text, 10000 iterations). The tokens are Specter's
`User.generate_jwt_token`: PyJWT's `jwt.encode(payload, SECRET_KEY, algorithm="HS256")` of
{"username", "jwt_token_id", "jwt_token_description", "exp", "iat"} (datetimes, which PyJWT
writes as whole seconds), header {"alg":"HS256","typ":"JWT"}; stored in plain text with
`jwt_token_description` and `jwt_token_life` (seconds), as `User.add_jwt_token` stores them.
PyJWT's encoding is written out here with the standard library; when PyJWT is installed,
every token is checked against it.
"""
import argparse, base64, binascii, hashlib, hmac, json, os, sys

PASSWORD = "specter-password-1"
SALT_SEED = b"tokenlife test vector salt seed, fixed so the file is stable"
DEFAULT_KEY = "specter secret key"


def hash_password(password):
    salt = binascii.b2a_base64(hashlib.sha256(SALT_SEED).digest()).strip()
    pwdhash = binascii.b2a_base64(
        hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, 10000)
    ).strip().decode()
    return {"salt": salt.decode(), "pwdhash": pwdhash}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_encode(payload, key):
    """PyJWT 2's jwt.encode(payload, key, algorithm="HS256") for a payload of texts and
    whole seconds: header keys sorted, no white space, payload members in their order."""
    header = json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":"), sort_keys=True)
    body = json.dumps(payload, separators=(",", ":"))
    signing_input = f"{b64url(header.encode())}.{b64url(body.encode())}"
    signature = hmac.new(key.encode("utf-8"), signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64url(signature)}"
    try:
        import jwt  # PyJWT, when there: the same text or this script is wrong
    except ImportError:
        return token
    assert jwt.encode(payload, key, algorithm="HS256") == token, payload
    return token


def generate_jwt_token(key, username, jwt_token_id, jwt_token_description, jwt_token_life, now):
    """Specter's User.generate_jwt_token at the time `now` (Unix seconds)."""
    payload = {
        "username": username,
        "jwt_token_id": jwt_token_id,
        "jwt_token_description": jwt_token_description,
        "exp": now + jwt_token_life,
        "iat": now,
    }
    return jwt_encode(payload, key)


def token_entry(key, username, jwt_token_id, description, life, now):
    return jwt_token_id, {
        "jwt_token": generate_jwt_token(key, username, jwt_token_id, description, life, now),
        "jwt_token_description": description,
        "jwt_token_life": life,
    }


def user(user_id, username, tokens, is_admin=False):
    return {
        "id": user_id,
        "username": username,
        "password": hash_password(PASSWORD),
        "is_admin": is_admin,
        "jwt_tokens": dict(tokens),
        "encrypted_user_secret": None,
        "services": [],
    }


def fixed_users(key):
    """specter-users.json: one admin with a token valid until 2100 and an expired one."""
    return [
        user("admin", "specter", [
            token_entry(key, "specter", "5b9e1a52-1111-4c3a-9f00-0000000000a1",
                        "wallet script", 4102444800 - 1767225600, 1767225600),
            token_entry(key, "specter", "5b9e1a52-2222-4c3a-9f00-0000000000a2",
                        "old script", 360, 1700000000),
        ], is_admin=True),
    ]


YEAR = 365 * 86400


def fresh_users(key, now, soon):
    """Tokens issued at `now`: a long-lived one per user, one expiring `soon` seconds from
    now, one long expired; a user whose Specter id differs from its username."""
    return [
        user("admin", "specter", [
            token_entry(key, "specter", "5b9e1a52-1111-4c3a-9f00-0000000000a1",
                        "wallet script", YEAR, now),
            token_entry(key, "specter", "5b9e1a52-2222-4c3a-9f00-0000000000a2",
                        "old script", 360, now - 3600),
            token_entry(key, "specter", "5b9e1a52-3333-4c3a-9f00-0000000000a3",
                        "soon gone", soon, now),
        ], is_admin=True),
        user("bob_smith", "Bob Smith", [
            token_entry(key, "Bob Smith", "5b9e1a52-4444-4c3a-9f00-0000000000a4",
                        "home automation", YEAR, now),
        ]),
    ]


def forged(key, now):
    """Tokens made with Specter's key and code that no users.json holds."""
    return {
        "new_id": generate_jwt_token(key, "specter", "5b9e1a52-9999-4c3a-9f00-0000000000a9",
                                     "never issued", YEAR, now),
        "changed_exp": generate_jwt_token(key, "specter", "5b9e1a52-1111-4c3a-9f00-0000000000a1",
                                          "wallet script", 2 * YEAR, now),
    }


def write(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=4)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", help="the users.json to write (default: specter-users.json here)")
    parser.add_argument("--now", type=int, help="issue fresh tokens at this Unix time")
    parser.add_argument("--soon", type=int, default=5, help="seconds left to the 'soon gone' token")
    parser.add_argument("--secret-key", default=DEFAULT_KEY, help="Specter's SECRET_KEY")
    parser.add_argument("--forged", help="also write tokens never issued to this JSON file")
    args = parser.parse_args()
    if args.now is None:
        users = fixed_users(args.secret_key)
    else:
        users = fresh_users(args.secret_key, args.now, args.soon)
    here = os.path.dirname(os.path.abspath(__file__))
    write(args.out or os.path.join(here, "specter-users.json"), users)
    if args.forged:
        write(args.forged, forged(args.secret_key, args.now if args.now is not None else 1767225600))


if __name__ == "__main__":
    sys.exit(main())
