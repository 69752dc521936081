"""OCPP 1.6J: its dialect, the suite's mock CSMS and mock station, and the reference station and
Central System (``reference``)."""
