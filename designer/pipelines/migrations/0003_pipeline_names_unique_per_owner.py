"""A user's pipelines have different names.

Pipelines that shared a name with an older pipeline of the same owner are renamed
"name (2)", "name (3)", … by a new version (versions are never changed), so the name in
the list and the name in the pipeline file stay the same."""
from django.db import migrations, models

NAME_MAX_LENGTH = 200


def new_names(pipelines: list[tuple[int, int, str]]) -> dict[int, str]:
    """For (id, owner, name) rows, oldest first: the new name of each pipeline whose name an
    older one of its owner has, numbered past every name the owner already uses."""
    taken = {(owner, name) for _, owner, name in pipelines}
    seen: set[tuple[int, str]] = set()
    renamed: dict[int, str] = {}
    for pk, owner, name in pipelines:
        if (owner, name) not in seen:
            seen.add((owner, name))
            continue
        number = 2
        while (owner, numbered := name[: NAME_MAX_LENGTH - len(f" ({number})")] + f" ({number})") in taken:
            number += 1
        taken.add((owner, numbered))
        renamed[pk] = numbered
    return renamed


def rename_duplicates(apps, schema_editor):
    Pipeline = apps.get_model("pipelines", "Pipeline")
    PipelineVersion = apps.get_model("pipelines", "PipelineVersion")
    rows = list(Pipeline.objects.order_by("created_at", "id").values_list("id", "owner_id", "name"))
    for pk, name in new_names(rows).items():
        pipeline = Pipeline.objects.get(pk=pk)
        current = PipelineVersion.objects.get(pipeline=pipeline, number=pipeline.current_version)
        pipeline.current_version += 1
        pipeline.name = name
        pipeline.save(update_fields=["current_version", "name"])
        PipelineVersion.objects.create(
            pipeline=pipeline, number=pipeline.current_version, document={**current.document, "name": name},
            message="renamed: another of your pipelines had the same name", created_by=None,
        )


class Migration(migrations.Migration):
    dependencies = [("pipelines", "0002_pin_module_versions")]

    operations = [
        migrations.RunPython(rename_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="pipeline",
            constraint=models.UniqueConstraint(fields=("owner", "name"), name="pipeline_name_unique_per_owner"),
        ),
    ]
