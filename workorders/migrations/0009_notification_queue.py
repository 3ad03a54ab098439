# Outbound delivery is queued by a beat task (workorders.notifications.queue_outbound) that claims
# notifications whose queued_at is NULL.
import datetime

from django.db import migrations, models

# Rows from before the queue were delivered (or not) on commit: they get this constant, stored by
# PostgreSQL as the column's default for existing rows without rewriting the table; the default is
# dropped at once, so rows written afterwards start NULL (not yet looked at).
LOOKED_AT_BEFORE_THE_QUEUE = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class Migration(migrations.Migration):
    dependencies = [
        ("workorders", "0008_callback_queue_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="queued_at",
            field=models.DateTimeField(
                blank=True, null=True, default=LOOKED_AT_BEFORE_THE_QUEUE, verbose_name="外发排队时间"
            ),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("queued_at__isnull", True)), fields=["id"], name="notification_to_queue"
            ),
        ),
    ]
