from indicators.spreadsheets import StrictResource
from plans.models import Plan, Task, Unit


class PlanResource(StrictResource):
    class Meta:
        model = Plan
        fields = ("title", "year", "decision")
        import_id_fields = ("title",)


class UnitResource(StrictResource):
    class Meta:
        model = Unit
        fields = ("name", "short_name", "kind", "email")
        import_id_fields = ("name",)


class TaskResource(StrictResource):
    class Meta:
        model = Task
        fields = ("title", "deadline")
