"""A faithful local emulator of the COS / CI content-moderation API (work in progress)."""
