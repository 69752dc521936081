"""How a case's manual action happens ("EV driver plugs in the cable", "present a card").

The actions, their arguments and their prompt texts are the bench contract
(docs/actuators.md; the webhook's JSON Schema is ``webhook.schema.json`` next to this module).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: What each action means, for prompts and webhook receivers. ``{where}`` is the connector or
#: EVSE the action names ("connector 2", "EVSE 1 connector 2", or "the station").
DESCRIPTIONS = {
    # a charging station under test (OCPP 1.6 names `connector`, 2.0.1 `evse`)
    "plug_in": "Plug the EV cable into {where}",
    "unplug": "Unplug the EV from {where} (the cable out of the EV, and out of the station's "
    "socket if it is detachable)",
    "unplug_ev_side": "Unplug the cable at the EV side of {where} (it stays in the station's "
    "socket)",
    "unplug_station_side": "Take the cable out of the station's socket at {where} (its EV end "
    "is already unplugged)",
    "present_id_token": "Present id token {id_token!r} (RFID card) to the station{at}",
    "raise_fault": "Make {where} report a fault ({error_code})",
    "clear_fault": "Clear the fault on {where}",
    "set_lock_failure": "{lock}",
    "power_cycle": "Switch the station off and on again (power cycle)",
    "go_offline": "Disconnect the station from the network",
    "go_online": "Reconnect the station to the network",
    "send_data_transfer": "Make the station send a DataTransfer ({transfer})",
    "ev_suspend": "Make the EV at {where} suspend charging (it stops drawing energy, "
    "the station reports SuspendedEV)",
    "ev_resume": "Make the EV at {where} draw energy again (resume charging)",
    "set_external_limit": "Make the energy manager limit {ext_where} to {limit} {unit} (the "
    "station reports it: NotifyChargingLimit)",
    "clear_external_limit": "Make the energy manager lift its limit on {ext_where} (the "
    "station reports it: ClearedChargingLimit)",
    "settle": "End any running charging session, unplug every cable and clear faults",
    # a GB/T 27930 charger or BMS under test
    "insert_gun": "Insert the charging gun into the vehicle inlet",
    "remove_gun": "Remove the charging gun from the vehicle inlet",
    "press_stop": "Press the charger's stop button (the operator ends charging at the charger)",
    "vehicle_stop": "Make the vehicle end charging (the BMS stops: {stop_reason})",
    "emergency_stop": "Press the emergency stop button",
    "insulation_fault": "Make the insulation monitor report a fault",
    "pause": "Make the vehicle pause charging (BSM charge permit off)",
    "resume": "Make the vehicle resume charging (BSM charge permit on)",
    # operator actions in a CSMS under test (the suite plays its charging station)
    "remote_start": "In the CSMS, start a transaction remotely for id tag {id_tag!r} "
    "(RemoteStartTransaction{start_at}){with_profile}",
    "remote_stop": "In the CSMS, stop {transaction} remotely (RemoteStopTransaction)",
    "reset": "In the CSMS, reset the station ({kind} reset{of_evse})",
    "unlock": "In the CSMS, unlock {where} (UnlockConnector)",
    "get_configuration": "In the CSMS, read the station's configuration (GetConfiguration, "
    "keys {keys})",
    "change_configuration": "In the CSMS, set configuration key {key!r} to {value!r} "
    "(ChangeConfiguration)",
    "change_availability": "In the CSMS, make {where} {availability} (ChangeAvailability)",
    "clear_cache": "In the CSMS, clear the station's authorization cache (ClearCache)",
    "data_transfer": "In the CSMS, send a DataTransfer to the station ({transfer})",
    "update_password": "In the CSMS, give the station a new HTTP Basic password "
    "(1.6: ChangeConfiguration AuthorizationKey; 2.0.1: SetVariables "
    "SecurityCtrlr.BasicAuthPassword)",
    "set_registration": "In the CSMS, make it answer the station's next BootNotification with "
    "{status}",
    # operator actions of the optional profiles, both versions (1.6 connector / 2.0.1 evse;
    # trigger_message: below)
    "set_charging_profile": "In the CSMS, set a charging profile on {where}: {profile} "
    "(SetChargingProfile)",
    "clear_charging_profile": "In the CSMS, clear {clearing} (ClearChargingProfile)",
    "get_composite_schedule": "In the CSMS, ask for the composite schedule of {where} for "
    "{duration} s{in_unit} (GetCompositeSchedule)",
    "send_local_list": "In the CSMS, send the station a {update_type} local authorization "
    "list{list_version}{list_entries} (SendLocalList)",
    "get_local_list_version": "In the CSMS, ask the station for its local authorization list "
    "version (GetLocalListVersion)",
    "reserve_now": "In the CSMS, reserve {reserve_where} for {holder}{parent}, expiring "
    "{expiry} (ReserveNow)",
    "cancel_reservation": "In the CSMS, cancel {reservation} (CancelReservation)",
    # operator actions only OCPP 2.0.1 has
    "request_stop": "In the CSMS, stop {transaction} remotely (RequestStopTransaction)",
    "request_start": "In the CSMS, start a transaction remotely for id token {id_token!r} "
    "(RequestStartTransaction{start_at}{with_limit})",
    "get_variables": "In the CSMS, read {variables} (GetVariables)",
    "set_variables": "In the CSMS, set {variables} (SetVariables)",
    "get_base_report": "In the CSMS, ask the station for its {report_base} report (GetBaseReport)",
    "get_report": "In the CSMS, ask the station for a report of {report} (GetReport)",
    "trigger_message": "In the CSMS, make the station send a {requested_message}{on_evse} "
    "(TriggerMessage)",
    "set_network_profile": "In the CSMS, set network profile slot {slot} with security profile "
    "{security_profile} (SetNetworkProfile)",
    "install_certificate": "In the CSMS, install a {certificate_type} on the station "
    "(InstallCertificate)",
    "get_installed_certificates": "In the CSMS, list the station's installed certificates of "
    "{types} (GetInstalledCertificateIds)",
    "delete_certificate": "In the CSMS, delete {certificate} from the station (DeleteCertificate)",
    "get_transaction_status": "In the CSMS, ask the station about {transaction} "
    "(GetTransactionStatus)",
    "renew_station_certificate": "In the CSMS, make the station renew its certificate "
    "(TriggerMessage SignChargingStationCertificate, then sign its CSR)",
    # OCPP 2.0.1 Smart Charging (set / clear / composite: above, for both versions)
    "get_charging_profiles": "In the CSMS, ask for the charging profiles{of_purpose} on "
    "{where} (GetChargingProfiles)",
}

#: The actions a case's after-steps use to undo a main action: an after-step ``act`` is not
#: performed (nor prompted) when none of its main actions happened in the case.
RESTORES: dict[str, tuple[str, ...]] = {
    "unplug": ("plug_in",),
    "unplug_ev_side": ("plug_in",),
    "unplug_station_side": ("plug_in",),
    "remove_gun": ("insert_gun",),
    "go_online": ("go_offline",),
    "clear_fault": ("raise_fault",),
    "ev_resume": ("ev_suspend",),
    "resume": ("pause",),
    "cancel_reservation": ("reserve_now",),
    "clear_external_limit": ("set_external_limit",),
}


#: Keys of an action's ``args`` that are not arguments of the action but say where it comes
#: from: the case's own prompt text, the step's number and phase (before / main / after).
META_KEYS = ("prompt", "step", "phase")


def action_args(args: dict[str, Any]) -> dict[str, Any]:
    """``args`` without the :data:`META_KEYS`."""
    return {k: v for k, v in args.items() if k not in META_KEYS}


class ActuatorError(Exception):
    """The action could not be performed (or confirmed) in time: the case is an ``error``."""


class ActionUnsupported(ActuatorError):
    """The bench says it cannot do the action at all: the case is ``na``, not an ``error``."""


def restored_by(action: str) -> tuple[str, ...]:
    """The main actions an after-step ``action`` undoes (the action itself by default)."""
    return RESTORES.get(action, (action,))


def _where(args: dict[str, Any], default: str) -> str:
    evse, connector = args.get("evse"), args.get("connector")
    if evse is not None:
        return f"EVSE {evse}" + (f" connector {connector}" if connector is not None else "")
    if connector is not None:
        return "the station (connector 0)" if str(connector) == "0" else f"connector {connector}"
    return default


def _variables(items: Any) -> str:
    if not isinstance(items, list) or not items:
        return "the variables"
    names = []
    for item in items:
        if not isinstance(item, dict):
            names.append(str(item))
            continue
        component, variable = item.get("component", "?"), item.get("variable", "?")
        component = component.get("name", "?") if isinstance(component, dict) else component
        variable = variable.get("name", "?") if isinstance(variable, dict) else variable
        value = f" = {item['value']!r}" if "value" in item else ""
        names.append(f"{component}.{variable}{value}")
    return ", ".join(names)


def _derived(action: str, args: dict[str, Any]) -> dict[str, Any]:
    """The phrases a template names besides the action's own arguments."""
    tx = args.get("transaction_id")
    transaction = f"transaction {tx}" if tx not in (None, "") else "the running transaction"
    failing = args.get("failing", True) not in (False, "false", "False", 0)
    default = {
        "change_availability": "the station",
        **dict.fromkeys(
            (
                "set_charging_profile",
                "clear_charging_profile",
                "get_composite_schedule",
                "get_charging_profiles",
            ),
            "the whole station",
        ),
    }
    where = _where(args, default.get(action, "connector 1"))
    lock = (
        f"Make the cable lock of {where} fail (it will neither lock nor unlock)"
        if failing
        else f"Repair the cable lock of {where} (it locks and unlocks again)"
    )
    stop_reason = f"reason {args['reason']}" if args.get("reason") else "its own reason"
    report = args.get("component_variables") or args.get("criteria") or "the components"
    if isinstance(report, list):
        report = _variables(report)
    transfer = ", ".join(
        f"{label} {args[key]!r}"
        for key, label in (("vendor_id", "vendorId"), ("message_id", "messageId"), ("data", "data"))
        if args.get(key) is not None
    )
    return {
        "where": where,
        "transfer": transfer or "any vendorId",
        "at": f" at {_where(args, '')}" if ("evse" in args or "connector" in args) else "",
        "of_evse": f" of EVSE {args['evse']}" if args.get("evse") is not None else "",
        "on_evse": f" on EVSE {args['evse']}"
        if args.get("evse") is not None
        else f" for connector {args['connector']}"
        if args.get("connector") is not None
        else "",
        "start_at": (
            f" on EVSE {args['evse']}"
            if args.get("evse") is not None
            else f", connector {args['connector']}"
            if args.get("connector") is not None
            else ", no connector or EVSE given: leave the choice to the station"
        ),
        "transaction": transaction,
        "lock": lock,
        "stop_reason": stop_reason,
        "variables": _variables(args.get("variables")),
        "report": report,
        "availability": args.get("availability") or args.get("operational_status") or "?",
        "certificate": f"certificate {args['hash']}"
        if args.get("hash")
        else "the last installed certificate",
        "types": ", ".join(args["types"]) if isinstance(args.get("types"), list) else "any type",
        **_optional_phrases(args),
        **_smart_charging(args),
    }


