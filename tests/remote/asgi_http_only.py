"""An Atelier whose WebSockets are out of reach (say, a proxy that doesn't pass them):
`submit_pipeline` must still follow its runs, by polling the API."""
from channels.routing import ProtocolTypeRouter

from designer.asgi import django_asgi_app

application = ProtocolTypeRouter({"http": django_asgi_app})
