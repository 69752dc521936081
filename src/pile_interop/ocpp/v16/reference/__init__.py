"""The reference OCPP 1.6J charging station and Central System: SUTs the suite tests itself
against (the mutants in ``tests/mutants`` break them one defect at a time)."""
