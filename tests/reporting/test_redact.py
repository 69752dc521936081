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


def test_ocpp16_authorization_key_value_is_masked_in_either_key_order():
    change = '[2,"u","ChangeConfiguration",{"key":"AuthorizationKey","value":"k\\"ey-1"}]'
    assert (
        redact_text(change)
        == '[2,"u","ChangeConfiguration",{"key":"AuthorizationKey","value":"***"}]'
    )
    got = (
        '[3,"u",{"configurationKey":[{"readonly":false,"value":"key-2","key":"AuthorizationKey"},'
        '{"key":"HeartbeatInterval","readonly":false,"value":"60"}]}]'
    )
    masked = redact_text(got)
    assert "key-2" not in masked
    assert '{"key":"HeartbeatInterval","readonly":false,"value":"60"}' in masked


def test_ocpp201_basic_auth_password_variable_is_masked_whatever_the_field_order():
    orders = [
        '{"attributeValue":"pw-1","component":{"name":"SecurityCtrlr"},'
        '"variable":{"name":"BasicAuthPassword"}}',
        '{"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"},'
        '"attributeValue":"pw-1"}',
        '{"variable":{"name":"BasicAuthPassword"},"component":{"name":"SecurityCtrlr"},'
        '"attributeValue":"pw-1"}',
    ]
    other = (
        '{"attributeValue":"60","component":{"name":"OCPPCommCtrlr"},'
        '"variable":{"name":"HeartbeatInterval"}}'
    )
    for item in orders:
        text = f'[2,"u","SetVariables",{{"setVariableData":[{other},{item},{other}]}}]'
        masked = redact_text(text)
        assert "pw-1" not in masked
        assert masked.count('"attributeValue":"60"') == 2


def test_configuration_patterns_stay_fast_on_hostile_text():
    text = (
        '"attributeValue":"a",' * 3000
        + "BasicAuthPassword AuthorizationKey"
        + '"value":"a",' * 3000
    )
    assert redact_text(text) == text  # nothing to mask, and it returns (bounded look-ahead)


def test_values_under_secret_keys_are_masked_in_structures():
    descriptor = {
        "station_id": "CP1",
        "security": {"profile": 1, "basic_auth_password": "pw"},
        "secrets": ["a", "b"],
        "client_secret": {"nested": "x", "n": 3},
        "tokens": {"valid": "TAG-1"},
    }
    assert redact(descriptor) == {
        "station_id": "CP1",
        "security": {"profile": 1, "basic_auth_password": MASK},
        "secrets": [MASK, MASK],
        "client_secret": {"nested": MASK, "n": 3},
        "tokens": {"valid": "TAG-1"},  # id tags are test data, not secrets
    }


def test_redactor_for_a_device_descriptor_knows_its_password_secrets_and_webhook_key():
    redactor = Redactor.for_descriptor(
        {
            "station_id": STATION,
            "security": {"basic_auth_password": PASSWORD},
            "secrets": ["MeterSeal-77ab91", 5],
            "actuator": {
                "type": "webhook",
                "headers": {"Authorization": "Bearer tok-987654", "X-Bench": "bench-2"},
            },
        }
    )
    text = f"{PASSWORD} {BASIC} MeterSeal-77ab91 tok-987654 bench-2"
    assert redactor.redact_text(text) == "*** *** *** *** bench-2"
    assert Redactor.for_descriptor({}).redact_text(PASSWORD) == PASSWORD


def test_a_secret_learnt_during_the_run_is_masked_from_then_on_with_its_basic_credential():
    redactor = Redactor(["first-secret-123"])
    new = "0f" * 20
    assert new in redactor.redact_text(f"key {new}")
    redactor.learn(new, "CS-1")
    basic = base64.b64encode(f"CS-1:{new}".encode()).decode()
    text = redactor.redact_text(f"key {new}, header {basic}, old first-secret-123")
    assert new not in text and basic not in text and "first-secret-123" not in text
