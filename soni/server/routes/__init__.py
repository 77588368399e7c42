"""The HTTP routes, one router per concern; `create_app` includes them all."""

from soni.server.routes import conversations, probes

ROUTERS = (conversations.router, probes.router)

__all__ = ["ROUTERS"]
