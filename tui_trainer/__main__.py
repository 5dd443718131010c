import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while Python is still loading the command line: nothing started
    print("tui-trainer: interrupted before training started", file=sys.stderr)
    sys.exit(130)

if __name__ == "__main__":  # guarded: the trainer process is spawned and re-imports __main__
    sys.exit(main())
