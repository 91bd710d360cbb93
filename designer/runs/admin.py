from django.contrib import admin

from .models import Run, StepRun


class StepRunInline(admin.TabularInline):
    model = StepRun
    extra = 0
    fields = ("node", "module", "status", "reused", "duration_s", "compute")
    readonly_fields = fields


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("pipeline_name", "status", "source", "created_by", "created_at")
    list_filter = ("status", "source")
    search_fields = ("pipeline_name",)
    inlines = [StepRunInline]
