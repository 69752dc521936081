"""Options every subcommand shares."""

from __future__ import annotations

import argparse


def add_verbose(parser: argparse.ArgumentParser) -> None:
    """``-v`` after the subcommand too (``pile-interop run -v …``), counted with the one before
    it (``args.verbose + args.verbose_after``)."""
    parser.add_argument(
        "-v", "--verbose", dest="verbose_after", action="count", default=0, help="more log output"
    )
