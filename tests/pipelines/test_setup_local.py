"""`setup_local`: the embedded default's own account and the samples as drafts."""
import io
import re

from django.contrib.auth import get_user_model
from django.core.management import call_command

from designer.pipelines.models import Pipeline
from designer.samples import sample_pipeline_files


def setup(**kw) -> str:
    out = io.StringIO()
    call_command("setup_local", stdout=out, **kw)
    return out.getvalue()


def test_creates_an_account_with_a_fresh_password_and_imports_the_samples(db):
    output = setup(username="ada")
    password = re.search(r"Sign in as 'ada' with the password '([^']+)'", output).group(1)
    user = get_user_model().objects.get(username="ada")
    assert user.check_password(password) and user.is_superuser
    assert len(password) >= 12
    assert Pipeline.objects.filter(owner=user).count() == len(sample_pipeline_files())
    assert "API token for scripts and the CLI: " in output

    again = setup(username="ada")
    # Run again: the password is neither reset nor shown, and no sample is duplicated.
    assert "with the password" not in again and "changepassword ada" in again
    assert get_user_model().objects.get(username="ada").check_password(password)
    assert Pipeline.objects.filter(owner=user).count() == len(sample_pipeline_files())


def test_two_people_get_different_passwords(db):
    first = re.search(r"password '([^']+)'", setup(username="a")).group(1)
    second = re.search(r"password '([^']+)'", setup(username="b")).group(1)
    assert first != second
