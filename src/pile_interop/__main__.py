from __future__ import annotations

from pile_interop.cli import main

raise SystemExit(main())
