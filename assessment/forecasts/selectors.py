"""Reading the stored forecasts for a viewer: which area and week a request names (a clear 400 for an
unknown unit or a week outside the forecast), what is expected to rise, the weeks and the days, and the
staffing table. Scoped by hotline.access.forecast_area."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.forecasts import calendar
from assessment.forecasts.models import ForecastRun, RotaSlot, SlotForecast, WeekForecast
from districts.models import Division
from hotline import access, numbers
from hotline.errors import AccessDenied, DomainError
from hotline.models import Category, User


def latest_run() -> ForecastRun | None:
    return ForecastRun.objects.order_by("-computed_at", "-id").first()


@dataclass
class Area:
    district: Division | None
    street: Division | None

    @property
    def name(self) -> str:
        if self.street:
            return f"{self.district.name if self.district else ''} {self.street.name}".strip()
        return self.district.name if self.district else _("全市")

    def q(self) -> Q:
        if self.street:
            return Q(street_id=self.street.pk)
        if self.district:
            return Q(district_id=self.district.pk)
        return Q()

    def orders_query(self) -> dict:
        if self.street:
            return {"street": self.street.pk}
        if self.district:
            return {"district": self.district.pk}
        return {}


def _division(value, *, field: str, level: int) -> Division:
    pk = numbers.id_param(value, field=field)
    found = Division.objects.filter(pk=pk, level=level).select_related("parent").first() if pk else None
    if found is None:
        raise DomainError(_("未知的区或街道：%(value)s") % {"value": value}, code="unknown_unit")
    return found


def area_of(user: User, data) -> Area:
    """The area a request names (`district`, `street`: division ids), within what the user may see;
    by default the user's own. Unknown ids are a DomainError (400), another area AccessDenied (403)."""
    own_district, own_street = access.forecast_area(user)
    street = _division(data["street"], field="street", level=Division.Level.STREET) if data.get("street") else None
    district = (
        _division(data["district"], field="district", level=Division.Level.DISTRICT) if data.get("district") else None
    )
    if street is not None:
        if district is not None and street.parent_id != district.pk:
            raise DomainError(_("街道不属于所选的区。"), code="unknown_unit")
        district = street.parent
    if own_street is not None:
        if (street is not None and street.pk != own_street) or (district is not None and district.pk != own_district):
            raise AccessDenied()
        return Area(Division.objects.get(pk=own_district), Division.objects.get(pk=own_street))
    if own_district is not None:
        if district is not None and district.pk != own_district:
            raise AccessDenied()
        return Area(district or Division.objects.get(pk=own_district), street)
    return Area(district, street)


def week_of(run: ForecastRun, value: str | None) -> date:
    """The week a request names (any day of it, YYYY-MM-DD); by default next week. A clear
    DomainError before the history starts, for a past week, or beyond the horizon."""
    last = run.first_week + timedelta(weeks=run.weeks - 1)
    if not value:
        return min(run.first_week + timedelta(weeks=1), last)
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        raise DomainError(_("日期格式应为 YYYY-MM-DD。"), code="bad_week") from None
    week = calendar.week_start(day)
    if day < run.history_start:
        raise DomainError(
            _("%(day)s 早于历史数据起始日 %(start)s，没有预测。") % {"day": day, "start": run.history_start},
            code="before_history",
        )
    if week < run.first_week:
        raise DomainError(
            _("%(day)s 所在的周已经过去，预测从 %(first)s 起。") % {"day": day, "first": run.first_week},
            code="past_week",
        )
    if week > last:
        raise DomainError(
            _("%(day)s 超出预测范围（预测到 %(last)s 所在的周）。") % {"day": day, "last": last},
            code="beyond_horizon",
        )
    return week


def rise_rule(expected: float, recent: float) -> bool:
    """ "Expected to rise": the forecast reaches FORECAST_RISE_PERCENT of the recent weekly mean and
    FORECAST_RISE_MIN_ORDERS more orders."""
    return (
        expected >= recent * settings.FORECAST_RISE_PERCENT / 100
        and expected - recent >= settings.FORECAST_RISE_MIN_ORDERS
    )


