"""`python -m fakedet`: one trial (see `fakedet.trial`)."""

import sys

from fakedet.trial import main

sys.exit(main())
