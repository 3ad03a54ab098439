from django.contrib import admin

from assessment.forecasts.models import RotaSlot


@admin.register(RotaSlot)
class RotaSlotAdmin(admin.ModelAdmin):
    list_display = ("weekday", "slot", "seats")
    list_editable = ("seats",)
    list_filter = ("weekday",)