def _smart_charging(args: dict[str, Any]) -> dict[str, Any]:
    """The phrases of the OCPP 2.0.1 Smart Charging actions (K) that 1.6 has no twin of."""
    evse = args.get("evse")
    ext_where = "the whole station" if evse is None else f"EVSE {evse}"
    if evse in (0, "0"):
        ext_where = "the whole station (EVSE 0)"
    return {
        "ext_where": ext_where,
        "with_limit": (
            f", with a TxProfile of {args['charging_limit']} {args.get('unit', 'A')}"
            if args.get("charging_limit") is not None
            else ""
        ),
        "of_purpose": f" of purpose {args['purpose']}" if args.get("purpose") else "",
    }


def _profile(spec: dict[str, Any], purpose: str = "TxDefaultProfile") -> str:
    """A charging profile the operator is asked to set, in words."""
    if isinstance(spec.get("profile"), dict):
        return f"the profile {spec['profile']}"
    parts = [
        str(spec.get("purpose", purpose)),
        f"stack level {spec.get('stack_level', 0)}",
        f"{spec.get('kind') or 'any'} kind",
        f"limit {spec.get('limit', 16)} {spec.get('unit', 'A')}",
    ]
    if spec.get("transaction_id") not in (None, ""):
        parts.append(f"for transaction {spec['transaction_id']}")
    if spec.get("profile_id") not in (None, ""):
        parts.append(f"id {spec['profile_id']}")
    return ", ".join(parts)


