"""Personal API tokens are stored as digests from now on (hotline.accounts.tokens): replace each
stored key by its digest, so that every user's existing key keeps working and none can be read
back. Not reversible: a digest cannot be turned back into the key."""

import hashlib

from django.db import migrations


def hash_keys(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    for key in list(Token.objects.values_list("key", flat=True)):  # one per user: a small table
        digest = hashlib.sha256(key.encode()).hexdigest()[:40]  # api_auth.token_digest
        Token.objects.filter(key=key).update(key=digest)


class Migration(migrations.Migration):
    dependencies = [
        ("hotline", "0013_open311_public_id_and_location"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(hash_keys, migrations.RunPython.noop)]
