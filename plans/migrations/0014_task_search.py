"""The index of the admin's task search (``plans.search``), on PostgreSQL:

- the ``unaccent`` extension;
- the text search configuration ``dtiplan_search``: ``simple`` (lower case, no stemming, no
  stop words) with the ``unaccent`` dictionary in front of it for words with letters;
- the column ``plans_task.search_words``, generated and stored by the database: the task's
  title words as written (lower case, ``simple``) and without accents (``dtiplan_search``),
  and two entries no title gives (they hold a space), its indicator ("indicator 12") and its
  lead unit ("unit 7"). The model does not name it: Django
  never reads or writes it;
- the GIN index ``task_search`` of that column.

Nothing on other databases (they search with ``icontains``).

``unaccent`` is a trusted extension (PostgreSQL 13 and later): the database's owner may create
it without being superuser. Where the role running migrations may not, a superuser creates it
once beforehand (``CREATE EXTENSION unaccent;`` in the database); this migration then finds it,
in whichever schema it is.
"""

from django.db import migrations

WORD_TOKENS = "word, numword, hword, numhword, hword_part, hword_numpart"


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT extnamespace::regnamespace::text, current_schema()::regnamespace::text"
            " FROM pg_extension WHERE extname = 'unaccent'"
        )
        unaccent_schema, schema = cursor.fetchone()
    config = f"{schema}.dtiplan_search"
    schema_editor.execute(f"CREATE TEXT SEARCH CONFIGURATION {config} (COPY = pg_catalog.simple)")
    # Words with letters (Vietnamese ones are "word", not "asciiword") lose their accents and
    # đ, then are lower-cased; numbers, codes ("5.3") and ASCII words are lower-cased only.
    schema_editor.execute(
        f"ALTER TEXT SEARCH CONFIGURATION {config} ALTER MAPPING FOR {WORD_TOKENS}"
        f" WITH {unaccent_schema}.unaccent, pg_catalog.simple"
    )
    # The task's words, kept in a column of their own (computed by the database whenever the
    # title, the indicator or the lead unit changes): the index is made of it, and a task the
    # index finds is not worked out again (unaccent looks up each word) to be checked.
    schema_editor.execute(
        f"""
        ALTER TABLE plans_task ADD COLUMN search_words tsvector GENERATED ALWAYS AS (
            to_tsvector('pg_catalog.simple'::regconfig, normalize(title, NFC))
            || to_tsvector('{config}'::regconfig, title)
            -- Without NULLs: a row missing its unit is refused by its NOT NULL constraint.
            || array_to_tsvector(array_remove(ARRAY['indicator ' || indicator_id::text,
                                                    'unit ' || lead_unit_id::text], NULL))
        ) STORED
        """
    )
    schema_editor.execute("CREATE INDEX task_search ON plans_task USING gin (search_words)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: it may have been there before, or serve something else.
    schema_editor.execute("DROP INDEX IF EXISTS task_search")
    schema_editor.execute("ALTER TABLE plans_task DROP COLUMN IF EXISTS search_words")
    schema_editor.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS dtiplan_search")


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0013_unit_indexes"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
