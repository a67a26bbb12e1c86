from mloop.cli.main import run

run()
