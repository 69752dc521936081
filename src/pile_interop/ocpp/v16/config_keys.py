"""OCPP 1.6 configuration keys as data: which are Required, and which a device descriptor
declares through a feature.

OCPP 1.6 §9.1 lists the Core profile's keys, each Required or Optional. A station that
answers ChangeConfiguration NotSupported for a Required key breaks the subsection that makes
it Required (a ``fail``); for an optional key the case is ``na``.
"""

from __future__ import annotations

#: the Core profile's Required keys (OCPP 1.6 §9.1) → the subsection that makes them Required
REQUIRED: dict[str, str] = {
    "AuthorizeRemoteTxRequests": "OCPP1.6 §9.1.3",
    "ClockAlignedDataInterval": "OCPP1.6 §9.1.5",
    "ConnectionTimeOut": "OCPP1.6 §9.1.6",
    "ConnectorPhaseRotation": "OCPP1.6 §9.1.7",
    "GetConfigurationMaxKeys": "OCPP1.6 §9.1.9",
    "HeartbeatInterval": "OCPP1.6 §9.1.10",
    "LocalAuthorizeOffline": "OCPP1.6 §9.1.12",
    "LocalPreAuthorize": "OCPP1.6 §9.1.13",
    "MeterValuesAlignedData": "OCPP1.6 §9.1.15",
    "MeterValuesSampledData": "OCPP1.6 §9.1.17",
    "MeterValueSampleInterval": "OCPP1.6 §9.1.19",
    "NumberOfConnectors": "OCPP1.6 §9.1.21",
    "ResetRetries": "OCPP1.6 §9.1.22",
    "StopTransactionOnEVSideDisconnect": "OCPP1.6 §9.1.23",
    "StopTransactionOnInvalidId": "OCPP1.6 §9.1.24",
    "StopTxnAlignedData": "OCPP1.6 §9.1.25",
    "StopTxnSampledData": "OCPP1.6 §9.1.27",
    "SupportedFeatureProfiles": "OCPP1.6 §9.1.29",
    "TransactionMessageAttempts": "OCPP1.6 §9.1.31",
    "TransactionMessageRetryInterval": "OCPP1.6 §9.1.32",
    "UnlockConnectorOnEVSideDisconnect": "OCPP1.6 §9.1.33",
}

#: keys that turn on an optional feature → the device-descriptor feature declaring it
FEATURES: dict[str, str] = {
    "LocalPreAuthorize": "local_pre_authorize",
    "AuthorizationCacheEnabled": "authorization_cache",
}
