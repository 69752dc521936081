"""Configuration keys of the reference OCPP 1.6J station (OCPP 1.6 edition 2, §9.1 Core Profile).

Each key carries its accessibility (``R`` / ``RW``), its type and how a new value is checked.
Keys are ``CiString50Type`` on the wire, so lookups are case-insensitive (§7 "CiString"), while
answers always use the canonical spelling of §9.1.

Only keys whose behaviour the station implements are present: §9 says that for an optional
key "if the key is not present, the Charge Point does not provide the functionality", so e.g.
``MinimumStatusDuration`` and ``MaxEnergyOnInvalidId`` are left out on purpose.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ocpp.v16.enums import ConfigurationStatus, Measurand, Phase

logger = logging.getLogger(__name__)

#: ``ChangeConfiguration.req`` value is a ``CiString500Type`` (§6.9).
MAX_VALUE_LENGTH = 500

#: Default length limit of the measurand lists (the ``…MaxLength`` keys report it).
MEASURAND_LIST_MAX_LENGTH = 10

#: Maximum number of keys in one ``GetConfiguration.req`` (reported by GetConfigurationMaxKeys).
GET_CONFIGURATION_MAX_KEYS = 50

#: Measurands the simulated meter can produce (see :mod:`pile_interop.ocpp.reference.meter`).
SUPPORTED_MEASURANDS: frozenset[str] = frozenset(
    {
        Measurand.energy_active_import_register,
        Measurand.power_active_import,
        Measurand.power_offered,
        Measurand.current_import,
        Measurand.current_offered,
        Measurand.voltage,
        Measurand.temperature,
        Measurand.soc,
    }
)

#: Measurands that may carry a phase suffix, e.g. ``Voltage.L1`` (§9.1.17 MeterValuesSampledData:
#: "Where applicable, the Measurand is combined with the optional phase; for instance: Voltage.L1").
PHASED_MEASURANDS: frozenset[str] = frozenset(
    {Measurand.current_import, Measurand.voltage, Measurand.power_active_import}
)

#: §9.1.7 ConnectorPhaseRotation values.
PHASE_ROTATIONS: frozenset[str] = frozenset(
    {"NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR"}
)


class KeyType(StrEnum):
    """Value types of §9 configuration keys."""

    BOOLEAN = "boolean"
    INTEGER = "integer"
    CSL = "CSL"


@dataclass(frozen=True)
class KeySpec:
    """One configuration key: name, accessibility, type and value check."""

    name: str
    readonly: bool
    type: KeyType
    default: str
    #: For integers: the inclusive lower and upper bound.
    minimum: int = 0
    maximum: int | None = None
    #: For CSL keys: a check of one item, and the key naming the maximum list length.
    item_check: Callable[[str], bool] | None = None
    max_length_key: str | None = None
    #: The change is accepted but only takes effect after a reboot (``RebootRequired``).
    reboot_required: bool = False


def is_measurand_item(item: str) -> bool:
    """Whether ``item`` is a supported measurand, optionally with a phase (``Voltage.L1``)."""
    if item in SUPPORTED_MEASURANDS:
        return True
    for measurand in PHASED_MEASURANDS:
        prefix = measurand + "."
        if item.startswith(prefix) and item[len(prefix) :] in {p.value for p in Phase}:
            return True
    return False


def split_csl(value: str) -> list[str]:
    """Items of a comma separated list; the empty string is the empty list."""
    return [item.strip() for item in value.split(",") if item.strip()]


def core_key_specs(connectors: int) -> list[KeySpec]:
    """The §9.1 Core Profile keys for a station with ``connectors`` connectors."""

    def is_phase_rotation(item: str) -> bool:
        # Formatted "<connectorId>.<rotation>", e.g. "0.RST, 1.RST, 2.RTS" (§9.1.7).
        index, _, rotation = item.partition(".")
        return index.isdigit() and int(index) <= connectors and rotation in PHASE_ROTATIONS

    def is_profile(item: str) -> bool:
        return item in ("Core", "SmartCharging")

    b, i, c = KeyType.BOOLEAN, KeyType.INTEGER, KeyType.CSL
    rotation = ",".join(f"{n}.RST" for n in range(connectors + 1))
    return [
        KeySpec("AllowOfflineTxForUnknownId", False, b, "false"),
        KeySpec("AuthorizationCacheEnabled", False, b, "true"),
        # §9.1.3: "R or RW. Choice is up to Charge Point implementation." We pick RW.
        KeySpec("AuthorizeRemoteTxRequests", False, b, "false"),
        KeySpec("BlinkRepeat", False, i, "3"),
        KeySpec("ClockAlignedDataInterval", False, i, "0"),
        KeySpec("ConnectionTimeOut", False, i, "60"),
        KeySpec(
            "ConnectorPhaseRotation",
            False,
            c,
            rotation,
            item_check=is_phase_rotation,
            max_length_key="ConnectorPhaseRotationMaxLength",
        ),
        KeySpec("ConnectorPhaseRotationMaxLength", True, i, str(connectors + 1)),
        KeySpec("GetConfigurationMaxKeys", True, i, str(GET_CONFIGURATION_MAX_KEYS)),
        KeySpec("HeartbeatInterval", False, i, "300"),
        # §9.1.11: percentage of maximum intensity.
        KeySpec("LightIntensity", False, i, "100", maximum=100),
        KeySpec("LocalAuthorizeOffline", False, b, "true"),
        KeySpec("LocalPreAuthorize", False, b, "false"),
        KeySpec(
            "MeterValuesAlignedData",
            False,
            c,
            Measurand.energy_active_import_register.value,
            item_check=is_measurand_item,
            max_length_key="MeterValuesAlignedDataMaxLength",
        ),
        KeySpec("MeterValuesAlignedDataMaxLength", True, i, str(MEASURAND_LIST_MAX_LENGTH)),
        KeySpec(
            "MeterValuesSampledData",
            False,
            c,
            Measurand.energy_active_import_register.value,
            item_check=is_measurand_item,
            max_length_key="MeterValuesSampledDataMaxLength",
        ),
        KeySpec("MeterValuesSampledDataMaxLength", True, i, str(MEASURAND_LIST_MAX_LENGTH)),
        KeySpec("MeterValueSampleInterval", False, i, "0"),
        KeySpec("NumberOfConnectors", True, i, str(connectors)),
        KeySpec("ResetRetries", False, i, "1"),
        KeySpec("StopTransactionOnEVSideDisconnect", False, b, "true"),
        KeySpec("StopTransactionOnInvalidId", False, b, "true"),
        KeySpec(
            "StopTxnAlignedData",
            False,
            c,
            "",
            item_check=is_measurand_item,
            max_length_key="StopTxnAlignedDataMaxLength",
        ),
        KeySpec("StopTxnAlignedDataMaxLength", True, i, str(MEASURAND_LIST_MAX_LENGTH)),
        KeySpec(
            "StopTxnSampledData",
            False,
            c,
            "",
            item_check=is_measurand_item,
            max_length_key="StopTxnSampledDataMaxLength",
        ),
        KeySpec("StopTxnSampledDataMaxLength", True, i, str(MEASURAND_LIST_MAX_LENGTH)),
        KeySpec("SupportedFeatureProfiles", True, c, "Core,SmartCharging", item_check=is_profile),
        KeySpec("TransactionMessageAttempts", False, i, "3"),
        KeySpec("TransactionMessageRetryInterval", False, i, "60"),
        KeySpec("UnlockConnectorOnEVSideDisconnect", False, b, "true"),
        # The websocket keep-alive is set when a connection opens, so a change applies from
        # the next connection on: RebootRequired (§6.10 "will only take effect after reboot").
        KeySpec("WebSocketPingInterval", False, i, "60", reboot_required=True),
    ]


def smart_charging_key_specs() -> list[KeySpec]:
    """The §9.4 Smart Charging Profile keys (read-only: what the station can do)."""
    b, i, c = KeyType.BOOLEAN, KeyType.INTEGER, KeyType.CSL
    return [
        KeySpec("ChargeProfileMaxStackLevel", True, i, "3"),
        KeySpec(
            "ChargingScheduleAllowedChargingRateUnit",
            True,
            c,
            "Current,Power",
            item_check=lambda item: item in ("Current", "Power"),
        ),
        KeySpec("ChargingScheduleMaxPeriods", True, i, "10"),
        KeySpec("ConnectorSwitch3to1PhaseSupported", True, b, "false"),
        KeySpec("MaxChargingProfilesInstalled", True, i, "10"),
    ]


class Config:
    """The station's configuration store: persistent across reboots."""

    def __init__(
        self,
        connectors: int,
        overrides: dict[str, str] | None = None,
        extra: list[KeySpec] | None = None,
    ) -> None:
        """``extra``: the keys of the optional feature profiles (one of the same name replaces
        the Core key, e.g. SupportedFeatureProfiles listing them)."""
        self._specs: dict[str, KeySpec] = {}
        self._values: dict[str, str] = {}
        for spec in [*core_key_specs(connectors), *smart_charging_key_specs(), *(extra or [])]:
            self._specs[spec.name.lower()] = spec
            self._values[spec.name] = spec.default
        for key, value in (overrides or {}).items():
            found = self.spec(key)
            if found is None:
                raise ValueError(f"unknown configuration key {key!r}")
            problem = self.problem(found, value)
            if problem:
                raise ValueError(f"bad value {value!r} for {found.name}: {problem}")
            self._values[found.name] = self.normalise(found, value)

    # -- lookups -----------------------------------------------------------------------------

    def spec(self, key: str) -> KeySpec | None:
        """The key's spec (case-insensitive), or None if the station does not know the key."""
        return self._specs.get(key.lower())

    def keys(self) -> list[KeySpec]:
        """All keys in their canonical order."""
        return list(self._specs.values())

    def get(self, key: str) -> str:
        spec = self.spec(key)
        if spec is None:
            raise KeyError(key)
        return self._values[spec.name]

    def get_int(self, key: str) -> int:
        return int(self.get(key))

    def get_bool(self, key: str) -> bool:
        return self.get(key) == "true"

    def get_list(self, key: str) -> list[str]:
        return split_csl(self.get(key))

    def as_dict(self) -> dict[str, str]:
        return dict(self._values)

    # -- checks and changes ------------------------------------------------------------------

    def problem(self, spec: KeySpec, value: str) -> str | None:
        """Why ``value`` is not valid for ``spec``, or None if it is."""
        if len(value) > MAX_VALUE_LENGTH:
            return f"longer than {MAX_VALUE_LENGTH} characters"
        if spec.type is KeyType.BOOLEAN:
            return None if value.lower() in ("true", "false") else "not 'true' or 'false'"
        if spec.type is KeyType.INTEGER:
            text = value.strip()
            if not text.isdigit():
                return "not a non-negative integer"
            number = int(text)
            if number < spec.minimum or (spec.maximum is not None and number > spec.maximum):
                return f"outside {spec.minimum}..{spec.maximum if spec.maximum is not None else ''}"
            return None
        items = split_csl(value)
        if spec.item_check is not None:
            bad = [item for item in items if not spec.item_check(item)]
            if bad:
                return f"unsupported item(s) {bad}"
        if spec.max_length_key is not None and len(items) > self.get_int(spec.max_length_key):
            return f"more than {self.get(spec.max_length_key)} items"
        return None

    @staticmethod
    def normalise(spec: KeySpec, value: str) -> str:
        if spec.type is KeyType.BOOLEAN:
            return value.lower()
        if spec.type is KeyType.INTEGER:
            return str(int(value.strip()))
        return ",".join(split_csl(value))

    def change_status(self, key: str, value: str) -> str:
        """The ``ChangeConfiguration.conf`` status for setting ``key`` to ``value`` (§5.3)."""
        spec = self.spec(key)
        if spec is None:
            return ConfigurationStatus.not_supported
        if spec.readonly:
            return ConfigurationStatus.rejected
        if self.problem(spec, value) is not None:
            return ConfigurationStatus.rejected
        if spec.reboot_required:
            return ConfigurationStatus.reboot_required
        return ConfigurationStatus.accepted

    def set(self, key: str, value: str) -> str:
        """Store ``value`` (already checked); returns the canonical key name."""
        spec = self.spec(key)
        if spec is None:
            raise KeyError(key)
        self._values[spec.name] = self.normalise(spec, value)
        logger.debug("config %s = %s", spec.name, self._values[spec.name])
        return spec.name
