"""REST API of the handling capability: the inbox with tab counts, the order detail and every
action as a POST that validates with the same forms and calls the same transitions as the pages."""

from __future__ import annotations

from django import forms as djforms
from django.db.models import Prefetch
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from hotline import access
from hotline.pagination import CappedPageNumberPagination
from hotline.privacy import caller_view
from hotline.web.api import form_data, gate
from workorders.handling import selectors, services
from workorders.handling.forms import InboxFilterForm
from workorders.lifecycle import actions
from workorders.lifecycle.machinery import EVENT_LABELS
from workorders.models import OrderEvent, OrderRequest, Whistle, WorkOrder


class OrderListSerializer(serializers.ModelSerializer):
    # plain strings in the schema: enums named "state"/"result" would clash with other apps' enums
    state = serializers.CharField(
        read_only=True, help_text="dispatched / signed / return_requested / parked / closed / completed"
    )
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    lead_unit_name = serializers.CharField(source="lead_unit.name", read_only=True)
    section_name = serializers.CharField(source="section.name", read_only=True, default=None)
    clock = serializers.SerializerMethodField()

    class Meta:
        model = WorkOrder
        fields = [
            "id",
            "number",
            "title",
            "state",
            "state_display",
            "category",
            "category_name",
            "request_type",
            "tier",
            "lead_unit",
            "lead_unit_name",
            "street",
            "community",
            "district",
            "round",
            "duplicate_count",
            "section",
            "section_name",
            "assignee",
            "internal_due_at",
            "dispatched_at",
            "response_deadline",
            "resolution_deadline",
            "responded_at",
            "closed_at",
            "clock",
        ]

    def get_clock(self, obj) -> dict:
        request = self.context.get("request")
        c = selectors.clock_of(obj, self.context.get("now"), user=getattr(request, "user", None))
        return {
            "which": c.which,
            "css": c.css,
            "label": c.label,
            "remaining_seconds": int(c.remaining.total_seconds()) if c.remaining is not None else None,
        }


class OrderEventSerializer(serializers.ModelSerializer):
    kind_display = serializers.SerializerMethodField()
    actor_name = serializers.CharField(source="actor.display_name", default=None, read_only=True)
    actor_unit_name = serializers.CharField(source="actor_unit.name", default=None, read_only=True)
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = OrderEvent
        fields = [
            "id",
            "at",
            "kind",
            "kind_display",
            "actor",
            "actor_name",
            "actor_unit",
            "actor_unit_name",
            "from_state",
            "to_state",
            "round",
            "note",
            "data",
            "attachments",
        ]

    def get_kind_display(self, obj) -> str:
        return str(EVENT_LABELS.get(obj.kind, obj.kind))

    def get_attachments(self, obj) -> list[dict]:

        return [
            {
                "id": a.pk,
                "name": a.name,
                "size": a.size,
                "content_type": a.content_type,
                "url": reverse("order-attachment", args=[a.pk]),
            }
            for a in obj.attachments.all()
        ]


class WhistleSerializer(serializers.ModelSerializer):
    to_unit_name = serializers.CharField(source="to_unit.name", read_only=True)
    # plain strings: their enums would clash by name with other "state"/"level" enums in the schema
    level = serializers.CharField(read_only=True, help_text="daily / hard / emergency")
    state = serializers.CharField(read_only=True, help_text="open / reported")

    class Meta:
        model = Whistle
        fields = [
            "id",
            "to_unit",
            "to_unit_name",
            "level",
            "reason",
            "report_by",
            "state",
            "created_at",
            "reported_at",
            "report_note",
        ]


class RequestSerializer(serializers.ModelSerializer):
    state = serializers.CharField(read_only=True, help_text="pending / approved / rejected")

    class Meta:
        model = OrderRequest
        fields = [
            "id",
            "kind",
            "state",
            "unit",
            "requested_at",
            "reason_code",
            "reason",
            "requested_deadline",
            "decided_at",
            "ruling",
            "reroute_unit",
        ]


class OrderDetailSerializer(OrderListSerializer):
    result = serializers.CharField(read_only=True, help_text="resolved / partly / unresolved")
    caller_phone = serializers.SerializerMethodField()
    caller_name = serializers.SerializerMethodField()
    confidential = serializers.BooleanField(source="call.confidential", read_only=True)
    caller_note = serializers.SerializerMethodField(help_text="保密工单: why the caller is not shown")
    description = serializers.CharField(source="call.description", read_only=True)
    address = serializers.SerializerMethodField()
    events = OrderEventSerializer(many=True, read_only=True)
    whistles = WhistleSerializer(many=True, read_only=True)
    requests = RequestSerializer(many=True, read_only=True)
    participants = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    class Meta(OrderListSerializer.Meta):
        fields = [
            *OrderListSerializer.Meta.fields,
            "caller_phone",
            "caller_name",
            "confidential",
            "caller_note",
            "description",
            "address",
            "merged_into",
            "parent_call",
            "result",
            "result_note",
            "action_taken",
            "responded_in_time",
            "parked_until",
            "events",
            "whistles",
            "requests",
            "participants",
            "actions",
        ]

    def _caller(self, obj):
        # 保密工单: one view of the caller per viewer (hotline.privacy.caller_view)
        if getattr(obj, "_caller_view", None) is None:
            obj._caller_view = caller_view(self.context["request"].user, obj.call, obj.address)
        return obj._caller_view

    def get_caller_phone(self, obj) -> str:
        return self._caller(obj).phone

    def get_caller_name(self, obj) -> str:
        return self._caller(obj).name

    def get_caller_note(self, obj) -> str:
        return self._caller(obj).note

    def get_address(self, obj) -> str:
        return self._caller(obj).address

    def get_participants(self, obj) -> list[dict]:
        return [
            {"unit": p.unit_id, "unit_name": p.unit.name, "role": p.role}
            for p in obj.participants.select_related("unit")
        ]

    def get_actions(self, obj) -> list[str]:
        return selectors.available_actions(obj, self.context["request"].user)


