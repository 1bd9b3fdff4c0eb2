import pytest
from django.core.management import call_command

from patients.models import User
from tests.helpers import login_as

DEMO = "@demo.itbportal.test"


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--no-summaries", verbosity=0)


@pytest.fixture
def demo_login(client, demo):
    def sign_in(name: str):
        return login_as(client, User.objects.get(email=name + DEMO))

    return sign_in
