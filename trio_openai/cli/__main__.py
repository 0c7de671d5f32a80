"""``python -m trio_openai.cli`` runs the ``trio-openai`` command."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
