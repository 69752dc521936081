"""What the 1.6 mock CSMS remembers across a plain reconnect (the recovery step relies on it):
the registration outlives the connection, a reconnected station gets ``grace`` s to boot again
before its known registration counts, and a new boot's answer replaces it."""

from __future__ import annotations

import time

from pile_interop.core.frames import CALL, CALLRESULT, IN, OUT, Frame
from pile_interop.ocpp.v16.mock_csms import MockCsms

GRACE = 0.2


def _boot(mock: MockCsms, status: str) -> None:
    call = Frame(1, IN, "", type=CALL, action="BootNotification", payload={})
    answer = Frame(2, OUT, "", type=CALLRESULT, payload={"status": status})
    mock.observe(call, answer)
    for connector in (1, 2):
        status_call = Frame(
            3, IN, "", type=CALL, action="StatusNotification",
            payload={"connectorId": connector, "status": "Available", "errorCode": "NoError"},
        )  # fmt: skip
        mock.observe(status_call, None)


def test_the_registration_outlives_a_plain_reconnect_after_a_grace():
    mock = MockCsms({})
    mock.connection_opened()
    _boot(mock, "Accepted")
    assert mock.state.ready(2, GRACE)
    mock.connection_lost()
    assert mock.state.registration == "Accepted"
    time.sleep(0.01)
    mock.connection_opened()
    assert not mock.state.ready(2, GRACE)  # it may be about to boot again (a reboot)
    time.sleep(GRACE + 0.05)
    assert mock.state.ready(2, GRACE)  # it did not: the known registration counts


def test_a_pending_answer_stays_until_the_next_boot_is_accepted():
    mock = MockCsms({})
    mock.connection_opened()
    _boot(mock, "Pending")
    mock.connection_lost()
    mock.connection_opened()
    time.sleep(GRACE + 0.05)
    assert mock.state.registration == "Pending"
    assert not mock.state.ready(2, GRACE)
    _boot(mock, "Accepted")
    assert mock.state.ready(2, GRACE)
