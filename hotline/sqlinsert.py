"""INSERT new model instances with a statement built once per model.

`Model.save()` and `bulk_create()` rebuild an InsertQuery and compile it for every row; on the
intake path (call, order, participants, event: hundreds a second) that was the largest single share
of the web worker's CPU. `insert(*objs)` writes the same columns with the same values — each
field's own `pre_save(add=True)` (auto_now_add, defaults already on the instance) and
`get_db_prep_save()` (JSON, datetimes, foreign keys) — in one `INSERT … VALUES … RETURNING id`,
and marks the instances saved, as `save()` would.

It falls back to the ORM whenever the shortcut could differ from it: a model that overrides
`save()` (unless it declares `plain_insert_ok = True`: its override does nothing for a new row), a
pre_save/post_save receiver for the model, a primary key already set, an expression as a value,
a generated field or one with its own SQL placeholder, a model with inheritance or
`order_with_respect_to`, or a database that cannot return ids from an INSERT.
"""

from __future__ import annotations

from django.db import connections, router
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

_plans: dict[tuple[type[Model], str], tuple[str, list]] = {}


def _plan(model: type[Model], alias: str, rows: int) -> tuple[str, list] | None:
    key = (model, alias)
    plan = _plans.get(key)
    if plan is None:
        meta = model._meta
        connection = connections[alias]
        if meta.parents or meta.order_with_respect_to or not connection.features.can_return_columns_from_insert:
            return None
        if model.save is not Model.save and not getattr(model, "plain_insert_ok", False):
            return None
        if any(f.generated or hasattr(f, "get_placeholder") for f in meta.local_concrete_fields):
            return None
        if not meta.pk.auto_created and not getattr(meta.pk, "db_returning", False):
            return None
        fields = [f for f in meta.local_concrete_fields if f is not meta.pk and not f.generated]
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in fields)
        head = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES "
        plan = _plans[key] = (head, fields)
    head, fields = plan
    connection = connections[alias]
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    returning = f" RETURNING {connection.ops.quote_name(model._meta.pk.column)}"
    return head + ", ".join([row] * rows) + returning, fields


def insert(*objs: Model) -> None:
    """INSERT these new instances (all of one model) in one statement; afterwards they carry their
    ids and count as saved. Same result as calling `save()` on each, minus the per-row ORM work."""
    if not objs:
        return
    model = type(objs[0])
    alias = router.db_for_write(model, instance=objs[0])
    planned = None
    if (
        all(type(o) is model and o.pk is None and o._state.adding for o in objs)
        and not pre_save.has_listeners(model)
        and not post_save.has_listeners(model)
    ):
        planned = _plan(model, alias, len(objs))
    if planned is None:
        for obj in objs:
            obj.save(force_insert=True, using=alias)
        return
    sql, fields = planned
    connection = connections[alias]
    params = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="save")  # as save(): no unsaved relations
        for field in fields:
            value = field.pre_save(obj, True)
            if hasattr(value, "resolve_expression"):
                for o in objs:  # an expression needs the ORM's compiler
                    o.save(force_insert=True, using=alias)
                return
            params.append(field.get_db_prep_save(value, connection=connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # Both databases number the rows of one INSERT in VALUES order; the order RETURNING lists
        # them in is not promised, so pair them up by value.
        ids = sorted(row[0] for row in cursor.fetchall())
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = alias
