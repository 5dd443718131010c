import sys

from .cli import main

if __name__ == "__main__":  # guarded: the trainer process is spawned and re-imports __main__
    sys.exit(main())
