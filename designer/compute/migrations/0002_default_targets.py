"""The targets every deployment starts with: `local` (processes on this machine) and
`docker` (containers of the default environment). Their limits stay empty, so the
deployment's settings apply until an admin sets them."""
from django.db import migrations


def seed(apps, schema_editor):
    Environment = apps.get_model("compute", "Environment")
    ComputeTarget = apps.get_model("compute", "ComputeTarget")
    default, _ = Environment.objects.get_or_create(
        name="default", defaults={"description": "What the built-in modules need."}
    )
    ComputeTarget.objects.get_or_create(
        name="local", defaults={"backend": "local", "description": "Processes on the machine running Atelier."}
    )
    ComputeTarget.objects.get_or_create(
        name="docker",
        defaults={
            "backend": "docker", "environment": default,
            "description": "Containers on the Docker engine: no network, read-only, limited.",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("compute", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
