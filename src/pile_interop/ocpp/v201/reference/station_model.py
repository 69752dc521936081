"""The device model of the reference OCPP 2.0.1 station (OCPP 2.0.1 Part 1 §4, Part 2 block B).

Components (``ChargingStation``, ``EVSE`` with an evse id, ``Connector`` with an evse and a
connector id, and the controllers ``OCPPCommCtrlr``, ``SecurityCtrlr`` …) hold variables (with an
optional instance, e.g. ``MessageAttempts`` / ``TransactionEvent``). Each :class:`Variable` has
one attribute, ``Actual`` (Target / MinSet / MaxSet are not supported: NotSupportedAttributeType),
a mutability and its characteristics (``dataType``, ``unit``, ``valuesList``, ``maxLimit``).
Values are strings, as they travel; :meth:`DeviceModel.problem` checks a new value against the
variable's data type (B05: an invalid value is Rejected).

Names (component, variable, instance) are ``CiString`` in OCPP, so lookups ignore case.

:func:`station_variables` builds the station half's variables; the transaction half
(``Evses.variables()``) adds its own through :func:`tx_variable`, which knows the characteristics
of the standard ones and infers the rest from the default value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ocpp.v201.enums import (
    ComponentCriterionEnumType,
    DataEnumType,
    MutabilityEnumType,
    ReportBaseEnumType,
)

from pile_interop.core.clock import parse_iso

__all__ = [
    "AVAILABILITY_STATES",
    "MEASURANDS",
    "TX_POINTS",
    "DeviceModel",
    "Lookup",
    "StationFacts",
    "Variable",
    "station_variables",
    "tx_variable",
]

READ_ONLY = MutabilityEnumType.read_only.value
WRITE_ONLY = MutabilityEnumType.write_only.value
READ_WRITE = MutabilityEnumType.read_write.value

#: ChargingStation / EVSE / Connector AvailabilityState values (Part 2 Appendix, OptionList)
AVAILABILITY_STATES = ("Available", "Occupied", "Reserved", "Unavailable", "Faulted")
#: TxStartPoint / TxStopPoint values (E01 / E06)
TX_POINTS = (
    "ParkingBayOccupancy",
    "EVConnected",
    "Authorized",
    "DataSigned",
    "PowerPathClosed",
    "EnergyTransfer",
)
#: The measurands the reference meter can sample (SampledDataCtrlr / AlignedDataCtrlr lists)
MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Import",
    "Voltage",
    "SoC",
)
#: How a station's variable names its time source (ClockCtrlr.TimeSource, SequenceList)
TIME_SOURCES = ("Heartbeat", "NTP", "GPS", "RealTimeClock", "MobileNetwork", "RadioTimeTransmitter")
#: The NetworkConnectionProfile slots the station has (OCPPCommCtrlr.NetworkConfigurationPriority)
NETWORK_SLOTS = ("1", "2", "3")
#: Variables that make up a SummaryInventory report (B07: availability and problem conditions)
SUMMARY_VARIABLES = frozenset({"availabilitystate", "available", "problem"})
#: Variables that carry a ComponentCriterion of GetReport (B08): the component matches when it
#: has this variable and its Actual value is true
CRITERION_VARIABLES = {
    ComponentCriterionEnumType.active.value: "active",
    ComponentCriterionEnumType.available.value: "available",
    ComponentCriterionEnumType.enabled.value: "enabled",
    ComponentCriterionEnumType.problem.value: "problem",
}
#: Longest value the station stores (DeviceDataCtrlr.ConfigurationValueSize)
VALUE_SIZE = 1000

_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _ci(text: str | None) -> str | None:
    return None if text is None else text.casefold()


@dataclass
class Variable:
    """One variable of one component, with its Actual attribute."""

    component: str
    variable: str
    value: str = ""
    data_type: str = DataEnumType.string.value
    mutability: str = READ_WRITE
    evse: int | None = None
    connector: int | None = None
    component_instance: str | None = None
    instance: str | None = None
    unit: str | None = None
    values_list: tuple[str, ...] | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    #: a new value only takes effect after a reboot (SetVariables answers RebootRequired)
    reboot_required: bool = False
    #: the value is computed when read (ClockCtrlr.DateTime, CertificateEntries …)
    live: Callable[[], str] | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> tuple[Any, ...]:
        return (
            _ci(self.component),
            _ci(self.component_instance),
            self.evse,
            self.connector,
            _ci(self.variable),
            _ci(self.instance),
        )

    @property
    def component_key(self) -> tuple[Any, ...]:
        return self.key[:4]

    @property
    def name(self) -> str:
        """``Component.Variable[.Instance]`` (with ``@evse/connector``): for logs and errors."""
        where = "" if self.evse is None else f"@{self.evse}"
        if self.connector is not None:
            where += f"/{self.connector}"
        tail = f".{self.instance}" if self.instance else ""
        return f"{self.component}{where}.{self.variable}{tail}"

    def actual(self) -> str:
        return self.live() if self.live is not None else self.value

    # -- wire shapes (camelCase, as in the JSON schemas) ----------------------------------

    def component_type(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.component}
        if self.component_instance:
            out["instance"] = self.component_instance
        if self.evse is not None:
            evse: dict[str, Any] = {"id": self.evse}
            if self.connector is not None:
                evse["connectorId"] = self.connector
            out["evse"] = evse
        return out

    def variable_type(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.variable}
        if self.instance:
            out["instance"] = self.instance
        return out

    def characteristics(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dataType": self.data_type, "supportsMonitoring": False}
        if self.unit:
            out["unit"] = self.unit
        if self.max_limit is not None:
            out["maxLimit"] = self.max_limit
        if self.values_list:
            out["valuesList"] = ",".join(self.values_list)
        return out

    def report_data(self) -> dict[str, Any]:
        """ReportDataType: a WriteOnly variable's value is never reported (B07.FR.?/B12)."""
        attribute: dict[str, Any] = {
            "type": "Actual",
            "mutability": self.mutability,
            "persistent": True,
            "constant": self.mutability == READ_ONLY and self.live is None,
        }
        if self.mutability != WRITE_ONLY:
            attribute["value"] = self.actual()[:VALUE_SIZE]
        return {
            "component": self.component_type(),
            "variable": self.variable_type(),
            "variableAttribute": [attribute],
            "variableCharacteristics": self.characteristics(),
        }


