"""The HTTP server: a FastAPI app over one `RuntimeLoop`, served by uvicorn (`soni serve`)."""

from soni.server.app import create_app
from soni.server.host import Phase, RuntimeHost

__all__ = ["Phase", "RuntimeHost", "create_app"]