def _optional_phrases(args: dict[str, Any]) -> dict[str, Any]:
    """The phrases of the 1.6 optional profiles' operator actions."""
    criteria = [
        f"{label} {args[key]}"
        for key, label in (
            ("connector", "connector"),
            ("evse", "EVSE"),
            ("purpose", "purpose"),
            ("stack_level", "stack level"),
        )
        if args.get(key) not in (None, "")
    ]
    clearing = (
        f"charging profile {args['profile_id']}"
        if args.get("profile_id") not in (None, "")
        else "the charging profiles with " + ", ".join(criteria)
        if criteria
        else "every charging profile"
    )
    rid = args.get("reservation_id")
    remote = args.get("charging_profile")
    return {
        "profile": _profile(args),
        "with_profile": f" with a TxProfile: {_profile(remote, 'TxProfile')}"
        if isinstance(remote, dict)
        else "",
        "clearing": clearing,
        "in_unit": f" in {args['charging_rate_unit']}" if args.get("charging_rate_unit") else "",
        "update_type": args.get("update_type") or "Full",
        "list_version": f" version {args['version']}" if args.get("version") is not None else "",
        "list_entries": _list_entries(args),
        "parent": f" (parentIdTag {args['parent_id_tag']!r})" if args.get("parent_id_tag") else "",
        "holder": f"id token {args['id_token']!r}"
        if args.get("id_token") is not None
        else f"id tag {args.get('id_tag')!r}",
        "reserve_where": _reserve_where(args),
        "expiry": f"in {args['expiry_s']} s" if args.get("expiry_s") else "when it chooses",
        "reservation": f"reservation {rid}" if rid not in (None, "") else "the last reservation",
    }


