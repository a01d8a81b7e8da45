"""What every spreadsheet import and export in dtiplan shares, whatever app it belongs to.

People send us what Excel saves: CSV in UTF-8 with a byte-order mark or in the Windows
Vietnamese code page (cp1258), or XLSX. Their headers are our English column names or the
Vietnamese headers of real plan tables (each app declares its own, next to its resources).
This package turns that into rows our resources can trust, and turns every problem into a
message that names the row as the user sees it in the spreadsheet (the header is row 1, the
first data row is row 2) and the column by the header the user wrote.

Modules, by concern: ``text`` (cleaning, splitting names), ``cells`` (typed cell parsers),
``names`` (finding objects by typed names), ``headers`` (header comparison), ``files`` (reading
CSV/XLSX), ``errors`` (problems as the user sees them), ``exports`` (rendering cells, formula
escaping), ``resources`` (the all-or-nothing base resource), ``admin`` (the admin mixin).
It imports no domain app: indicators, plans and notifications build on it.
"""
