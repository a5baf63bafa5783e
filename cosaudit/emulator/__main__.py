"""``python -m cosaudit.emulator``: run the emulator until Ctrl-C."""

from cosaudit.emulator.cli import main

raise SystemExit(main())
