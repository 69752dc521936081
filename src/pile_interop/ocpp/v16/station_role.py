"""The suite as the Central System of an OCPP 1.6 station: the shared role
(:class:`pile_interop.ocpp.station_role.StationUnderTest`) with the 1.6 configuration keys'
data (:mod:`pile_interop.ocpp.v16.config_keys`)."""

from __future__ import annotations

from pile_interop.ocpp import station_role
from pile_interop.ocpp.v16 import config_keys


class StationUnderTest(station_role.StationUnderTest):
    CONFIG_FEATURES = config_keys.FEATURES
    REQUIRED_CONFIG = config_keys.REQUIRED
