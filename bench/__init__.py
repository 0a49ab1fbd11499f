"""ctxbench: datasets, tasks, the runner, the result store, reports and the CLI."""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
