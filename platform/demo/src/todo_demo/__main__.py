"""``python -m todo_demo``: the demo (see :mod:`todo_demo.run`)."""

import sys

from todo_demo.run import main

sys.exit(main())
