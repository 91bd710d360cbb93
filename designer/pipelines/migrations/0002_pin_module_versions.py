"""Saved versions record the module version of each node (saves do so from now on).

Until then a node named no version, which means the newest: once a module changes, such a
node would be handed to the new version with the old version's params and behaviour
expected. Every built-in module was at version 1 when these versions were saved, so their
nodes are pinned to 1 and migrate from there. Nodes of module packs are left as they are:
which of their versions was current then is not known here.
"""
from django.db import migrations

# The built-in modules as they were before any of them reached version 2.
BUILTIN_AT_VERSION_1 = frozenset({
    "import_data", "enter_data_manually", "export_data", "convert_to_csv",
    "select_columns", "edit_metadata", "clean_missing_data", "normalize_data", "split_data", "join_data",
    "apply_sql_transformation", "apply_transformation", "execute_python_script",
    "linear_regression", "boosted_decision_tree_regression", "decision_forest_regression",
    "two_class_logistic_regression", "two_class_boosted_decision_tree", "two_class_decision_forest",
    "multiclass_logistic_regression", "multiclass_decision_forest", "kmeans_clustering",
    "train_model", "score_model", "evaluate_model", "cross_validate_model", "train_clustering_model",
    "assign_data_to_clusters", "summarize_data",
})


def pin(apps, schema_editor):
    PipelineVersion = apps.get_model("pipelines", "PipelineVersion")
    for version in PipelineVersion.objects.iterator():
        nodes = (version.document or {}).get("nodes") or {}
        changed = False
        for node in nodes.values():
            if isinstance(node, dict) and "version" not in node and node.get("module") in BUILTIN_AT_VERSION_1:
                node["version"] = 1
                changed = True
        if changed:
            version.save(update_fields=["document"])


class Migration(migrations.Migration):
    dependencies = [("pipelines", "0001_initial")]
    operations = [migrations.RunPython(pin, migrations.RunPython.noop)]