@dataclass
class Lookup:
    """Where a ComponentType / VariableType pair of a request leads."""

    variable: Variable | None
    #: Accepted, UnknownComponent or UnknownVariable
    status: str


class DeviceModel:
    """Every variable of the station, found by component and variable (case-insensitive)."""

    def __init__(self, variables: Iterable[Variable] = ()) -> None:
        self._vars: dict[tuple[Any, ...], Variable] = {}
        for var in variables:
            self.add(var)

    def add(self, var: Variable) -> None:
        """Add (or replace: the later definition wins) a variable."""
        self._vars[var.key] = var

    def __iter__(self) -> Any:
        return iter(self._vars.values())

    def __len__(self) -> int:
        return len(self._vars)

    def find(
        self,
        component: str,
        variable: str,
        *,
        evse: int | None = None,
        connector: int | None = None,
        component_instance: str | None = None,
        instance: str | None = None,
    ) -> Variable | None:
        key = (
            _ci(component),
            _ci(component_instance),
            evse,
            connector,
            _ci(variable),
            _ci(instance),
        )
        return self._vars.get(key)

    def get(
        self, component: str, variable: str, evse: int | None = None, instance: str | None = None
    ) -> str:
        """The Actual value (``""`` for an unknown variable). An EVSE-level question falls back
        to the station-level variable when the EVSE has no variable of its own."""
        var = self.find(component, variable, evse=evse, instance=instance)
        if var is None and evse is not None:
            var = self.find(component, variable, instance=instance)
        return var.actual() if var is not None else ""

    def set(
        self,
        component: str,
        variable: str,
        value: str,
        *,
        evse: int | None = None,
        instance: str | None = None,
    ) -> None:
        """Set a value from inside the station (no mutability check)."""
        var = self.find(component, variable, evse=evse, instance=instance)
        if var is None:
            raise KeyError(f"{component}.{variable}: no such variable")
        var.value = value

    def lookup(self, component: dict[str, Any], variable: dict[str, Any]) -> Lookup:
        """Resolve a request's camelCase ComponentType / VariableType."""
        evse = component.get("evse") or {}
        ckey = (
            _ci(str(component.get("name", ""))),
            _ci(component.get("instance")),
            evse.get("id"),
            evse.get("connectorId"),
        )
        if not any(var.component_key == ckey for var in self._vars.values()):
            return Lookup(None, "UnknownComponent")
        key = (*ckey, _ci(str(variable.get("name", ""))), _ci(variable.get("instance")))
        var = self._vars.get(key)
        return Lookup(var, "Accepted" if var is not None else "UnknownVariable")

    # -- values ---------------------------------------------------------------------------

    @staticmethod
    def problem(var: Variable, value: str) -> str | None:
        """Why ``value`` is not a valid value of ``var`` (None when it is)."""
        if len(value) > VALUE_SIZE:
            return f"longer than {VALUE_SIZE} characters"
        kind = var.data_type
        if kind == DataEnumType.integer.value:
            if not _INTEGER.match(value):
                return "not an integer"
            return _limits(var, float(int(value)))
        if kind == DataEnumType.decimal.value:
            if not _DECIMAL.match(value):
                return "not a decimal"
            return _limits(var, float(value))
        if kind == DataEnumType.boolean.value:
            return None if value.lower() in ("true", "false") else "not true or false"
        if kind == DataEnumType.date_time.value:
            try:
                parse_iso(value)
            except ValueError:
                return "not an RFC 3339 date-time"
            return None
        allowed = var.values_list or ()
        if kind == DataEnumType.option_list.value:
            return None if value in allowed else f"not one of {','.join(allowed)}"
        if kind in (DataEnumType.member_list.value, DataEnumType.sequence_list.value):
            items = [item.strip() for item in value.split(",")] if value.strip() else []
            bad = [item for item in items if item not in allowed]
            if bad:
                return f"{','.join(bad)} not in {','.join(allowed)}"
            if len(set(items)) != len(items):
                return "an item occurs twice"
            if kind == DataEnumType.sequence_list.value and not items:
                return "an empty sequence"
            return None
        return None

    @staticmethod
    def normalize(var: Variable, value: str) -> str:
        """The stored form of a valid value (booleans lowercase, lists without blanks)."""
        if var.data_type == DataEnumType.boolean.value:
            return value.lower()
        if var.data_type in (DataEnumType.member_list.value, DataEnumType.sequence_list.value):
            return ",".join(item.strip() for item in value.split(",") if item.strip())
        return value

    # -- reports (B07 / B08) ----------------------------------------------------------------

    def base_report(self, report_base: str) -> list[Variable]:
        """ConfigurationInventory: what the CSMS can set; FullInventory: everything;
        SummaryInventory: availability and problem conditions."""
        everything = list(self._vars.values())
        if report_base == ReportBaseEnumType.configuration_inventory.value:
            return [v for v in everything if v.mutability != READ_ONLY]
        if report_base == ReportBaseEnumType.summary_inventory.value:
            return [v for v in everything if _ci(v.variable) in SUMMARY_VARIABLES]
        return everything

    def custom_report(
        self,
        component_variables: list[dict[str, Any]] | None,
        criteria: list[str] | None,
    ) -> list[Variable]:
        """GetReport: the variables named by ``component_variables`` (a component without a
        variable means all its variables; a component without evse any EVSE's), of the
        components that meet every criterion."""
        chosen = list(self._vars.values())
        if component_variables:
            chosen = [v for v in chosen if any(_selects(cv, v) for cv in component_variables)]
        if criteria:
            meeting = {
                ckey
                for ckey in {v.component_key for v in self._vars.values()}
                if all(self._meets(ckey, criterion) for criterion in criteria)
            }
            chosen = [v for v in chosen if v.component_key in meeting]
        return chosen

    def _meets(self, component_key: tuple[Any, ...], criterion: str) -> bool:
        name = CRITERION_VARIABLES.get(criterion)
        for var in self._vars.values():
            if var.component_key == component_key and _ci(var.variable) == name:
                return var.actual().lower() == "true"
        return False


