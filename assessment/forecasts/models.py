"""Stored forecasts: one run (nightly) of weekly orders per series and calls per half hour, and the
rota the seats needed are shown beside."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ForecastRun(models.Model):
    computed_at = models.DateTimeField(_("计算时间"), db_index=True)
    method = models.CharField(_("方法"), max_length=80)
    history_start = models.DateField(_("历史数据起始"))
    first_week = models.DateField(_("首个预测周"))  # a Monday: the current week when computed
    weeks = models.PositiveSmallIntegerField(_("预测周数"))
    first_day = models.DateField(_("话务预测首日"))
    days = models.PositiveSmallIntegerField(_("话务预测天数"))
    # relative daily volume by China's day type (working day, weekend, statutory holiday): a week's
    # forecast is spread over its days by these weights
    day_weights = models.JSONField(_("日权重"), default=dict)
    handle_seconds = models.FloatField(_("平均处理时长（秒）"))
    handle_measured = models.BooleanField(_("处理时长为实测"), default=False)

    class Meta:
        verbose_name = _("预测批次")
        verbose_name_plural = _("预测批次")

    def __str__(self) -> str:
        return f"{self.computed_at:%Y-%m-%d %H:%M} {self.method}"


class WeekForecast(models.Model):
    """Expected orders of one level-2 category in one street (or a district's orders without a
    street) in one week. Districts, the city and level-1 categories are sums of these rows."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="weeks_rows")
    district = models.ForeignKey("districts.Division", on_delete=models.CASCADE, related_name="+")
    street = models.ForeignKey("districts.Division", null=True, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("hotline.Category", on_delete=models.CASCADE, related_name="+")
    week = models.DateField()
    expected = models.FloatField()
    naive = models.FloatField()  # the seasonal-naive baseline: the same week a year earlier
    recent = models.FloatField()  # mean weekly orders over the 4 weeks before the run
    last_year = models.IntegerField(null=True)  # orders in the same week a year earlier

    class Meta:
        indexes = [
            models.Index(fields=["run", "district", "week"], name="forecast_week_district"),
            models.Index(fields=["run", "street", "week"], name="forecast_week_street"),
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.expected:.1f}"


class SlotForecast(models.Model):
    """Expected calls in one half hour, and the seats Erlang C asks for."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField()
    expected = models.FloatField()
    naive = models.FloatField()  # the same half hour a week earlier
    seats = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["run", "starts_at"], name="forecast_slot_time")]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} {self.expected:.1f}"


class RotaSlot(models.Model):
    """The center's planned seats per weekday and half hour (edited in the admin)."""

    weekday = models.PositiveSmallIntegerField(_("星期"), choices=[(i, str(i + 1)) for i in range(7)])
    slot = models.PositiveSmallIntegerField(_("半小时序号"), help_text=_("0 = 00:00–00:30 … 47 = 23:30–24:00"))
    seats = models.PositiveIntegerField(_("排班坐席"))

    class Meta:
        verbose_name = _("排班")
        verbose_name_plural = _("排班")
        constraints = [models.UniqueConstraint(fields=["weekday", "slot"], name="rota_slot_unique")]
        ordering = ["weekday", "slot"]

    def __str__(self) -> str:
        return f"{self.weekday + 1} {self.slot // 2:02d}:{30 * (self.slot % 2):02d} × {self.seats}"
