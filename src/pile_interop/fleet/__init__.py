"""Fleet mode: many lean simulated charging stations against one CSMS, judged and timed.

``behaviour`` (the YAML mix), ``station`` (one station's conversation), ``judge`` (what every
sampled CSMS answer must satisfy), ``stats`` (bounded figures: HdrHistogram latencies and a
timeline), ``thresholds`` (pass / fail), ``run`` (the fleet: ramp, events, live view),
``reference`` (the embedded reference CSMSs), ``report`` (``fleet.json`` and the HTML page),
``locust`` (the same fleet under Locust's master / worker mode).
"""
