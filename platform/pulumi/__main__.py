"""Entry point of the Pulumi program (``pulumi up`` runs this file)."""

from todo_platform.program import main

main()
