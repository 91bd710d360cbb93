from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Pipeline, PipelineVersion


class PipelineVersionInline(admin.TabularInline):
    model = PipelineVersion
    extra = 0
    fields = ("number", "message", "created_by", "created_at")
    readonly_fields = fields
    # Versions are immutable history: the admin shows them, it never edits them.
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Pipeline | None = None) -> bool:
        return False


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "current_version", "updated_at")
    search_fields = ("name", "owner__username")
    readonly_fields = ("current_version", "created_at", "updated_at")
    inlines = [PipelineVersionInline]