def categories(run: ForecastRun, area: Area, week: date) -> list[dict]:
    """Per level-2 category in the area: expected orders in the week, the recent weekly mean, the
    same week last year; those expected to rise first, by how much."""
    rows = (
        WeekForecast.objects.filter(area.q(), run=run, week=week)
        .values("category_id")
        .annotate(expected=Sum("expected"), recent=Sum("recent"), last_year=Sum("last_year"))
        .order_by()
    )
    names = Category.objects.in_bulk({r["category_id"] for r in rows})
    last_year_week = week - timedelta(weeks=52)
    out = []
    for r in rows:
        category = names.get(r["category_id"])
        expected, recent = r["expected"] or 0.0, r["recent"] or 0.0
        out.append(
            {
                "category": category,
                "parent": category.parent if category else None,
                "expected": expected,
                "recent": recent,
                "change": expected - recent,
                "percent": round(100 * (expected - recent) / recent) if recent else None,
                "last_year": r["last_year"],
                "rising": rise_rule(expected, recent),
                "last_year_since": last_year_week,
                "last_year_until": last_year_week + timedelta(days=7),
            }
        )
    out.sort(key=lambda r: (not r["rising"], -r["change"]))
    return out


def weeks(run: ForecastRun, area: Area) -> list[dict]:
    rows = (
        WeekForecast.objects.filter(area.q(), run=run)
        .values("week")
        .annotate(expected=Sum("expected"), naive=Sum("naive"), last_year=Sum("last_year"))
        .order_by("week")
    )
    return list(rows)


def days(run: ForecastRun, total: float, week: date) -> list[dict]:
    """The week's expected orders spread over its days by China's day types (working day, weekend,
    statutory holiday), with the weights measured over the last half year."""
    dates = [week + timedelta(days=i) for i in range(7)]
    weights = [float(run.day_weights.get(str(calendar.day_type(d)), 1.0)) for d in dates]
    whole = sum(weights) or 1.0
    kinds = {calendar.WORKDAY: _("工作日"), calendar.OFF_DAY: _("休息日"), calendar.HOLIDAY: _("法定节假日")}
    return [
        {"day": d, "kind": kinds[calendar.day_type(d)], "expected": total * w / whole}
        for d, w in zip(dates, weights, strict=True)
    ]


def units(run: ForecastRun, area: Area, week: date) -> list[dict]:
    """The city's districts or a district's streets, ranked by their expected rise in the week."""
    if area.street:
        return []
    column = "street_id" if area.district else "district_id"
    rows = (
        WeekForecast.objects.filter(area.q(), run=run, week=week, **{f"{column}__isnull": False})
        .values(column)
        .annotate(expected=Sum("expected"), recent=Sum("recent"))
        .order_by()
    )
    names = dict(Division.objects.filter(pk__in=[r[column] for r in rows]).values_list("pk", "name"))
    out = [
        {
            "id": r[column],
            "name": names.get(r[column], ""),
            "expected": r["expected"],
            "recent": r["recent"],
            "change": r["expected"] - r["recent"],
            "param": "street" if area.district else "district",
        }
        for r in rows
    ]
    out.sort(key=lambda r: -r["change"])
    return out


def staffing_day(run: ForecastRun, value: str | None) -> date:
    last = run.first_day + timedelta(days=run.days - 1)
    if not value:
        return run.first_day
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        raise DomainError(_("日期格式应为 YYYY-MM-DD。"), code="bad_day") from None
    if day < run.history_start:
        raise DomainError(_("%(day)s 早于历史数据起始日 %(start)s。") % {"day": day, "start": run.history_start})
    if not run.first_day <= day <= last:
        raise DomainError(
            _("%(day)s 不在话务预测范围内（%(first)s 至 %(last)s）。")
            % {"day": day, "first": run.first_day, "last": last},
            code="beyond_horizon",
        )
    return day


def staffing(run: ForecastRun, day: date) -> list[dict]:
    """The day's half hours: expected calls, the seats Erlang C asks for and the rota's planned seats."""
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    slots = SlotForecast.objects.filter(run=run, starts_at__gte=start, starts_at__lt=start + timedelta(days=1))
    rota = dict(
        RotaSlot.objects.filter(weekday=day.weekday()).annotate(k=F("slot")).values_list("k", "seats").order_by()
    )
    out = []
    for s in slots.order_by("starts_at"):
        local = timezone.localtime(s.starts_at)
        k = local.hour * 2 + local.minute // 30
        planned = rota.get(k)
        out.append(
            {
                "starts_at": local,
                "expected": s.expected,
                "naive": s.naive,
                "seats": s.seats,
                "planned": planned,
                "short": (s.seats - planned) if planned is not None and planned < s.seats else 0,
            }
        )
    return out
