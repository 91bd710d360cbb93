from django.contrib import admin

from .models import ComputeTarget, Environment


@admin.register(ComputeTarget)
class ComputeTargetAdmin(admin.ModelAdmin):
    list_display = ("name", "backend", "capacity", "memory_mb", "cpus", "pids", "environment")
    list_filter = ("backend",)


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "image_tag", "built_at")
    list_filter = ("status",)
    readonly_fields = ("status", "image_tag", "build_log", "built_at")
