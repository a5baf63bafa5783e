"""An aiohttp web service moderating comments (synchronously) and images (asynchronously,
resumed by the service's callback): see :mod:`examples.webservice.app`."""
