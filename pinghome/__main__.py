import sys

from pinghome.cli import main

sys.exit(main())
