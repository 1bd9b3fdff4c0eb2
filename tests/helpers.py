"""Test helpers shared by every test module.

Always sign test clients in through `login_as`: the security work makes staff pages require a
verified second factor, and this is the one place that knows how to satisfy it.
"""


def login_as(client, user):
    client.force_login(user)
    return client
