import sys

from kronbox.cli import main

sys.exit(main())
