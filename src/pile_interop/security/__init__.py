"""Transport security for the OCPP links: a test PKI made at run time, TLS contexts for both
roles (the suite as CSMS or as charging station, and the reference SUTs)."""
