from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Dataset, DatasetVersion


class DatasetVersionInline(admin.TabularInline):
    model = DatasetVersion
    extra = 0
    fields = ("number", "rows", "columns", "size_bytes", "format", "original_filename", "created_by", "created_at")
    readonly_fields = fields
    # Versions are immutable history (their tables live in the catalog): shown, never edited.
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Dataset | None = None) -> bool:
        return False


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "current_version", "updated_at")
    search_fields = ("name", "owner__username")
    readonly_fields = ("current_version", "created_at", "updated_at")
    inlines = [DatasetVersionInline]
