"""The steering committee's reports: read-only admin pages, their charts and downloads.

- ``queries``: every figure, as functions of the filters and ``now`` (aggregate queries: the
  number of queries does not grow with tasks);
- ``filters``: the django-filter FilterSet that turns a request into ``ReportFilters``;
- ``charts``: server-side SVG (no script, no internet);
- ``exports``: each report and the monthly pack as XLSX, the pack as DOCX;
- ``views`` and ``urls``: the admin pages under /admin/reports/.

The monthly e-mail is ``notifications``' business (it records who was sent which period); it
calls ``exports.pack_files``. See docs/reports.md.
"""