def _limits(var: Variable, number: float) -> str | None:
    if var.min_limit is not None and number < var.min_limit:
        return f"below {var.min_limit:g}"
    if var.max_limit is not None and number > var.max_limit:
        return f"above {var.max_limit:g}"
    return None


def _selects(selector: dict[str, Any], var: Variable) -> bool:
    """Whether a GetReport ComponentVariableType (camelCase) names ``var``."""
    component = selector.get("component") or {}
    if _ci(str(component.get("name", ""))) != _ci(var.component):
        return False
    if component.get("instance") is not None and _ci(component["instance"]) != _ci(
        var.component_instance
    ):
        return False
    evse = component.get("evse")
    if evse is not None:
        if evse.get("id") != var.evse:
            return False
        if evse.get("connectorId") is not None and evse["connectorId"] != var.connector:
            return False
    variable = selector.get("variable")
    if variable is None:
        return True
    if _ci(str(variable.get("name", ""))) != _ci(var.variable):
        return False
    return variable.get("instance") is None or _ci(variable["instance"]) == _ci(var.instance)


# ==========================================================================================
# the station's variables
# ==========================================================================================


@dataclass
class StationFacts:
    """What the station's variables are made from."""

    station_id: str
    vendor: str
    model: str
    serial: str
    firmware: str
    evses: int
    security_profile: int
    heartbeat_interval: int = 60
    organization: str = "pile-interop"
    reset_evse: bool = False


