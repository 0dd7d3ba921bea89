"""The last net under every printed line: `secrets.redact` masks what it must, and only that."""

from __future__ import annotations

import base64

from translator import secrets


def test_remembered_secrets_are_masked_as_whole_tokens_only():
    secrets.remember("example")
    secrets.remember("s3cr3t-Token_1")
    secrets.remember("p@ss word!")  # not a token: found by the pattern of other secrets
    text = ("mirror.example.com /example/ example, s3cr3t-Token_1, (p@ss word!) "
            "xs3cr3t-Token_1 s3cr3t-Token_1.x")
    assert secrets.redact(text) == ("mirror.example.com /example/ ***, ***, (***) "
                                    "xs3cr3t-Token_1 s3cr3t-Token_1.x")


def test_many_remembered_secrets_cost_one_pass():
    for i in range(20000):
        secrets.remember(f"generated-secret-{i:05d}")
    line = "user robot password generated-secret-12345 on registry123.example.com"
    assert secrets.redact(line) == "user robot password *** on registry123.example.com"


def test_base64_credentials_are_masked_wherever_they_stand():
    token = base64.b64encode(b"robot:hunter22").decode()
    other = base64.b64encode(b"no colon here").decode()
    text = f"auth: {token} x.{token}, {other}"
    assert secrets.redact(text) == f"auth: *** x.***, {other}"


def test_userinfo_and_authorization_values_are_masked():
    assert secrets.redact("https://robot:pw123@mirror.example.com/v2") == "https://robot:***@mirror.example.com/v2"
    assert secrets.redact("Authorization: Bearer abc.def-123") == "Authorization: Bearer ***"


def test_a_redacted_text_is_searched_again_once_a_new_secret_is_known():
    """A report redacted where it is built is not searched again when printed, unless a secret was
    remembered in between: then the printed text is masked for it too."""
    text = "token late-secret-4711 and more"
    once = secrets.redact(text)
    assert secrets.redact(once) is once
    secrets.remember("late-secret-4711")
    assert secrets.redact(once) == "token *** and more"
