from relance.cli import main

main()
