from django.db.models import Count, Q, QuerySet

from districts.models import Division


def districts_with_counts() -> QuerySet:
    """The 16 districts with how many ranked streets/townships and communities each has."""
    return (
        Division.objects.filter(level=Division.Level.DISTRICT)
        .annotate(
            street_count=Count(
                "children",
                filter=Q(children__level=Division.Level.STREET) & ~Q(children__kind=Division.Kind.SPECIAL_ZONE),
                distinct=True,
            ),
            community_count=Count("children__children", distinct=True),
        )
        .order_by("code")
    )


def streets_of_district(district: Division) -> QuerySet:
    return (
        Division.objects.filter(parent=district, level=Division.Level.STREET)
        .annotate(community_count=Count("children"))
        .order_by("code")
    )
