"""The bench contract: how a manual or operator action reaches the SUT (a tester at a
terminal, a bench's HTTP API, or the embedded reference SUT). See ARCHITECTURE.md."""
