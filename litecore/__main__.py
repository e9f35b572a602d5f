from litecore.cli import main

main()
