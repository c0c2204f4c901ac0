from todo_bootstrap.program import main

main()
