"""What every layer shares: the scalable clock, configuration (device descriptor, profile),
verdicts, errors, the frame log, the link and case protocols, the run's events."""
