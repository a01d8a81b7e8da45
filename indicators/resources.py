from import_export import fields

from indicators.models import Indicator
from indicators.spreadsheets import StrictResource


class IndicatorResource(StrictResource):
    class Meta:
        model = Indicator
        fields = ("code", "name_vi", "name_en", "max_points", "scored")