def _form_serializer(name: str):
    """An OpenAPI description of an action's form (the form itself validates)."""
    form_class = actions.form_class(name)
    fields = {}
    for fname, f in form_class.base_fields.items():
        kw = {"required": f.required, "help_text": str(f.label or "")}
        if isinstance(f, djforms.ModelMultipleChoiceField):
            fields[fname] = serializers.ListField(child=serializers.IntegerField(), **kw)
        elif isinstance(f, djforms.ModelChoiceField | djforms.IntegerField):
            fields[fname] = serializers.IntegerField(**kw)
        elif isinstance(f, djforms.ChoiceField):
            values = " / ".join(str(v) for v, _label in f.choices)
            fields[fname] = serializers.CharField(**{**kw, "help_text": f"{kw['help_text']}: {values}"})
        elif isinstance(f, djforms.DateTimeField):
            fields[fname] = serializers.DateTimeField(**kw)
        elif isinstance(f, djforms.DateField):
            fields[fname] = serializers.DateField(**kw)
        else:
            fields[fname] = serializers.CharField(**kw)
    if name == "note":
        fields["files"] = serializers.ListField(child=serializers.FileField(), required=False)
    return inline_serializer(f"OrderAction_{name}", fields)


ActionResult = inline_serializer(
    "OrderActionResult", {"ok": serializers.BooleanField(), "order": OrderListSerializer()}
)


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders in the user's inbox (`tab=`), scoped by hotline.access; actions under
    /orders/{id}/<action>/."""

    queryset = WorkOrder.objects.none()
    serializer_class = OrderListSerializer
    pagination_class = CappedPageNumberPagination  # a street's closed tab grows every year: count to the cap
    permission_classes = [gate(access.Cap.ORDERS)]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filter_backends = []
    lookup_value_regex = r"[0-9]+"  # /orders/abc/sign/ is a 404, not a lookup

    def get_serializer_class(self):
        return OrderDetailSerializer if self.action == "retrieve" else OrderListSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def _filters(self):
        # The list asks twice (the rows, then the tab counts): validate the form once per request.
        if not hasattr(self, "_inbox_filters"):
            form = InboxFilterForm(self.request.query_params or None, user=self.request.user)
            self._inbox_filters = form.cleaned_data if form.is_valid() else {}
        return self._inbox_filters

    def get_queryset(self):

        if self.action == "list":
            tab = selectors.inbox_tab(self.request.query_params.get("tab"))
            filters = self._filters()
            return selectors.inbox_orders(
                self.request.user, tab=tab, filters=filters, sort=filters.get("sort") or "deadline"
            )
        return (
            access.visible_orders(self.request.user)
            .select_related("category", "lead_unit", "call", "tier", "section")
            .prefetch_related(
                # the history in the order it was written (ids follow the row lock; `at` may not)
                Prefetch("events", queryset=OrderEvent.objects.order_by("id")),
                "events__attachments",
                "events__actor",
                "events__actor_unit",
            )
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("tab", str, enum=selectors.TAB_NAMES, description="inbox tab (default to_sign)"),
            OpenApiParameter("category", int),
            OpenApiParameter("community", int),
            OpenApiParameter("request_type", str),
            OpenApiParameter("tier", int),
            OpenApiParameter("date_from", str, description="YYYY-MM-DD"),
            OpenApiParameter("date_to", str),
            OpenApiParameter("q", str),
            OpenApiParameter("sort", str, enum=["deadline", "-deadline", "-dispatched"]),
        ]
    )
    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        response.data["tab_counts"] = selectors.inbox_counts(request.user, filters=self._filters())
        return response

    @extend_schema(
        responses=inline_serializer(
            "InboxCounts",
            {
                **{t: serializers.IntegerField() for t in selectors.TAB_NAMES},
                "capped": serializers.ListField(
                    child=serializers.ChoiceField(choices=selectors.TAB_NAMES),
                    help_text="tabs whose count stopped at the list cap (there are more)",
                ),
            },
        )
    )
    @action(detail=False, methods=["get"], url_path="counts")
    def counts(self, request):
        return Response(selectors.inbox_counts(request.user, filters=self._filters()))

    def _act(self, request, pk, name):
        order = selectors.order_for(request.user, pk)
        if order is None:
            raise Http404
        form = services.action_form(name, order, form_data(request, actions.form_class(name)), prefix=None)
        if not form.is_valid():
            return Response(
                {"detail": str(_("请检查填写的内容。")), "code": "invalid", "errors": form.errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        services.order_perform(
            order=order, action=name, acting_user=request.user, form=form, files=request.FILES.getlist("files")
        )
        # Read back through the scope, like the page: a return ruling may have moved the order out
        # of the actor's sight.
        order = selectors.order_for(request.user, order.pk)
        context = {"now": timezone.now(), "request": request}
        data = OrderListSerializer(order, context=context).data if order is not None else None
        return Response({"ok": True, "order": data})


def _make_action(name):
    def handler(self, request, pk=None):
        return self._act(request, int(pk), name)

    handler.__name__ = f"act_{name}"
    handler.__doc__ = f"{actions.ACTIONS[name].label}"
    handler = action(detail=True, methods=["post"], url_path=name.replace("_", "-"), url_name=f"act-{name}")(handler)
    return extend_schema(
        request=_form_serializer(name), responses=ActionResult, summary=str(actions.ACTIONS[name].label)
    )(handler)


for _name in actions.ORDER_ACTIONS:
    setattr(OrderViewSet, f"act_{_name}", _make_action(_name))
