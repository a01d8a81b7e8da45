"""What every spreadsheet import and export in dtiplan shares (placeholder, hardened next)."""

from __future__ import annotations

from import_export import resources


class StrictResource(resources.ModelResource):
    """All or nothing: one bad row imports nothing, whoever calls ``import_data``."""

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None,
                    collect_failed_rows=False, rollback_on_validation_errors=False, **kwargs):
        return super().import_data(
            dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True,
            collect_failed_rows=collect_failed_rows, rollback_on_validation_errors=True, **kwargs)


class SafeImportMixin:
    """Admin mixin: limits uploads (placeholder)."""
