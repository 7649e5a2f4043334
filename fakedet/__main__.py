"""`python -m fakedet`: one trial (see `fakedet.trial`).

It says what it runs and its expected training time first; a trial over 10 minutes (such
as the bare command: the full 100-epoch `brownlee` trial) needs `--yes`.
"""

import sys

from fakedet.trial import main

sys.exit(main())
