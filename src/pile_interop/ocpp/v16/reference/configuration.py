"""Configuration requests at the reference OCPP 1.6J station: GetConfiguration (§5.8),
ChangeConfiguration (§5.3), and the Security Whitepaper's write-only ``AuthorizationKey``
(the HTTP Basic password). The keys themselves are
:class:`~pile_interop.ocpp.v16.reference.station_config.Config`.

:class:`Configuration` holds the default behaviour; every hook goes through the station
(:class:`ConfigurationPort`), so that a mutant overriding one there changes it everywhere.
"""

from __future__ import annotations

from typing import Protocol

from ocpp.exceptions import OccurenceConstraintViolationError
from ocpp.v16 import call_result
from ocpp.v16.enums import ConfigurationStatus

from pile_interop.ocpp.v16.reference.station_hooks import StationState
from pile_interop.ocpp.v16.reference.station_model import Connector

#: The OCPP 1.6 Security Whitepaper's configuration key holding the Basic auth password.
AUTHORIZATION_KEY = "AuthorizationKey"


class ConfigurationPort(StationState, Protocol):
    """What the configuration requests need from the station."""

    password: str | None

    def get_configuration_response(
        self, keys: list[str] | None
    ) -> call_result.GetConfiguration: ...
    def authorization_key_status(self, value: str) -> str: ...
    def set_authorization_key(self, value: str) -> None: ...
    def change_configuration_status(self, key: str, value: str) -> str: ...
    def on_configuration_changed(self, key: str) -> None: ...
    def _start_sampler(self, conn: Connector) -> None: ...
    def _restart_aligned(self) -> None: ...


class Configuration:
    """Reading and changing configuration keys."""

    def __init__(self, station: ConfigurationPort) -> None:
        self.station = station

    # -- GetConfiguration (§5.8) --------------------------------------------------------------

    async def handle_get_configuration(
        self, keys: list[str] | None
    ) -> call_result.GetConfiguration:
        st = self.station
        max_keys = st.config.get_int("GetConfigurationMaxKeys")
        if keys and len(keys) > max_keys:
            # The spec only says the number "MAY be limited"; asking for more is treated as
            # an occurrence constraint violation of the request's key list.
            raise OccurenceConstraintViolationError(
                description=f"{len(keys)} keys requested, GetConfigurationMaxKeys is {max_keys}"
            )
        return st.get_configuration_response(keys)

    def get_configuration_response(self, keys: list[str] | None) -> call_result.GetConfiguration:
        """All keys when ``keys`` is omitted or empty; else the known ones, the rest in
        ``unknownKey``."""
        config = self.station.config
        known, unknown = [], []
        if not keys:
            known = config.keys()
        else:
            for key in keys:
                spec = config.spec(key)
                if spec is None:
                    unknown.append(key)
                elif spec not in known:
                    known.append(spec)
        entries = [
            {"key": spec.name, "readonly": spec.readonly, "value": config.get(spec.name)}
            for spec in known
        ]
        return call_result.GetConfiguration(
            configuration_key=entries or None, unknown_key=unknown or None
        )

    # -- ChangeConfiguration (§5.3) -----------------------------------------------------------

    async def handle_change_configuration(
        self, key: str, value: str
    ) -> call_result.ChangeConfiguration:
        st = self.station
        if key == AUTHORIZATION_KEY:
            status = st.authorization_key_status(value)
            if status == ConfigurationStatus.accepted:
                st.set_authorization_key(value)
            return call_result.ChangeConfiguration(status=status)  # type: ignore[arg-type]
        status = st.change_configuration_status(key, value)
        spec = st.config.spec(key)
        if (
            status in (ConfigurationStatus.accepted, ConfigurationStatus.reboot_required)
            and spec is not None
            and st.config.problem(spec, value) is None
        ):
            st.config.set(spec.name, value)
            st.on_configuration_changed(spec.name)
        return call_result.ChangeConfiguration(status=status)  # type: ignore[arg-type]

    def authorization_key_status(self, value: str) -> str:
        """The Basic password (security profiles 1 and 2; write-only, so GetConfiguration
        does not show it): NotSupported without Basic auth, Rejected unless 16-40 printable
        ASCII characters (the Security Whitepaper: 16-20 bytes, sent as up to 40 hex digits)."""
        if self.station.password is None:
            return ConfigurationStatus.not_supported
        ok = 16 <= len(value) <= 40 and value.isascii() and value.isprintable()
        return ConfigurationStatus.accepted if ok else ConfigurationStatus.rejected

    def change_configuration_status(self, key: str, value: str) -> str:
        """Accepted, Rejected (read-only or bad value), NotSupported (unknown key) or
        RebootRequired."""
        return self.station.config.change_status(key, value)

    def on_configuration_changed(self, key: str) -> None:
        st = self.station
        if key == "HeartbeatInterval":
            st.base.restart_heartbeat()
        elif key == "MeterValueSampleInterval":
            for conn in st._outlets():
                st._start_sampler(conn)
        elif key == "ClockAlignedDataInterval":
            st._restart_aligned()
