"""Finding the table in a file laid out for people: the header row below any title rows
("PHỤ LỤC", "(Kèm theo Kế hoạch số ...)"), a header of two rows whose upper cells are merged
over the lower ones ("Đơn vị thực hiện" over "Chủ trì" and "Phối hợp"), the row numbering the
columns ("(1) (2) (3)") under it, and the header repeated where a table continues on a new
page or in a new Word table.

A grid is the rows of cells of a table as read from the file, a list or read lazily (merged
cells already hold their value in every cell they cover). Row numbers are the grid's, 1-based:
the spreadsheet's own row numbers for CSV and XLSX, the table's rows for Word.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Any

from dtiplan.spreadsheets.headers import IGNORED_HEADERS, header_key
from dtiplan.spreadsheets.text import clean_text

# How far down the title rows may push the header.
HEADER_SEARCH_ROWS = 15
_COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")


@dataclass
class Column:
    position: int  # in the grid's rows
    header: str  # as the user wrote it (the lower row's text under a merged upper cell)
    column: str | None  # ours, or None: unknown (ignored, or an error, as the resource says)
    ordinal: bool = False  # an "STT" column: ignored, but its text can mark a group row


@dataclass
class Table:
    columns: list[Column]
    # (row number, cells) of every row under the header, blank ones included; read lazily,
    # once, as the grids are (a streamed file is never in memory as a whole).
    rows: Iterator[tuple[int, list[Any]]] = field(default_factory=lambda: iter(()))
    header_row: int = 1  # the (last) header row's number


Recognise = Callable[[str], str | None]
# A grid's first rows, where its header may be, and the rest of its rows, not yet read.
_Head = tuple[list[Sequence[Any]], Iterator[Sequence[Any]]]


def find_table(grids: Iterable[Iterable[Sequence[Any]]], recognise: Recognise) -> Table | None:
    """The table whose header names the most columns ``recognise`` knows, with the rows of
    the grids that continue it (a later grid whose header is the same). None for no rows.

    Only the first rows of each grid are read here; the table's rows are read as
    ``Table.rows`` is iterated."""
    heads: list[_Head] = []
    for grid in grids:
        rows = iter(grid)
        # The header search's rows and the one under the last (a two-row header's lower half).
        heads.append((list(islice(rows, HEADER_SEARCH_ROWS + 1)), rows))
    best: tuple[int, int, int] | None = None  # (recognised columns, grid, header row index)
    for index, (head, _rest) in enumerate(heads):
        for row_index in range(min(len(head), HEADER_SEARCH_ROWS)):
            count = len({c for cell in head[row_index] if (c := recognise(clean_text(cell)))})
            if count and (best is None or count > best[0]):
                best = (count, index, row_index)
    if best is None:
        # Nobody's header: read the first row as one, so that its columns are reported.
        grid_index = next((i for i, (head, _rest) in enumerate(heads) if head), None)
        if grid_index is None:
            return None
        best = (0, grid_index, 0)
    _count, grid_index, header_index = best
    grid = heads[grid_index][0]
    if header_index > 0:
        # The row found may be the lower half of a two-row header (its lower cells name more
        # columns than the merged cells above them): the header starts one row up. A title
        # row, one text merged across, is never an upper half.
        above = [clean_text(cell) for cell in grid[header_index - 1]]
        found = [clean_text(cell) for cell in grid[header_index]]
        if same_text(above) is None and _is_lower_header(above, found, recognise):
            header_index -= 1
    columns, last_header = _header(grid, header_index, recognise)
    height = last_header - header_index + 1
    signature = _signature(grid, header_index, last_header)
    return Table(
        columns=columns,
        header_row=last_header + 1,
        rows=_table_rows(heads[grid_index:], last_header + 1, signature, height),
    )


def _table_rows(
    heads: list[_Head], start: int, signature: tuple[str, ...], height: int
) -> Iterator[tuple[int, list[Any]]]:
    """The rows of the table's grid from ``start``, then those of each later grid that
    continues it (starts with the same header). Rows are numbered from the table's grid's
    first row, through the later grids."""
    offset = 0
    for position, (head, rest) in enumerate(heads):
        if position > 0:
            # A later table continues this one when it starts with the same header.
            found = next(
                (
                    i
                    for i in range(min(len(head), HEADER_SEARCH_ROWS))
                    if _signature(head, i, i + height - 1) == signature
                ),
                None,
            )
            start = found + height if found is not None else -1
        offset += yield from _grid_rows(chain(head, rest), start, signature, height, offset)


def _header(
    grid: Sequence[Sequence[Any]], index: int, recognise: Recognise
) -> tuple[list[Column], int]:
    """The columns named by the header at ``index``, and the index of its last row (the next
    one too when it is the lower half of a two-row header)."""
    top = [clean_text(cell) for cell in grid[index]]
    below = [clean_text(cell) for cell in grid[index + 1]] if index + 1 < len(grid) else None
    two_rows = below is not None and _is_lower_header(top, below, recognise)
    columns: list[Column] = []
    for position, upper in enumerate(top):
        lower = below[position] if two_rows and below is not None else ""
        header, column = upper, recognise(upper)
        if lower and lower != upper:
            for candidate in (f"{upper} {lower}", lower):
                if (found := recognise(candidate)) is not None:
                    column = found
                    break
            header = lower
        columns.append(
            Column(position, header, column, ordinal=header_key(header) in IGNORED_HEADERS)
        )
    return columns, index + 1 if two_rows else index


def _is_lower_header(top: list[str], below: list[str], recognise: Recognise) -> bool:
    """The row under a header is its lower half when each of its cells is empty, the same as
    above (a cell merged down over both rows) or a header we know, and one of them is new."""
    new = False
    for upper, lower in zip(top, below, strict=False):
        if not lower or lower == upper:
            continue
        if recognise(f"{upper} {lower}") is None and recognise(lower) is None:
            return False
        new = True
    return new


def _signature(grid: Sequence[Sequence[Any]], first: int, last: int) -> tuple[str, ...]:
    rows = grid[first : last + 1]
    return tuple(header_key(cell) for row in rows for cell in row)


def _grid_rows(
    grid: Iterator[Sequence[Any]],
    start: int,
    signature: tuple[str, ...],
    header_height: int,
    offset: int,
) -> Generator[tuple[int, list[Any]], None, int]:
    """The grid's rows from index ``start`` (none when it is -1), without the header where
    it repeats (a new page) and the column numbers under a header. Returns how many rows the
    grid has, read to its end."""
    window: deque[Sequence[Any]] = deque()  # the rows from ``index`` on, read ahead

    def ahead(count: int) -> list[Sequence[Any]]:
        while len(window) < count and (row := next(grid, None)) is not None:
            window.append(row)
        return list(islice(window, count))

    index = 0
    numbering_allowed = True
    while ahead(1):
        if start < 0 or index < start:
            window.popleft()
            index += 1
            continue
        if _signature(ahead(header_height), 0, header_height - 1) == signature:
            # The header repeated (a new page); its column numbers may follow again.
            for _row in range(header_height):
                window.popleft()
            index += header_height
            numbering_allowed = True
            continue
        row = list(window.popleft())
        if numbering_allowed and _numbers_the_columns(row):
            index += 1
            continue
        numbering_allowed = False
        yield (offset + index + 1, row)
        index += 1
    return index


def _numbers_the_columns(row: Sequence[Any]) -> bool:
    """The row under a header that numbers its columns: "(1)", "(2)", ... or 1, 2, 3."""
    texts = [clean_text(cell) for cell in row]
    filled = [text for text in texts if text]
    return len(filled) >= 2 and all(_COLUMN_NUMBER.match(text) for text in filled)


def same_text(cells: Sequence[Any]) -> str | None:
    """The text of a row whose filled cells all say the same (one heading merged across the
    table, or written in one cell), else None."""
    texts = {clean_text(cell) for cell in cells} - {""}
    return texts.pop() if len(texts) == 1 else None
