from django.db import models


class LiveVersion(models.Model):
    """The change marker of one live topic ("u:12" a unit, "d:110106" a district, "c" the city,
    "p:7" one user), used when no Redis is configured. One row per topic, bumped after each commit
    that touched it; the live process reads the rows changed in the last seconds."""

    key = models.CharField(max_length=40, primary_key=True)
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "live_version"

    def __str__(self):
        return f"{self.key}@{self.version}"
