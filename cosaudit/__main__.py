"""``python -m cosaudit`` is the ``cosaudit`` command."""

from .cli import main

raise SystemExit(main())
