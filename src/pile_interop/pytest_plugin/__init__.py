"""The pytest plugin: YAML cases as pytest items, the ``pile_case`` marker, ``pile_env``."""
