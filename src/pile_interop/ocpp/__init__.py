"""The version-neutral OCPP engine (WebSocket server and client, session, schema checks, the
version registry, roles, standalone serving) and one package per OCPP version (``v16``,
``v201``), each registering itself in :mod:`.dialects`."""
