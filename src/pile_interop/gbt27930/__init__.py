"""GB/T 27930 charger ↔ BMS communication over CAN.

* :mod:`.codec` — encode/decode every message of GB/T 27930-2011/2015/2023 (category A) with
  the cantools databases shipped here (``gbt27930_<variant>.dbc``, generated from
  :mod:`.layout` by :mod:`.dbcgen`); :mod:`.ids` — 29-bit identifiers;
* :mod:`.transport` — J1939-21 RTS/CTS connection mode on asyncio over python-can, with fault
  injection; :mod:`.bus` — a python-can bus from ``virtual:<channel>``, ``udp_multicast``,
  ``socketcan:<if>`` or ``<interface>:<channel>``;
* :mod:`.recording` — every recording format a lab hands over (candump, analyser CSV / text
  exports, Vector ASC / BLF, PCAN trc, python-can CSV), streamed; :mod:`.capture` — frames
  reassembled and decoded; :mod:`.logcheck` — a recording judged offline (:mod:`.logjudge`,
  :mod:`.logrules`, :mod:`.logperiod`);
* :mod:`.peer`, :mod:`.charger`, :mod:`.bms`, :mod:`.periodic`, :mod:`.pair` — the state
  machines of both sides (the suite's mock peers and the reference SUTs);
* :mod:`.link` — the suite's view of the bus in a campaign; :mod:`.conformance` — what every
  message a SUT sends must satisfy.
"""
