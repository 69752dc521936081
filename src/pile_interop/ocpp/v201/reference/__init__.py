"""The reference OCPP 2.0.1 charging station and CSMS: SUTs the suite tests itself against
(the mutants in ``tests/mutants`` break them one defect at a time)."""
