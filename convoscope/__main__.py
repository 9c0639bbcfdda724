import sys

from convoscope.cli import main

sys.exit(main())
