"""The city's category tree (three levels, default urgency tiers) and the first dispatch catalogue.

Both are reference data the city center maintains in the admin afterwards. The rows live in
hotline/seeds.py, which the demo and the tests (a flushed database) call too."""

from django.db import migrations

from hotline.seeds import seed_categories


class Migration(migrations.Migration):
    dependencies = [
        ("hotline", "0004_dispatch_rules_knowledge_api_clients"),
        ("workorders", "0002_seed_urgency_tiers"),
    ]
    operations = [migrations.RunPython(seed_categories, migrations.RunPython.noop)]
