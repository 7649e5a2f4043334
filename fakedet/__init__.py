"""fakedet: a GAN discriminator as a fake-image detector, one trial at a time.

Pure one-trial code, no Ray: `python -m fakedet --help`. The sweep over many trials is in
`sweeps/`, the statistics over their results in `analysis/`.

OpenMP threads wait passively (`OMP_WAIT_POLICY=PASSIVE`) unless the environment says
otherwise: spinning threads collapse a multi-threaded CPU step as soon as another
process holds one of the cores (BENCHMARKS.md, "CPU threads on a shared machine"). It is
set here, on the package's import, because OpenMP reads it once, when torch loads.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.2.0"