def _list_entries(args: dict[str, Any]) -> str:
    """The entries of a SendLocalList the operator is asked for: 1.6 id tags, 2.0.1 id tokens
    to add and to remove."""
    tags = args.get("id_tags")
    tokens = args.get("id_tokens") or []
    removed = args.get("remove") or []
    if isinstance(tags, list):
        return " with " + ", ".join(map(str, tags))
    entries = (f" adding {', '.join(map(str, tokens))}" if tokens else "") + (
        f" removing {', '.join(map(str, removed))}" if removed else ""
    )
    return entries or " with every id tag it knows"


def _reserve_where(args: dict[str, Any]) -> str:
    """Where a ReserveNow reserves: a 2.0.1 EVSE or connector type, a 1.6 connector."""
    if args.get("evse") is not None:
        return f"EVSE {args['evse']}"
    if args.get("connector_type"):
        return f"a {args['connector_type']} connector"
    if "id_token" in args:
        return "any EVSE of the station"
    return _where(args, "the station (connector 0: any connector)")


def prompt_text(action: str, args: dict[str, Any]) -> str:
    """What the tester is asked: the case's own ``prompt`` (with the action and its parameters
    after it when they add something), else :func:`describe`."""
    text = describe(action, args)
    own = str(args.get("prompt") or "").strip()
    if not own or own == text:
        return text
    return f"{own} [{action}: {text}]"


def describe(action: str, args: dict[str, Any]) -> str:
    """The human text of ``action`` with its parameters (what a prompt shows the tester)."""
    template = DESCRIPTIONS.get(action, action.replace("_", " "))
    defaults = {
        "connector": 1,
        "error_code": "OtherError",
        "keys": "all",
        "kind": "Hard",
        "status": "Accepted",
        "report_base": "FullInventory",
        "requested_message": "?",
        "certificate_type": "CA certificate",
        "slot": "?",
        "security_profile": "?",
        "duration": 3600,
        "expiry_s": 3600,
        "unit": "A",
        "limit": "?",
    }
    args = action_args(args)
    try:
        return template.format(**{**defaults, **args, **_derived(action, args)})
    except (KeyError, IndexError, ValueError, AttributeError):
        return f"{action} {args}"


class Actuator(Protocol):
    name: str

    async def perform(self, action: str, args: dict[str, Any], timeout: float) -> None:
        """Make ``action`` happen within ``timeout`` real seconds or raise ActuatorError
        (ActionUnsupported when the bench cannot do it at all)."""
        ...

    async def settle(self, timeout: float) -> None:
        """Bring the SUT back to idle between cases (best effort, bounded)."""
        ...

    async def close(self) -> None: ...
