"""ASGI entry point: HTTP through Django, WebSockets through Channels."""
import os
from functools import partialmethod

from daphne.http_protocol import WebRequest
from django.core.asgi import get_asgi_application

# daphne builds each request on Twisted's, which by default parses a multipart body into
# memory (about twelve times its size: a 30 MB upload took 350 MB) for an API daphne never
# uses. Django parses uploads itself, streaming files to disk. Twisted's request takes
# parsePOSTFormSubmission for this; daphne has no option that passes it.
WebRequest.__init__ = partialmethod(WebRequest.__init__, parsePOSTFormSubmission=False)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "designer.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from designer.realtime.routing import websocket_urlpatterns  # noqa: E402 (needs the apps loaded)
from designer.realtime.token_auth import TokenAuthMiddlewareStack  # noqa: E402
from designer.runs import dispatch  # noqa: E402

# ASGI servers load this module, management commands (migrate…) never do: a server process
# keeps the embedded runs going, its own and those of processes that stopped.
dispatch.serve()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The routes are Django path()s of ASGI apps, which Channels' stubs do not expect.
        "websocket": AllowedHostsOriginValidator(
            TokenAuthMiddlewareStack(URLRouter(websocket_urlpatterns))  # type: ignore[arg-type]
        ),
    }
)
