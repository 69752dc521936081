"""The side the suite plays, per protocol and SUT role: how a case reaches its before-state.

A role sits between the scenario runner (generic steps) and a protocol engine: it knows what
"the station is connected, registered and idle" means for OCPP, or "the charger is idle and
the gun connected" for GB/T 27930.
"""
