"""Test cases as data: the YAML model and loader, templates, named bounds, the case runner,
its step handlers and checks, and the negative-case generator. Imports no protocol engine."""
