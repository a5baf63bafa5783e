"""What the client and the emulator share on the wire: the request signature and the XML codec.

Both sides import this package and nothing else of each other: it knows nothing of aiohttp,
of sessions or of the emulator (``tests/test_layers.py`` holds it to that).
"""
