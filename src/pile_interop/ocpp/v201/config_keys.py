"""OCPP 2.0.1 configuration variables as data: which are Required, and which a device
descriptor declares through a feature.

OCPP 2.0.1 Part 2, Appendix 2 (Referenced Components and Variables) marks each variable a
functional block uses Required or not. A station that answers SetVariables UnknownComponent,
UnknownVariable or NotSupportedAttributeType for a Required one breaks that requirement (a
``fail``); for an optional one the case is ``na``.
"""

from __future__ import annotations

_APPENDIX = "OCPP2.0.1 Part 2 Appendix 2"

#: Required variables (``Component.Variable``; an instance is looked up without it too)
REQUIRED: dict[str, str] = {
    name: f"{_APPENDIX} {name} (Required)"
    for name in (
        "AlignedDataCtrlr.Interval",
        "AlignedDataCtrlr.Measurands",
        "AlignedDataCtrlr.TxEndedInterval",
        "AlignedDataCtrlr.TxEndedMeasurands",
        "AuthCtrlr.AuthorizeRemoteStart",
        "AuthCtrlr.LocalAuthorizeOffline",
        "AuthCtrlr.LocalPreAuthorize",
        "DeviceDataCtrlr.BytesPerMessage",
        "DeviceDataCtrlr.ItemsPerMessage",
        "OCPPCommCtrlr.FileTransferProtocols",
        "OCPPCommCtrlr.MessageAttemptInterval",
        "OCPPCommCtrlr.MessageAttempts",
        "OCPPCommCtrlr.MessageTimeout",
        "OCPPCommCtrlr.NetworkConfigurationPriority",
        "OCPPCommCtrlr.NetworkProfileConnectionAttempts",
        "OCPPCommCtrlr.OfflineThreshold",
        "OCPPCommCtrlr.ResetRetries",
        "OCPPCommCtrlr.UnlockOnEVSideDisconnect",
        "SampledDataCtrlr.TxEndedInterval",
        "SampledDataCtrlr.TxEndedMeasurands",
        "SampledDataCtrlr.TxStartedMeasurands",
        "SampledDataCtrlr.TxUpdatedInterval",
        "SampledDataCtrlr.TxUpdatedMeasurands",
        "SecurityCtrlr.OrganizationName",
        "SecurityCtrlr.SecurityProfile",
        "TxCtrlr.EVConnectionTimeOut",
        "TxCtrlr.StopTxOnEVSideDisconnect",
        "TxCtrlr.StopTxOnInvalidId",
        "TxCtrlr.TxStartPoint",
        "TxCtrlr.TxStopPoint",
    )
}

#: variables that turn on an optional feature → the device-descriptor feature declaring it
FEATURES: dict[str, str] = {
    "AuthCtrlr.LocalPreAuthorize": "local_pre_authorize",
    "AuthCacheCtrlr.Enabled": "authorization_cache",
}
