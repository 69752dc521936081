"""The optional feature profiles of the reference OCPP 1.6J station that a device descriptor
turns on or off: Local Auth List Management (§3.5.3, §9.2), Reservation (§3.11, §9.4) and
Remote Trigger (§5.17). Each is on unless the descriptor declares its feature false, so the
same station plays a charger with or without the profile (the OCA "NotSupported" cases run
against the one without).

A profile that is off leaves no trace: its configuration keys are absent, it is not in
``SupportedFeatureProfiles`` and its CSMS requests are answered with a NotSupported CALLERROR.
"""

from __future__ import annotations

from collections.abc import Mapping

from pile_interop.ocpp.v16.reference.station_config import KeySpec, KeyType

#: OCPP 1.6 feature profile → the device-descriptor feature that declares it
PROFILE_FEATURES: dict[str, str] = {
    "SmartCharging": "smart_charging",
    "LocalAuthListManagement": "local_auth_list",
    "Reservation": "reservation",
    "RemoteTrigger": "remote_trigger",
}
#: the option of connector-0 reservations (ReserveConnectorZeroSupported)
RESERVE_CONNECTOR_ZERO = "reserve_connector_zero"
#: §9.2.2 / §9.2.4: how many entries the list holds, and one SendLocalList may carry
LOCAL_AUTH_LIST_MAX_LENGTH = 20
SEND_LOCAL_LIST_MAX_LENGTH = 5
#: every feature profile an OCPP 1.6 station may list (§9.1.29)
ALL_PROFILES = frozenset(
    {"Core", "FirmwareManagement", "LocalAuthListManagement", "Reservation", "SmartCharging",
     "RemoteTrigger"}
)  # fmt: skip


class OptionalProfiles:
    """Which optional profiles (and options) a station has, from its descriptor's features."""

    def __init__(self, features: Mapping[str, bool] | None = None) -> None:
        self.features = dict(features or {})

    def has(self, feature: str) -> bool:
        """A feature is on unless declared false."""
        return self.features.get(feature, True) is not False

    def profiles(self) -> list[str]:
        return ["Core", *(p for p, f in PROFILE_FEATURES.items() if self.has(f))]

    def key_specs(self) -> list[KeySpec]:
        """The configuration keys of the profiles that are on, and SupportedFeatureProfiles."""
        b, i, c = KeyType.BOOLEAN, KeyType.INTEGER, KeyType.CSL
        specs = [
            KeySpec(
                "SupportedFeatureProfiles",
                True,
                c,
                ",".join(self.profiles()),
                item_check=lambda item: item in ALL_PROFILES,
            )
        ]
        if self.has("local_auth_list"):
            specs += [
                KeySpec("LocalAuthListEnabled", False, b, "true"),
                KeySpec("LocalAuthListMaxLength", True, i, str(LOCAL_AUTH_LIST_MAX_LENGTH)),
                KeySpec("SendLocalListMaxLength", True, i, str(SEND_LOCAL_LIST_MAX_LENGTH)),
            ]
        if self.has("reservation"):
            zero = "true" if self.has(RESERVE_CONNECTOR_ZERO) else "false"
            specs.append(KeySpec("ReserveConnectorZeroSupported", True, b, zero))
        return specs
