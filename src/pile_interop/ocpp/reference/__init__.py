"""What every version's reference SUTs share: the station base (connection, back-off, outbox,
boot and heartbeat loops), the CSMS base (server lifecycle), RPC helpers, the energy meter."""
