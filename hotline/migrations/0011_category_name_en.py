"""Categories get an English name (shown when the UI is English); the seeded tree is filled here.

Only blank English names are filled: one edited in the admin is kept. The names live in
hotline/seeds.py, which the demo and the tests (a flushed database) call too."""

from django.db import migrations, models

from hotline.seeds import fill_category_names_en


class Migration(migrations.Migration):
    dependencies = [("hotline", "0010_category_keywords")]

    operations = [
        migrations.AddField(
            model_name="category",
            name="name_en",
            field=models.CharField(blank=True, default="", max_length=80, verbose_name="英文名称"),
        ),
        migrations.RunPython(fill_category_names_en, migrations.RunPython.noop),
    ]
