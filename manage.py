#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dtiplan.settings")
    # manage.py is the developer's tool: unset, DEBUG means development here. What serves
    # people (wsgi.py, the Celery worker and beat) defaults to production, and a production
    # environment sets DEBUG=false for every command (docs/operations.md).
    os.environ.setdefault("DEBUG", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
