"""The device-model requests of the reference 2.0.1 station: GetVariables / SetVariables
(B05, B06: ItemsPerMessage, attribute types, read-only and write-only variables, the password
and NetworkConfigurationPriority checks) and the reports (B07 GetBaseReport, B08 GetReport,
sent as NotifyReport parts of ItemsPerMessage entries).

:class:`DeviceModelHandlers` holds the default behaviour; every decision goes through the
station (``ReferenceStation``, typed as :class:`DeviceModelStation`), so that a mutant
overriding a hook there changes it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ocpp.charge_point import snake_to_camel_case
from ocpp.exceptions import OccurrenceConstraintViolationError
from ocpp.v201 import call, call_result
from ocpp.v201.enums import GenericDeviceModelStatusEnumType, SetVariableStatusEnumType

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.v201.reference.station_model import (
    READ_ONLY,
    WRITE_ONLY,
    DeviceModel,
    Variable,
)


class DeviceModelStation(Protocol):
    """What the device-model requests need from the station."""

    model: DeviceModel
    network_profiles: dict[int, dict[str, Any]]
    #: the scaled clock
    clock: Any
    log: logging.Logger
    station_id: str

    def _int_var(
        self, component: str, variable: str, default: int, *, instance: str | None = None
    ) -> int: ...
    def _check_items(self, count: int, instance: str) -> None: ...
    def defer(self, work: Callable[[], Awaitable[None] | None]) -> None: ...
    async def send(self, request: Any) -> Any: ...
    # -- hooks --
    def get_variable_result(self, item: dict[str, Any]) -> dict[str, Any]: ...
    def set_variable_status(self, var: Variable, value: str) -> tuple[str, str | None]: ...
    def apply_variable(self, var: Variable, value: str) -> None: ...
    def on_variable_changed(self, var: Variable) -> None: ...
    def password_status(self, value: str) -> str: ...
    def set_password(self, value: str) -> None: ...
    def priority_status(self, value: str) -> str | None: ...
    def profile_problem(self, level: int) -> str | None: ...
    def base_report_status(self, report_base: str) -> str: ...
    def base_report_variables(self, report_base: str) -> list[Variable]: ...
    def report_variables(
        self, selectors: list[dict[str, Any]], criteria: list[str]
    ) -> list[Variable]: ...
    def report_parts(
        self, request_id: int, variables: list[Variable]
    ) -> list[call.NotifyReport]: ...


class DeviceModelHandlers:
    """GetVariables, SetVariables, GetBaseReport, GetReport."""

    def __init__(self, station: DeviceModelStation) -> None:
        self.st = station

    def items_per_message(self, instance: str) -> int:
        return self.st._int_var("DeviceDataCtrlr", "ItemsPerMessage", 0, instance=instance)

    def check_items(self, count: int, instance: str) -> None:
        limit = self.items_per_message(instance)
        if limit and count > limit:
            # B06.FR.? / B05: more items than ItemsPerMessage → OccurrenceConstraintViolation
            raise OccurrenceConstraintViolationError(
                description=f"{count} items, ItemsPerMessage[{instance}] is {limit}"
            )

    # -- B05 / B06: GetVariables, SetVariables ------------------------------------------------

    async def get_variables(self, req: call.GetVariables) -> call_result.GetVariables:
        st = self.st
        items = [snake_to_camel_case(item) for item in req.get_variable_data]
        st._check_items(len(items), "GetVariables")
        return call_result.GetVariables(
            get_variable_result=[st.get_variable_result(item) for item in items]
        )

    def get_variable_result(self, item: dict[str, Any]) -> dict[str, Any]:
        st = self.st
        attribute = item.get("attributeType", "Actual")
        out: dict[str, Any] = {"component": item["component"], "variable": item["variable"]}
        if "attributeType" in item:
            out["attributeType"] = attribute
        found = st.model.lookup(item["component"], item["variable"])
        var = found.variable
        if var is None:
            out["attributeStatus"] = found.status
        elif attribute != "Actual":
            out["attributeStatus"] = "NotSupportedAttributeType"
        elif var.mutability == WRITE_ONLY:
            out["attributeStatus"] = "Rejected"
        else:
            size = st._int_var("DeviceDataCtrlr", "ReportingValueSize", 1000)
            out["attributeStatus"] = "Accepted"
            out["attributeValue"] = var.actual()[:size]
        return out

    async def set_variables(self, req: call.SetVariables) -> call_result.SetVariables:
        st = self.st
        items = [snake_to_camel_case(item) for item in req.set_variable_data]
        st._check_items(len(items), "SetVariables")
        results = []
        for item in items:
            attribute = item.get("attributeType", "Actual")
            value = str(item.get("attributeValue", ""))
            found = st.model.lookup(item["component"], item["variable"])
            var = found.variable
            info = None
            if var is None:
                status = found.status
            elif attribute != "Actual":
                status = SetVariableStatusEnumType.not_supported_attribute_type.value
            else:
                status, info = st.set_variable_status(var, value)
                if status in ("Accepted", "RebootRequired"):
                    st.apply_variable(var, value)
            result: dict[str, Any] = {
                "attributeStatus": status,
                "component": item["component"],
                "variable": item["variable"],
            }
            if "attributeType" in item:
                result["attributeType"] = attribute
            if info:
                result["attributeStatusInfo"] = {
                    "reasonCode": "InvalidValue",
                    "additionalInfo": info[:512],
                }
            results.append(result)
        return call_result.SetVariables(set_variable_result=results)

    def set_variable_status(self, var: Variable, value: str) -> tuple[str, str | None]:
        st = self.st
        if var.mutability == READ_ONLY:
            return "Rejected", "read-only"
        if var.component.casefold() == "securityctrlr" and var.variable == "BasicAuthPassword":
            status = st.password_status(value)
            return status, None if status == "Accepted" else "password of 16-40 characters"
        problem = st.model.problem(var, value)
        if problem is not None:
            return "Rejected", problem
        if (var.component, var.variable) == ("OCPPCommCtrlr", "NetworkConfigurationPriority"):
            problem = st.priority_status(value)
            if problem is not None:
                return "Rejected", problem
        if var.reboot_required:
            return "RebootRequired", None
        return "Accepted", None

    def apply_variable(self, var: Variable, value: str) -> None:
        st = self.st
        if var.mutability == WRITE_ONLY and var.variable == "BasicAuthPassword":
            st.set_password(value)
            return
        var.value = st.model.normalize(var, value)
        st.on_variable_changed(var)

    def priority_status(self, value: str) -> str | None:
        st = self.st
        for item in value.split(","):
            slot = int(item)
            profile = st.network_profiles.get(slot)
            if profile is None:
                return f"slot {slot} holds no network profile"
            problem = st.profile_problem(int(profile.get("securityProfile", 1)))
            if problem is not None:
                return f"slot {slot}: {problem}"
        return None

    # -- B07 / B08: reports -------------------------------------------------------------------

    async def get_base_report(self, req: call.GetBaseReport) -> call_result.GetBaseReport:
        st = self.st
        status = st.base_report_status(req.report_base)
        if status == GenericDeviceModelStatusEnumType.accepted:
            variables = st.base_report_variables(req.report_base)
            st.defer(lambda: self.send_report(req.request_id, variables))
        return call_result.GetBaseReport(status=status)

    async def get_report(self, req: call.GetReport) -> call_result.GetReport:
        st = self.st
        selectors = [snake_to_camel_case(item) for item in req.component_variable or []]
        st._check_items(len(selectors), "GetReport")
        variables = st.report_variables(selectors, list(req.component_criteria or []))
        if not variables:
            return call_result.GetReport(status=GenericDeviceModelStatusEnumType.empty_result_set)
        st.defer(lambda: self.send_report(req.request_id, variables))
        return call_result.GetReport(status=GenericDeviceModelStatusEnumType.accepted)

    async def send_report(self, request_id: int, variables: list[Variable]) -> None:
        st = self.st
        for part in st.report_parts(request_id, variables):
            if await st.send(part) is None:
                st.log.warning("%s: NotifyReport %d not answered", st.station_id, request_id)
                return

    def report_parts(self, request_id: int, variables: list[Variable]) -> list[call.NotifyReport]:
        st = self.st
        size = max(1, self.items_per_message("GetReport") or 10)
        generated = utc_iso(st.clock.now())
        chunks = [variables[i : i + size] for i in range(0, len(variables), size)] or [[]]
        return [
            call.NotifyReport(
                request_id=request_id,
                generated_at=generated,
                seq_no=seq,
                report_data=[var.report_data() for var in chunk] or None,
                tbc=seq < len(chunks) - 1,
            )
            for seq, chunk in enumerate(chunks)
        ]
