import sys

from mo.cli import main

sys.exit(main())
