"""`manage.py create_secret_key`: the secret key of the embedded default, kept in a file."""
from __future__ import annotations

import os
import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the secret key file under the data dir (read when DJANGO_SECRET_KEY is unset) unless it "
        "exists, so that the key, and everyone's sign-in, outlives a restart. `make run` does this."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        path = settings.SECRET_KEY_FILE
        if os.environ.get("DJANGO_SECRET_KEY"):
            self.stdout.write("DJANGO_SECRET_KEY is set: it is the secret key, the file is not used")
            return
        if path.exists():
            return
        # Written whole under another name, then linked into place: a server starting
        # meanwhile reads a complete key or none, and a key made by someone else first stays.
        staging = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as out:
                out.write(secrets.token_urlsafe(50))
                out.flush()
                os.fsync(out.fileno())
            os.link(staging, path)
            self.stdout.write(f"Created the secret key in {path} (keep it secret; back it up with the data)")
        except FileExistsError:
            pass
        finally:
            staging.unlink(missing_ok=True)
