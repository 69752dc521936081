"""What the 1.6 mock CSMS remembers across a plain reconnect (the recovery step relies on it):
the registration outlives the connection, a reconnected station gets ``grace`` s to boot again
before its known registration counts, and a new boot's answer replaces it."""

from __future__ import annotations

import pytest

from pile_interop.core.frames import CALL, CALLRESULT, IN, OUT, Frame
from pile_interop.ocpp.v16.mock_csms import MockCsms

GRACE = 0.2


class FakeClock:
    """``time.monotonic`` of the mock CSMS, moved by the test (no real waiting)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr("pile_interop.ocpp.v16.mock_csms.time.monotonic", fake.monotonic)
    return fake


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


def test_the_registration_outlives_a_plain_reconnect_after_a_grace(clock: FakeClock):
    mock = MockCsms({})
    mock.connection_opened()
    _boot(mock, "Accepted")
    assert mock.state.ready(2, GRACE)
    mock.connection_lost()
    assert mock.state.registration == "Accepted"
    clock.advance(0.01)
    mock.connection_opened()
    assert not mock.state.ready(2, GRACE)  # it may be about to boot again (a reboot)
    clock.advance(GRACE + 0.05)
    assert mock.state.ready(2, GRACE)  # it did not: the known registration counts


def test_a_pending_answer_stays_until_the_next_boot_is_accepted(clock: FakeClock):
    mock = MockCsms({})
    mock.connection_opened()
    _boot(mock, "Pending")
    mock.connection_lost()
    mock.connection_opened()
    clock.advance(GRACE + 0.05)
    assert mock.state.registration == "Pending"
    assert not mock.state.ready(2, GRACE)
    _boot(mock, "Accepted")
    assert mock.state.ready(2, GRACE)
