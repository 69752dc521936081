"""The reference OCPP 1.6 station and Central System standalone (``serve-reference``): how
they are built and the commands they take at the terminal."""

from __future__ import annotations

from typing import Any

from pile_interop.ocpp.serve import Commands, Standalone

_COMMANDS = {
    "plug": ("plug_in", ["connector"]),
    "unplug": ("unplug", ["connector"]),
    "tag": ("present_id_token", ["id_token", "connector"]),
    "fault": ("raise_fault", ["connector", "error_code"]),
    "clear": ("clear_fault", ["connector"]),
    "lockfail": ("set_lock_failure", ["connector"]),
    "power": ("power_cycle", []),
    "offline": ("go_offline", []),
    "online": ("go_online", []),
    "settle": ("settle", []),
}
HELP = (
    "commands: plug N | unplug N | tag ID [N] | fault N [CODE] | clear N | lockfail N | "
    "power | offline | online | settle | status | quit"
)
#: the reference CSMS's operator actions (the same names as the actuator actions)
_CSMS_COMMANDS = {
    "start": ("remote_start", ["id_tag", "connector"]),
    "stop": ("remote_stop", ["transaction_id"]),
    "reset": ("reset", ["kind"]),
    "unlock": ("unlock", ["connector"]),
    "getconf": ("get_configuration", ["key"]),
    "setconf": ("change_configuration", ["key", "value"]),
    "avail": ("change_availability", ["connector", "availability"]),
    "clearcache": ("clear_cache", []),
    "register": ("set_registration", ["status"]),
    # the optional profiles (reference/csms_optional.py)
    "profile": ("set_charging_profile", ["connector", "purpose", "stack_level"]),
    "clearprofile": ("clear_charging_profile", ["profile_id"]),
    "composite": ("get_composite_schedule", ["connector", "duration"]),
    "sendlist": ("send_local_list", ["update_type"]),
    "listversion": ("get_local_list_version", []),
    "reserve": ("reserve_now", ["id_tag", "connector"]),
    "cancelres": ("cancel_reservation", ["reservation_id"]),
    "trigger": ("trigger_message", ["requested_message", "connector"]),
}
CSMS_HELP = (
    "commands: start TAG [N] | stop [TX] | reset Hard|Soft | unlock N | getconf [KEY] | "
    "setconf KEY VALUE | avail N Operative|Inoperative | clearcache | "
    "register Accepted|Pending|Rejected | profile N [PURPOSE [STACK]] | clearprofile [ID] | "
    "composite N [SECONDS] | sendlist [Full|Differential] | listversion | reserve TAG [N] | "
    "cancelres [ID] | trigger MESSAGE [N] | status | quit"
)
_INTEGER_ARGS = {
    "connector",
    "transaction_id",
    "stack_level",
    "profile_id",
    "duration",
    "reservation_id",
}

STATION_COMMANDS = Commands(_COMMANDS, HELP, frozenset(_INTEGER_ARGS))
CSMS_COMMANDS = Commands(_CSMS_COMMANDS, CSMS_HELP, frozenset(_INTEGER_ARGS))


def standalone_station(
    csms_url: str, station_id: str, connectors: int, time_scale: float, password: str | None
) -> Standalone:
    from pile_interop.ocpp.v16.reference.station import ReferenceStation

    station = ReferenceStation(
        csms_url, station_id, connectors=connectors, time_scale=time_scale, password=password
    )
    return Standalone.station(station, csms_url, STATION_COMMANDS)


def standalone_csms(
    listen: tuple[str, int], id_tags: dict[str, str], passwords: dict[str, str]
) -> Standalone:
    from pile_interop.ocpp.v16.reference.csms import ReferenceCsms

    csms: Any = ReferenceCsms(host=listen[0], port=listen[1], id_tags=id_tags, passwords=passwords)
    return Standalone.csms(csms, "CSMS", CSMS_COMMANDS)
