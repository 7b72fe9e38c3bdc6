"""`python -m claimwatch` runs the command line."""

import os

from claimwatch import supervise, temporary_server

if supervise.supervised():  # a pass: its server starts while the command line is imported
    temporary_server.start_early(os.environ)

from claimwatch.cli import cli

cli()
