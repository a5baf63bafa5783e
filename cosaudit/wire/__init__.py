"""What the client and the emulator share on the wire: the request signature, the XML codec, and
the scenes each kind of job takes (``scenes``).

Both sides import this package and nothing else of each other: it knows nothing of aiohttp,
of sessions or of the emulator (``tests/test_layers.py`` holds it to that).
"""
