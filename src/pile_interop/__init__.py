"""pile-interop: vehicle-pile interoperability and OCPP conformance test suite."""

from __future__ import annotations

__version__ = "0.1.0"
