"""OCPP 2.0.1 (also spoken as ``ocpp2.1``): its dialect, the suite's mock CSMS and mock
station, the roles where 2.0.1 differs, and the reference station and CSMS (``reference``)."""
