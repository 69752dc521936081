from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from pile_interop.reporting import redact as redact_module
from pile_interop.reporting.redact import MASK, Redactor, redact, redact_text

from .conftest import BASIC, PASSWORD, PEM, PEM_BODY, STATION


def test_basic_authorization_header_value_is_masked_but_the_scheme_stays():
    text = f"GET /ocpp/CP1 HTTP/1.1\r\nAuthorization: Basic {BASIC}\r\nHost: x"
    assert redact_text(text) == "GET /ocpp/CP1 HTTP/1.1\r\nAuthorization: Basic ***\r\nHost: x"


def test_bearer_token_in_json_and_repr_headers_is_masked():
    assert (
        redact_text('{"Authorization": "Bearer abc.def-ghi"}') == '{"Authorization": "Bearer ***"}'
    )
    assert (
        redact_text("{'authorization': 'basic Zm9vOmJhcg=='}") == "{'authorization': 'basic ***'}"
    )


def test_words_that_only_look_like_a_scheme_are_left_alone():
    text = "Basic charging session; Authorization accepted"
    assert redact_text(text) == text


def test_pem_private_key_block_is_masked_whole_also_inside_json():
    assert redact_text(f"key: {PEM} end") == f"key: {MASK} end"
    raw = json.dumps({"key": PEM})
    assert PEM_BODY not in redact_text(raw)
    assert json.loads(redact_text(raw)) == {"key": MASK}


def test_pem_private_key_cut_short_is_masked_too():
    assert PEM_BODY not in redact_text(f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}")


def test_certificates_are_not_secrets():
    cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    assert redact_text(cert) == cert


def test_known_secret_and_its_wire_spellings_are_masked():
    redactor = Redactor({PASSWORD, 'q"uo\\te'}, credentials=[(STATION, PASSWORD)])
    assert redactor.redact_text(f"key={PASSWORD};") == "key=***;"
    assert redactor.redact_text(f"token {BASIC} here") == "token *** here"
    assert redactor.redact_text(PASSWORD.encode().hex().upper()) == MASK
    assert redactor.redact_text(json.dumps({"v": 'q"uo\\te'})) == '{"v": "***"}'
    assert PASSWORD not in repr(redactor)


def test_secret_given_as_user_colon_password_masks_its_basic_credential():
    secret = f"{STATION}:{PASSWORD}"
    encoded = base64.b64encode(secret.encode()).decode()
    assert encoded not in Redactor({secret}).redact_text(f"Basic-ish {encoded}")


def test_empty_and_mask_only_secrets_are_ignored():
    redactor = Redactor({"", "***"})
    assert redactor.redact_text("a *** b") == "a *** b"


def test_short_secrets_are_still_secrets():
    assert Redactor({"pw"}).redact_text("the pw is pw") == "the *** is ***"


def test_redact_walks_dicts_and_lists_and_returns_a_copy():
    data = {"a": [PASSWORD, {"b": (1, PASSWORD)}], PASSWORD: None, "n": 1.5, "t": True}
    redacted = Redactor({PASSWORD}).redact(data)
    assert redacted == {"a": [MASK, {"b": [1, MASK]}], MASK: None, "n": 1.5, "t": True}
    assert data["a"][0] == PASSWORD


def test_module_level_functions_know_only_the_patterns():
    assert redact_text(PASSWORD) == PASSWORD
    assert redact({"h": f"Authorization: Basic {BASIC}"}) == {"h": "Authorization: Basic ***"}
    assert redact_module.resolve(None) is redact_module.DEFAULT


secrets = st.text(min_size=1, max_size=30).filter(lambda s: s.strip("*"))


@given(prefix=st.text(max_size=40), secret=secrets, suffix=st.text(max_size=40))
def test_a_known_secret_never_survives_wherever_it_is_embedded(prefix, secret, suffix):
    redactor = Redactor({secret})
    text = prefix + secret + suffix + secret
    assert secret not in redactor.redact_text(text)


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _strings(item)


@given(parts=st.lists(st.text(max_size=10), min_size=1, max_size=5), a=secrets, b=secrets)
def test_several_secrets_never_survive_anywhere_in_nested_data(parts, a, b):
    redactor = Redactor({a, b})
    text = a.join(parts) + b + "".join(parts)
    out = redactor.redact({"k": [text, {a + "key": b + a}], b: (a,)})
    for string in _strings(out):
        assert a not in string
        assert b not in string
