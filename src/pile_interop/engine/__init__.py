"""One run against one SUT: the target resolver shared by the CLI and the pytest plugin, the
campaigns named by their SUT, the run loop and the report that emits the run's events."""
