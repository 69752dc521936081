"""The reference OCPP 2.0.1 station and CSMS standalone (``serve-reference --ocpp 2.0.1``):
how they are built and the commands they take at the terminal."""

from __future__ import annotations

from typing import Any

from pile_interop.ocpp.serve import Commands, Standalone

#: the reference OCPP 2.0.1 station's manual actions (EVSEs instead of connectors)
_STATION201_COMMANDS = {
    "plug": ("plug_in", ["evse"]),
    "unplug": ("unplug", ["evse"]),
    "tag": ("present_id_token", ["id_token", "evse"]),
    "fault": ("raise_fault", ["evse"]),
    "clear": ("clear_fault", ["evse"]),
    "lockfail": ("set_lock_failure", ["evse"]),
    "suspend": ("ev_suspend", ["evse"]),
    "resume": ("ev_resume", ["evse"]),
    "power": ("power_cycle", []),
    "offline": ("go_offline", []),
    "online": ("go_online", []),
    "settle": ("settle", []),
    "limit": ("set_external_limit", ["limit", "evse"]),
    "unlimit": ("clear_external_limit", ["evse"]),
}
STATION201_HELP = (
    "commands: plug N | unplug N | tag ID [N] | fault N | clear N | lockfail N | suspend N | "
    "resume N | power | offline | online | settle | limit AMPS [N] | unlimit [N] | status | "
    "quit   (N: an EVSE id; limit: an energy manager's limit, 0 the station)"
)
#: the reference OCPP 2.0.1 CSMS's operator actions (docs/ocpp201.md, "Operator actions")
_CSMS201_COMMANDS = {
    "start": ("request_start", ["id_token", "evse"]),
    "stop": ("request_stop", ["transaction_id"]),
    "reset": ("reset", ["kind", "evse"]),
    "unlock": ("unlock", ["evse", "connector"]),
    "getvar": ("get_variables", ["name"]),
    "setvar": ("set_variables", ["name", "value"]),
    "report": ("get_base_report", ["report_base"]),
    "avail": ("change_availability", ["operational_status", "evse", "connector"]),
    "clearcache": ("clear_cache", []),
    "trigger": ("trigger_message", ["requested_message", "evse"]),
    "netprofile": ("set_network_profile", ["slot", "security_profile"]),
    "register": ("set_registration", ["status"]),
    "password": ("update_password", []),
    "installca": ("install_certificate", ["certificate_type"]),
    "certs": ("get_installed_certificates", []),
    "deleteca": ("delete_certificate", []),
    "txstatus": ("get_transaction_status", ["transaction_id"]),
    "renewcert": ("renew_station_certificate", []),
    "locallist": ("send_local_list", ["update_type"]),
    "listversion": ("get_local_list_version", []),
    "reserve": ("reserve_now", ["id_token", "evse"]),
    "unreserve": ("cancel_reservation", ["reservation_id"]),
    "profile": ("set_charging_profile", ["purpose", "limit", "evse"]),
    "profiles": ("get_charging_profiles", ["evse"]),
    "clearprofile": ("clear_charging_profile", ["profile_id"]),
    "composite": ("get_composite_schedule", ["evse", "duration"]),
}
CSMS201_HELP = (
    "commands: start TOKEN [EVSE] | stop [TX] | reset Immediate|OnIdle [EVSE] | unlock EVSE [C] | "
    "getvar COMP.VAR | setvar COMP.VAR VALUE | report FullInventory|ConfigurationInventory|"
    "SummaryInventory | avail Operative|Inoperative [EVSE [C]] | clearcache | trigger MSG [EVSE] | "
    "netprofile SLOT PROFILE | register Accepted|Pending|Rejected | password | installca [TYPE] | "
    "certs | deleteca | txstatus [TX] | renewcert | locallist Full|Differential | listversion | "
    "reserve TOKEN [EVSE] | unreserve [ID] | profile PURPOSE AMPS [EVSE] | profiles [EVSE] | "
    "clearprofile [ID] | composite EVSE [SECONDS] | status | quit"
)
#: 2.0.1 transaction ids are strings
_INTEGER_ARGS_201 = frozenset({"connector", "evse", "slot", "security_profile", "reservation_id"})


STATION_COMMANDS = Commands(_STATION201_COMMANDS, STATION201_HELP, frozenset({"evse"}))
CSMS_COMMANDS = Commands(_CSMS201_COMMANDS, CSMS201_HELP, _INTEGER_ARGS_201)


def standalone_station(
    csms_url: str, station_id: str, evses: int, time_scale: float, password: str | None
) -> Standalone:
    from pile_interop.ocpp.v201.reference.station import ReferenceStation

    station = ReferenceStation(
        csms_url, station_id, evses=evses, time_scale=time_scale, password=password
    )
    return Standalone.station(station, csms_url, STATION_COMMANDS)


def standalone_csms(
    listen: tuple[str, int], id_tags: dict[str, str], passwords: dict[str, str]
) -> Standalone:
    from pile_interop.ocpp.v201.reference.csms import ReferenceCsms

    csms: Any = ReferenceCsms(
        host=listen[0],
        port=listen[1],
        id_tags={token: {"status": status} for token, status in id_tags.items()},
        passwords=passwords,
    )
    return Standalone.csms(csms, "OCPP 2.0.1 CSMS", CSMS_COMMANDS)
