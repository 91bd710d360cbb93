import getpass
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token

from designer.engine.pipeline_file import load_pipeline
from designer.pipelines import selectors, services
from designer.samples import sample_pipeline_files


class Command(BaseCommand):
    help = (
        "Prepare the embedded default for the person running it: their own account (with a "
        "fresh random password, printed once) and the sample pipelines as drafts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=None, help="the account to create (default: your login name)")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="where the server will listen")

    @transaction.atomic
    def handle(self, *args, **options):
        username = options["username"] or getpass.getuser()
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            # No shared default password: a random one, shown to this person only.
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save()
        token, _ = Token.objects.get_or_create(user=user)

        existing = set(selectors.pipeline_list(user=user).values_list("name", flat=True))
        added = []
        for path in sample_pipeline_files():
            text = path.read_bytes()
            if load_pipeline(text).name not in existing:  # kept as the user left them otherwise
                added.append(services.pipeline_import(user=user, text=text).name)

        url = options["url"]
        self.stdout.write(f"\nAtelier is ready at {url}/  (API: {url}/api/, docs: {url}/api/docs/, admin: {url}/admin/)")
        if created:
            self.stdout.write(f"Sign in as {username!r} with the password {password!r} (shown only now).")
        else:
            self.stdout.write(f"Sign in as {username!r} (forgot the password? python manage.py changepassword {username})")
        self.stdout.write(f"API token for scripts and the CLI: {token.key}")
        if added:
            self.stdout.write(f"Sample pipelines added as drafts: {', '.join(added)}")
