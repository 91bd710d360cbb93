from django import forms
from django.contrib import admin

from .backends import backend_registry
from .models import ComputeTarget, Environment


class ComputeTargetForm(forms.ModelForm):
    backend = forms.ChoiceField(choices=lambda: [(kind.name, kind.label) for kind in backend_registry()])

    class Meta:
        model = ComputeTarget
        fields = "__all__"


@admin.register(ComputeTarget)
class ComputeTargetAdmin(admin.ModelAdmin):
    form = ComputeTargetForm
    list_display = ("name", "backend", "capacity", "memory_mb", "cpus", "pids", "environment")
    list_filter = ("backend",)


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ("name", "with_r", "status", "image_tag", "built_at")
    list_filter = ("status",)
    readonly_fields = ("status", "image_tag", "build_log", "built_at")
