"""``python -m trio_openai`` runs the ``trio-openai`` command."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
