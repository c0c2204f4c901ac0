"""``python -m todo_emulator``: the same as ``python -m todo_emulator.server``."""

from todo_emulator.server import main

main()
