from nextedit.cli import main

main()