def _ro(component: str, variable: str, value: str, kind: str = "string", **kw: Any) -> Variable:
    return Variable(component, variable, value, kind, READ_ONLY, **kw)


def _rw(component: str, variable: str, value: str, kind: str = "string", **kw: Any) -> Variable:
    return Variable(component, variable, value, kind, READ_WRITE, **kw)


def station_variables(facts: StationFacts) -> list[Variable]:
    """The station half's device model: ChargingStation, EVSE and Connector components and the
    controllers of blocks A, B and M."""
    avail = {"values_list": AVAILABILITY_STATES}
    seconds = {"unit": "s", "min_limit": 0}
    out = [
        _ro("ChargingStation", "AvailabilityState", "Available", "OptionList", **avail),
        _ro("ChargingStation", "Available", "true", "boolean"),
        _ro("ChargingStation", "Problem", "false", "boolean"),
        _ro("ChargingStation", "Model", facts.model),
        _ro("ChargingStation", "VendorName", facts.vendor),
        _ro("ChargingStation", "SerialNumber", facts.serial),
        _ro("ChargingStation", "SupplyPhases", "3", "integer"),
        # OCPPCommCtrlr (B, Part 2 Appendix)
        _rw(
            "OCPPCommCtrlr",
            "HeartbeatInterval",
            str(facts.heartbeat_interval),
            "integer",
            **seconds,
        ),
        _rw(
            "OCPPCommCtrlr",
            "NetworkConfigurationPriority",
            "1",
            "SequenceList",
            values_list=NETWORK_SLOTS,
        ),
        _rw("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "3", "integer", min_limit=1),
        _rw("OCPPCommCtrlr", "OfflineThreshold", "60", "integer", **seconds),
        _rw(
            "OCPPCommCtrlr",
            "MessageTimeout",
            "30",
            "integer",
            instance="Default",
            unit="s",
            min_limit=1,
        ),
        _rw(
            "OCPPCommCtrlr",
            "MessageAttempts",
            "3",
            "integer",
            instance="TransactionEvent",
            min_limit=1,
        ),
        _rw(
            "OCPPCommCtrlr",
            "MessageAttemptInterval",
            "10",
            "integer",
            instance="TransactionEvent",
            **seconds,
        ),
        _rw("OCPPCommCtrlr", "ResetRetries", "2", "integer", min_limit=0),
        _rw("OCPPCommCtrlr", "WebSocketPingInterval", "0", "integer", **seconds),
        _ro("OCPPCommCtrlr", "ActiveNetworkProfile", "1", "integer"),
        _ro("OCPPCommCtrlr", "QueueAllMessages", "false", "boolean"),
        # SecurityCtrlr (A)
        _ro("SecurityCtrlr", "SecurityProfile", str(facts.security_profile), "integer"),
        # dataType string: 2.0.1's DataEnumType has no passwordString (2.1 added it)
        Variable("SecurityCtrlr", "BasicAuthPassword", "", "string", WRITE_ONLY),
        _rw("SecurityCtrlr", "OrganizationName", facts.organization),
        _ro("SecurityCtrlr", "Identity", facts.station_id),
        _ro("SecurityCtrlr", "CertificateEntries", "0", "integer"),
        _ro("SecurityCtrlr", "AdditionalRootCertificateCheck", "false", "boolean"),
        _ro("SecurityCtrlr", "MaxCertificateChainSize", "10000", "integer"),
        # ClockCtrlr
        _ro("ClockCtrlr", "DateTime", "", "dateTime"),
        _rw("ClockCtrlr", "TimeSource", "Heartbeat", "SequenceList", values_list=TIME_SOURCES),
    ]
    # DeviceDataCtrlr (B06 / B07 / B08): small enough that reports come in several parts
    for instance, items in (("GetReport", 10), ("GetVariables", 4), ("SetVariables", 4)):
        out.append(
            _ro("DeviceDataCtrlr", "ItemsPerMessage", str(items), "integer", instance=instance)
        )
        out.append(_ro("DeviceDataCtrlr", "BytesPerMessage", "65000", "integer", instance=instance))
    out.append(_ro("DeviceDataCtrlr", "ConfigurationValueSize", str(VALUE_SIZE), "integer"))
    out.append(_ro("DeviceDataCtrlr", "ReportingValueSize", str(VALUE_SIZE), "integer"))
    out.append(_ro("DeviceDataCtrlr", "ValueSize", str(VALUE_SIZE), "integer"))
    for evse in range(1, facts.evses + 1):
        out += [
            _ro("EVSE", "AvailabilityState", "Available", "OptionList", evse=evse, **avail),
            _ro("EVSE", "Available", "true", "boolean", evse=evse),
            _ro("EVSE", "Power", "0", "decimal", evse=evse, unit="W", max_limit=22000),
            _ro("EVSE", "SupplyPhases", "3", "integer", evse=evse),
            _ro(
                "EVSE", "AllowReset", "true" if facts.reset_evse else "false", "boolean", evse=evse
            ),
            _ro(
                "Connector",
                "AvailabilityState",
                "Available",
                "OptionList",
                evse=evse,
                connector=1,
                **avail,
            ),
            _ro("Connector", "Available", "true", "boolean", evse=evse, connector=1),
            _ro("Connector", "ConnectorType", "cType2", evse=evse, connector=1),
            _ro("Connector", "SupplyPhases", "3", "integer", evse=evse, connector=1),
        ]
    return out


#: Characteristics of the standard variables the transaction half contributes:
#: (component, variable) → (dataType, valuesList)
_KNOWN: dict[tuple[str, str], tuple[str, tuple[str, ...] | None]] = {
    ("txctrlr", "txstartpoint"): ("MemberList", TX_POINTS),
    ("txctrlr", "txstoppoint"): ("MemberList", TX_POINTS),
    ("sampleddatactrlr", "txstartedmeasurands"): ("MemberList", MEASURANDS),
    ("sampleddatactrlr", "txupdatedmeasurands"): ("MemberList", MEASURANDS),
    ("sampleddatactrlr", "txendedmeasurands"): ("MemberList", MEASURANDS),
    ("aligneddatactrlr", "measurands"): ("MemberList", MEASURANDS),
    ("aligneddatactrlr", "txendedmeasurands"): ("MemberList", MEASURANDS),
    ("chargingstation", "availabilitystate"): ("OptionList", AVAILABILITY_STATES),
    ("evse", "availabilitystate"): ("OptionList", AVAILABILITY_STATES),
    ("connector", "availabilitystate"): ("OptionList", AVAILABILITY_STATES),
}
_SECONDS = ("interval", "timeout", "threshold", "duration", "lifetime")


def tx_variable(
    component: str, evse: int | None, variable: str, default: str, read_only: bool
) -> Variable:
    """A variable the transaction half contributes (``Evses.variables()`` tuple). A
    ``Connector`` component of an EVSE is its connector 1."""
    kind, values = _KNOWN.get((component.casefold(), variable.casefold()), (None, None))
    unit = None
    min_limit: float | None = None
    if kind is None:
        lowered = variable.casefold()
        if default.lower() in ("true", "false"):
            kind = DataEnumType.boolean.value
        elif _INTEGER.match(default):
            kind = DataEnumType.integer.value
            min_limit = 0
            if any(word in lowered for word in _SECONDS):
                unit = "s"
        elif _DECIMAL.match(default):
            kind = DataEnumType.decimal.value
        else:
            kind = DataEnumType.string.value
    return Variable(
        component,
        variable,
        default,
        kind,
        READ_ONLY if read_only else READ_WRITE,
        evse=evse,
        connector=1 if component.casefold() == "connector" and evse is not None else None,
        values_list=values,
        unit=unit,
        min_limit=min_limit,
    )
